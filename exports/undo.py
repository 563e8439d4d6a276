"""Undo a run: take back in the ATS exactly the records one pass or manual export created.

Only the run's own records are touched (`export.run_id`, `storage.runs`): people the ATS had already were
linked or held back, never a run's. Each record still `exported` is taken back through the vendor's
reversible action (`AtsAdapter.withdraw`: reject, archive or disqualify, never an email to the candidate) and
becomes `undone`, which no pass exports again; a person exporting them by hand puts them back in line. A
record a person changed in the ATS since (moved, rejected, archived, hired) is left as it is and said so.
Undoing again is harmless: `undone` records are skipped, so an interrupted undo is finished by running it
again. `--dry-run` writes nothing and calls nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from ats.base import AtsAdapter
from ats.errors import AtsError, ChangedSince, NotFound, NotSupported
from ats.types import CreatedRecord
from core.errors import ScaleUpError
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


class UndoOutcome(StrEnum):
    """What undoing did to one record of the run."""

    UNDONE = "undone"  # taken back in the ATS (or it was gone already)
    WOULD_UNDO = "would_undo"  # a dry run: it would be taken back
    CHANGED_SINCE = "changed_since"  # a person changed it in the ATS since: left as it is
    ALREADY_UNDONE = "already_undone"
    NOT_VISIBLE_YET = "not_visible_yet"  # still `processing`: undo again once the ATS shows it
    NOT_POSSIBLE = "not_possible"  # the vendor's API offers no way to take it back
    FAILED = "failed"  # the ATS refused or did not answer: undo again later


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
    return UndoResult(run_id, dry_run, tuple(items))


def _record(export: Export, link: Link) -> CreatedRecord:
    return CreatedRecord(
        candidate_id=export.ats_candidate_id or "",
        application_id=export.ats_application_id,
        job_id=link.job_id,
        prospect=link.export_as == ExportAs.PROSPECT,
        stage_id=link.stage_id,
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
    try:
        detail = adapter.withdraw(record, reason=UNDO_REASON).detail
    except ChangedSince as exc:
        return UndoOutcome.CHANGED_SINCE, exc.user_message()
    except NotFound:
        detail = "no longer in the ATS"
    except NotSupported as exc:
        return UndoOutcome.NOT_POSSIBLE, exc.user_message()
    except AtsError as exc:
        return UndoOutcome.FAILED, exc.user_message()
    with unit_of_work(engine.sessions) as session:
        repo = ExportRepository(session, team_id)
        export = repo.get(export_id)
        if export is not None and export.state == ExportState.EXPORTED:
            repo.transition(export, ExportState.UNDONE, actor=actor, reason=f"undone: {detail}")
    return UndoOutcome.UNDONE, detail
