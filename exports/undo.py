"""Undo a run: take back in the ATS exactly the records one pass or manual export created.

Only the run's own records are touched (`export.run_id`, `storage.runs`): people the ATS had already were
linked or held back, never a run's. Each record still `exported` is taken back through the vendor's
reversible action (`AtsAdapter.withdraw`: reject, archive or disqualify, never an email to the candidate) and
becomes `undone`, which no pass exports again; a person exporting them by hand puts them back in line. A
record a person changed in the ATS since (moved, rejected, archived, hired) is left as it is and said so.
Undoing again is harmless: `undone` records are skipped, so an interrupted undo is finished by running it
again. `--dry-run` writes nothing and calls nothing.

Each record is claimed before its ATS call, as exports are (`exports.claims`): a lease (owner + expiry) and
`outcome_unknown`, committed first. A second undo running at the same time skips what the first holds. A
worker that dies between the vendor's answer and ours leaves the claim to expire with the outcome unknown;
the next undo then finds the record already rejected or archived and knows it was its own doing (the vendor's
"changed since" after an interrupted attempt of ours, confirmed by reading the record where the vendor can),
so it finishes the record instead of reporting a person's change.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from ats.base import AtsAdapter
from ats.errors import AtsError, ChangedSince, NotFound, NotSupported
from ats.types import AtsStatus, CreatedRecord
from core.errors import ScaleUpError
from exports.undo_report import report_undo
from storage.db import unit_of_work
from storage.enums import ExportAs
from storage.export_repository import ExportRepository
from storage.models import Export, Link
from storage.runs import RunRepository
from storage.states import ExportState

if TYPE_CHECKING:
    from exports.engine import ExportEngine

#: The reason sent with every record taken back (the vendor's note or reason text, where it takes one).
UNDO_REASON = "Exported by mistake: taken back with ScaleUp's Undo"
#: How long after a run Slack's "Undo this export" button still works (the CLI has no limit).
UNDO_WINDOW = timedelta(days=7)


class UndoOutcome(StrEnum):
    """What undoing did to one record of the run."""

    UNDONE = "undone"  # taken back in the ATS (or it was gone already)
    WOULD_UNDO = "would_undo"  # a dry run: it would be taken back
    CHANGED_SINCE = "changed_since"  # a person changed it in the ATS since: left as it is
    ALREADY_UNDONE = "already_undone"
    NOT_VISIBLE_YET = "not_visible_yet"  # still `processing`: undo again once the ATS shows it
    IN_PROGRESS = "in_progress"  # another undo holds it right now
    NOT_POSSIBLE = "not_possible"  # the vendor's API offers no way to take it back
    FAILED = "failed"  # the ATS refused or did not answer: undo again later

    @property
    def unfinished(self) -> bool:
        """Return True when undoing again later may still take the record back."""
        return self in (UndoOutcome.FAILED, UndoOutcome.IN_PROGRESS, UndoOutcome.NOT_VISIBLE_YET)


@dataclass(frozen=True)
class UndoItem:
    """One record of the run and what undoing did to it."""

    export_id: int
    candidate: str | None  # the source's id
    name: str
    outcome: UndoOutcome
    detail: str


@dataclass(frozen=True)
class UndoResult:
    """Every record the run created and what undoing did, in the order they were created."""

    run_id: str
    dry_run: bool
    items: tuple[UndoItem, ...]

    def counts(self) -> dict[UndoOutcome, int]:
        """Return how many records each outcome has (those with none left out)."""
        found = Counter(item.outcome for item in self.items)
        return {outcome: found[outcome] for outcome in UndoOutcome if found[outcome]}

    @property
    def finished(self) -> bool:
        """Return True when nothing is left that undoing again could take back."""
        return not any(item.outcome.unfinished for item in self.items)


class RunNotFound(ScaleUpError):
    """The workspace has no run with this id."""


def undo_run(
    engine: ExportEngine, team_id: str, run_id: str, *, actor: str, dry_run: bool = False
) -> UndoResult:
    """Take back the records run `run_id` created (see the module); `dry_run`: only say what would happen.

    Raises:
        RunNotFound: the workspace has no such run.
    """
    with unit_of_work(engine.sessions) as session:
        run = RunRepository(session, team_id).get(run_id)
        if run is None:
            raise RunNotFound(
                f"There is no run {run_id!r} in this workspace.", hint="`scaleup runs` lists them."
            )
        link = session.get(Link, run.link_id)
        created = [
            (
                export.id,
                candidate.source_id,
                candidate.full_name,
                ExportState(export.state),
                _record(export, link),
            )
            for export, candidate in RunRepository(session, team_id).created_by(run_id)
        ]
        connection_id = link.connection_id
    adapter = engine.adapter_for(connection_id)
    items = []
    for export_id, source_id, name, state, record in created:
        outcome, detail = _undo_one(engine, adapter, team_id, export_id, state, record, actor, dry_run)
        items.append(UndoItem(export_id, source_id, name, outcome, detail))
    result = UndoResult(run_id, dry_run, tuple(items))
    if not dry_run:
        with unit_of_work(engine.sessions) as session:
            report_undo(session, team_id, result, actor=actor, now=engine.config.now())
    return result


def _record(export: Export, link: Link) -> CreatedRecord:
    # Records exported before their placement was stored (migration 0004) went where the link said.
    placed = export.exported_as is not None
    return CreatedRecord(
        candidate_id=export.ats_candidate_id or "",
        application_id=export.ats_application_id,
        job_id=export.ats_job_id if placed else link.job_id,
        prospect=(export.exported_as if placed else link.export_as) == ExportAs.PROSPECT,
        stage_id=export.ats_stage_id if placed else link.stage_id,
    )


def _undo_one(
    engine: ExportEngine,
    adapter: AtsAdapter,
    team_id: str,
    export_id: int,
    state: ExportState,
    record: CreatedRecord,
    actor: str,
    dry_run: bool,
) -> tuple[UndoOutcome, str]:
    if state is ExportState.UNDONE:
        return UndoOutcome.ALREADY_UNDONE, "taken back before"
    if state is ExportState.PROCESSING:
        return UndoOutcome.NOT_VISIBLE_YET, "the ATS does not show it yet; undo again in a minute"
    if state is not ExportState.EXPORTED:
        return UndoOutcome.CHANGED_SINCE, f"it is {state.label.lower()} now"
    if not adapter.capabilities.withdraw:
        return UndoOutcome.NOT_POSSIBLE, f"{adapter.spec.label} offers no way to take a record back"
    if dry_run:
        return UndoOutcome.WOULD_UNDO, "would be taken back"
    claim = _claim(engine, team_id, export_id)
    if claim is None:
        return UndoOutcome.IN_PROGRESS, "another undo is taking it back right now"
    try:
        detail = adapter.withdraw(record, reason=UNDO_REASON).detail
    except ChangedSince as exc:
        if not (claim.resumed and _taken_back(adapter, record)):
            _release(engine, export_id, unknown=False)
            return UndoOutcome.CHANGED_SINCE, exc.user_message()
        detail = "taken back (by an earlier undo that was interrupted)"
    except NotFound:
        detail = "no longer in the ATS"
    except NotSupported as exc:
        _release(engine, export_id, unknown=False)
        return UndoOutcome.NOT_POSSIBLE, exc.user_message()
    except AtsError as exc:
        # A timeout or an outage may have happened after the vendor acted: keep the outcome unknown.
        _release(engine, export_id, unknown=exc.retryable)
        return UndoOutcome.FAILED, exc.user_message()
    with unit_of_work(engine.sessions) as session:
        repo = ExportRepository(session, team_id)
        export = repo.get(export_id)
        if export is not None and export.state == ExportState.EXPORTED:
            repo.transition(
                export,
                ExportState.UNDONE,
                actor=actor,
                reason=f"undone: {detail}",
                lease_owner=None,
                lease_expires_at=None,
                outcome_unknown=False,
            )
    return UndoOutcome.UNDONE, detail


@dataclass(frozen=True)
class _Claim:
    resumed: bool  # an earlier undo's ATS call on this record has no known outcome (it was interrupted)


def _claim(engine: ExportEngine, team_id: str, export_id: int) -> _Claim | None:
    """Lease an exported record for this undo (None when another undo holds it), outcome unknown from now."""
    now = engine.config.now()
    with unit_of_work(engine.sessions) as session:
        export = session.scalars(
            select(Export)
            .where(Export.team_id == team_id, Export.id == export_id, Export.state == ExportState.EXPORTED)
            .with_for_update()
        ).first()
        if export is None:
            return None
        if export.lease_owner and export.lease_expires_at and export.lease_expires_at > now:
            return None
        resumed = bool(export.outcome_unknown)
        export.lease_owner = engine.worker_id
        export.lease_expires_at = now + timedelta(seconds=engine.config.lease_seconds)
        export.outcome_unknown = True
    return _Claim(resumed)


def _release(engine: ExportEngine, export_id: int, *, unknown: bool) -> None:
    with unit_of_work(engine.sessions) as session:
        session.execute(
            update(Export)
            .where(Export.id == export_id, Export.lease_owner == engine.worker_id)
            .values(lease_owner=None, lease_expires_at=None, outcome_unknown=unknown)
            .execution_options(synchronize_session=False)
        )


def _taken_back(adapter: AtsAdapter, record: CreatedRecord) -> bool:
    """Return whether the record stands rejected or archived, as an interrupted undo of ours left it.

    Where the vendor cannot say (no status read-back), the interrupted attempt is the only evidence and is
    trusted: the window between its ATS call and its crash is the only time a person's change could hide.
    """
    if not adapter.capabilities.status_sync:
        return True
    try:
        status = adapter.record_status(record).status
    except NotFound:
        return True
    except AtsError:
        return False
    return status in (AtsStatus.REJECTED, AtsStatus.ARCHIVED)
