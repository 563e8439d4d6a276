"""Export records: one per (link, candidate), and every state change they go through, in one place.

`transition` is the only way an export changes state: it checks the move against `storage.states` and writes
the `export_event` the candidate's history is read from.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, insert, select

from storage.base import utcnow
from storage.models import Export, ExportEvent
from storage.repository import Repository
from storage.states import CREATED_STATES, ExportState, check_transition


class ExportRepository(Repository[Export]):
    """Export records: the one table every count and alert comes from."""

    model = Export

    def get_by_link_and_candidate(self, link_id: int, candidate_id: int) -> Export | None:
        """Return the export of `candidate_id` for `link_id`."""
        stmt = self.base_statement().where(Export.link_id == link_id, Export.candidate_id == candidate_id)
        return self.session.scalars(stmt).one_or_none()

    def create(
        self, *, link_id: int, candidate_id: int, state: ExportState, actor: str, reason: str | None = None
    ) -> Export:
        """Create the export record in its first state, with its idempotency key and first event."""
        check_transition(None, state)
        export = self.add(
            Export(
                link_id=link_id,
                candidate_id=candidate_id,
                state=state,
                idempotency_key=new_idempotency_key(),
                attempts=0,
            )
        )
        self.session.add(
            ExportEvent(
                team_id=self.team_id,
                export_id=export.id,
                from_state=None,
                to_state=state,
                actor=actor,
                reason=reason,
            )
        )
        return export

    def create_many(self, *, link_id: int, rows: Sequence[NewExport], actor: str) -> dict[int, int]:
        """Create many export records and their first events in two statements; return candidate -> export id.

        The same rules as `create` (first states only, a fresh idempotency key each), without loading a model
        object per row: a link whose search holds 100,000 new candidates must not hold them all in memory
        nor flush them one by one.
        """
        if not rows:
            return {}
        for row in rows:
            check_transition(None, row.state)
        now = utcnow()
        values = [
            {
                "team_id": self.team_id,
                "link_id": link_id,
                "candidate_id": row.candidate_id,
                "state": row.state,
                "idempotency_key": new_idempotency_key(),
                "attempts": 0,
                "outcome_unknown": False,
                "ats_candidate_id": row.ats_candidate_id,
                "ats_profile_url": row.ats_profile_url,
                "finished_at": now if row.state.is_final else None,
                "created_at": now,
                "updated_at": now,
            }
            for row in rows
        ]
        created = self.session.execute(
            insert(Export).returning(Export.candidate_id, Export.id, sort_by_parameter_order=True), values
        ).all()
        ids = {candidate_id: export_id for candidate_id, export_id in created}
        self.session.execute(
            insert(ExportEvent),
            [
                {
                    "team_id": self.team_id,
                    "export_id": ids[row.candidate_id],
                    "from_state": None,
                    "to_state": row.state,
                    "actor": actor,
                    "reason": row.reason,
                    "at": now,
                }
                for row in rows
            ],
        )
        return ids

    def transition(
        self,
        export: Export,
        target: ExportState,
        *,
        actor: str,
        reason: str | None = None,
        run_id: str | None = None,
        **changes: object,
    ) -> Export:
        """Move `export` to `target` if the transition table allows it, record the event, apply `changes`.

        `run_id` names the pass or manual export doing it; a record it sends to the ATS (exporting → processing
        or exported) is marked as that run's, which is what undoing the run takes back.
        """
        if export.team_id != self.team_id:
            raise ValueError("export belongs to another workspace")
        current = export.state
        check_transition(current, target)
        for name, value in changes.items():
            if not hasattr(Export, name):
                raise AttributeError(f"Export has no column {name!r}")
            setattr(export, name, value)
        if run_id is not None and current == ExportState.EXPORTING and target in CREATED_STATES:
            export.run_id = run_id
        export.state = target
        if target.is_final:
            export.finished_at = utcnow()
        self.session.add(
            ExportEvent(
                team_id=self.team_id,
                export_id=export.id,
                from_state=current,
                to_state=target,
                actor=actor,
                reason=reason,
                run_id=run_id,
            )
        )
        self.session.flush()
        return export

    def count_by_state(self, link_id: int) -> dict[ExportState, int]:
        """Return the number of the link's candidates in each state (every state present, zeros included)."""
        stmt = (
            select(Export.state, func.count())
            .where(Export.team_id == self.team_id, Export.link_id == link_id)
            .group_by(Export.state)
        )
        counts = {state: 0 for state in ExportState}
        for state, count in self.session.execute(stmt):
            counts[ExportState(state)] = count
        return counts

    def events(self, export_id: int) -> list[ExportEvent]:
        """Return the history of one export, oldest first."""
        stmt = (
            select(ExportEvent)
            .where(ExportEvent.team_id == self.team_id, ExportEvent.export_id == export_id)
            .order_by(ExportEvent.id)
        )
        return list(self.session.scalars(stmt))


@dataclass(frozen=True)
class NewExport:
    """One record for `ExportRepository.create_many`: the candidate, its first state and why."""

    candidate_id: int
    state: ExportState
    reason: str | None = None
    ats_candidate_id: str | None = None
    ats_profile_url: str | None = None


def new_idempotency_key() -> str:
    """Return a fresh idempotency key for an export."""
    return uuid.uuid4().hex
