"""What a recruiter is told about candidates: the preflight of a bulk export and each candidate's outcome."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ats.types import Capabilities
from exports.eligibility import Verdict, decide_many, load_facts, new_eligible_ids, search_candidate_ids
from exports.links import LinkSnapshot
from exports.types import ExportOutcome, Preflight
from storage.export_repository import ExportRepository
from storage.models import Export
from storage.states import ExportState

DONE_STATES = frozenset({ExportState.EXPORTED, ExportState.PROCESSING, ExportState.EXPORTING})
IN_ATS_STATES = frozenset({ExportState.DUPLICATE, ExportState.EXCLUDED})
_IN_ATS_VERDICTS = frozenset({Verdict.EXCLUDED, Verdict.LINK_EXISTING, Verdict.DUPLICATE})

MESSAGES = {
    ExportState.PENDING: "Waiting for the next export pass.",
    ExportState.REACHOUT_ON_LINKEDIN: "No valid email of the selected types: reach out on LinkedIn; "
    "they are exported as soon as an email arrives.",
    ExportState.EXCLUDED: "Already in the ATS, and this link excludes candidates already there.",
    ExportState.EXPORTING: "Being exported right now.",
    ExportState.PROCESSING: "Sent; waiting for the ATS to show the record.",
    ExportState.EXPORTED: "Exported.",
    ExportState.DUPLICATE: "Already in the ATS: the existing record was linked instead of creating a second one.",
    ExportState.FAILED: "Failed.",
}


def preflight(
    session: Session, view: LinkSnapshot, caps: Capabilities, candidate_ids: Sequence[int] | None
) -> Preflight:
    """Count what exporting these candidates (the link's eligible ones when None) would do, from the database."""
    if candidate_ids is None:
        recorded = select(Export.candidate_id).where(
            Export.team_id == view.team_id, Export.link_id == view.id
        )
        ids = [*session.scalars(recorded), *new_eligible_ids(session, view)]
    else:
        ids = search_candidate_ids(session, view, candidate_ids)
    states = dict(
        session.execute(
            select(Export.candidate_id, Export.state).where(
                Export.team_id == view.team_id, Export.link_id == view.id, Export.candidate_id.in_(ids)
            )
        ).all()
    )
    open_ids = [cid for cid in ids if states.get(cid) not in DONE_STATES | IN_ATS_STATES]
    decisions = decide_many(session, view, caps, load_facts(session, view.team_id, open_ids).values())
    verdicts = [decisions[cid].verdict for cid in open_ids if cid in decisions]
    done = sum(states.get(cid) in DONE_STATES for cid in ids)
    in_ats = sum(states.get(cid) in IN_ATS_STATES for cid in ids) + sum(
        v in _IN_ATS_VERDICTS for v in verdicts
    )
    missing = sum(v == Verdict.REACHOUT for v in verdicts)
    will = sum(v == Verdict.EXPORT for v in verdicts)
    return Preflight(
        total=done + in_ats + missing + will,
        will_export=will,
        missing_email=missing,
        already_in_ats=in_ats,
        already_done=done,
    )


def outcomes(session: Session, view: LinkSnapshot, candidate_ids: Sequence[int]) -> list[ExportOutcome]:
    """Return the outcome of each of these candidates that has a record, in the order given."""
    rows = ExportRepository(session, view.team_id).list(
        Export.link_id == view.id, Export.candidate_id.in_(list(candidate_ids))
    )
    by_candidate = {row.candidate_id: row for row in rows}
    return [outcome(by_candidate[cid]) for cid in candidate_ids if cid in by_candidate]


def outcome(export: Export) -> ExportOutcome:
    """Return where one export stands, with the message a recruiter reads."""
    state = ExportState(export.state)
    message = MESSAGES[state]
    if state == ExportState.FAILED and export.last_error_message:
        message = export.last_error_message
    elif state == ExportState.PENDING and export.last_error_message:
        message = f"Will retry: {export.last_error_message}"
    return ExportOutcome(
        candidate_id=export.candidate_id,
        state=state,
        ats_candidate_id=export.ats_candidate_id,
        profile_url=export.ats_profile_url,
        message=message,
        export_id=export.id,
    )
