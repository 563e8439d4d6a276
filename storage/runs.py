"""Export runs: the passes and manual exports of a link that created records in the ATS, scoped by workspace.

A run's id is the pass's alert id (`exports.alerts.PassAlerts.pass_id`), so the alerts a run raised and the
records it created name the same run. The row is written with the first record the run creates.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.base import utcnow
from storage.models import Candidate, Export, ExportRun, Link, Search


class RunRepository:
    """Reads and writes one workspace's export runs."""

    def __init__(self, session: Session, team_id: str) -> None:
        self.session = session
        self.team_id = team_id

    def note_created(self, run_id: str, *, link_id: int, actor: str, count: int = 1) -> None:
        """Count `count` more records created by the run, writing its row on the first."""
        now = utcnow()
        changed = self.session.execute(
            update(ExportRun)
            .where(ExportRun.team_id == self.team_id, ExportRun.id == run_id)
            .values(created=ExportRun.created + count, last_created_at=now)
        ).rowcount
        if not changed:
            self.session.add(
                ExportRun(
                    id=run_id,
                    team_id=self.team_id,
                    link_id=link_id,
                    actor=actor,
                    started_at=now,
                    last_created_at=now,
                    created=count,
                )
            )
            self.session.flush()

    def get(self, run_id: str) -> ExportRun | None:
        """Return the workspace's run with this id (None for another workspace's)."""
        return self.session.scalar(
            select(ExportRun).where(ExportRun.team_id == self.team_id, ExportRun.id == run_id)
        )

    def recent(self, *, limit: int = 50, search: str | None = None) -> list[tuple[ExportRun, str]]:
        """Return the newest runs with their search's name, newest first (only one search's when named)."""
        stmt = (
            select(ExportRun, Search.name)
            .join(Link, Link.id == ExportRun.link_id)
            .join(Search, Search.id == Link.search_id)
            .where(ExportRun.team_id == self.team_id)
            .order_by(ExportRun.started_at.desc(), ExportRun.id)
            .limit(limit)
        )
        if search is not None:
            stmt = stmt.where(Search.name == search)
        return [(run, name) for run, name in self.session.execute(stmt)]

    def created_by(self, run_id: str) -> Sequence[tuple[Export, Candidate]]:
        """Return the records the run created, with their candidates, in the order they were created."""
        stmt = (
            select(Export, Candidate)
            .join(Candidate, Candidate.id == Export.candidate_id)
            .where(Export.team_id == self.team_id, Export.run_id == run_id)
            .order_by(Export.id)
        )
        return [(export, candidate) for export, candidate in self.session.execute(stmt)]
