"""What the next pass over a link would do to each candidate of its search, decided now and written nowhere.

The preview decides through the engine's own function (`eligibility.decide_many`, the email rule and the
dedupe mirror), on the same candidates a pass takes (`eligibility.new_eligible_ids`), so the two cannot
drift: `tests/exports/test_preview.py` runs a preview, then a pass, and checks the pass did what it said.
It reads the local copies only (the search, the records, the mirror of the ATS): no ATS call, so it answers
within Slack's time limits; a pass refreshes the mirror first, so someone added to the ATS in between is
the one difference a preview cannot see.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from ats.types import Capabilities
from exports.eligibility import Verdict, decide_many, load_facts, new_eligible_ids
from exports.links import LinkSnapshot
from storage.enums import LinkMode
from storage.models import Candidate, Export, SearchCandidate
from storage.states import ExportState

_CHUNK = 500


class Outcome(StrEnum):
    """What the next pass does to one candidate."""

    EXPORT = "export"  # sent to the ATS (on a manual link: when someone exports them)
    ADD_EXISTING = "add_existing"  # in the ATS already: their record is added to the link's job
    LINK_EXISTING = "link_existing"  # in the ATS already: their record is linked, nothing is sent
    HELD_BACK = "held_back"  # in the ATS already, and the link holds such people back
    LEFT_OUT = "left_out"  # in an exclusion-only ATS (BambooHR): left out of outreach
    WAITS_FOR_EMAIL = "waits_for_email"  # no valid email of the link's types: Reachout on LinkedIn
    NOT_MATCHING = "not_matching"  # not a responder of the link's response types
    NOT_IN_ATS = "not_in_ats"  # exclusion-only ATS that does not know them: nothing to do
    UNCHANGED = "unchanged"  # the link's record is past deciding (exported, failed…): stays as it is

    @property
    def label(self) -> str:
        """Return the outcome as recruiters read it."""
        return _LABELS[self]

    @property
    def states(self) -> frozenset[ExportState | None]:
        """Return the states a pass may leave the candidate in (None: no record)."""
        return _STATES[self]


_LABELS = {
    Outcome.EXPORT: "Would be exported",
    Outcome.ADD_EXISTING: "Already in the ATS: added to the job",
    Outcome.LINK_EXISTING: "Already in the ATS: linked, not created again",
    Outcome.HELD_BACK: "Already in the ATS: held back",
    Outcome.LEFT_OUT: "In the ATS: left out of outreach",
    Outcome.WAITS_FOR_EMAIL: "Waits for an email (Reachout on LinkedIn)",
    Outcome.NOT_MATCHING: "Not matching the link's responders and response types",
    Outcome.NOT_IN_ATS: "Not in the ATS: nothing to leave out",
    Outcome.UNCHANGED: "Already handled: stays as it is",
}

# Greenhouse and Ashby show a new record a little later (`processing`); linking an existing record to the
# job is recorded as `duplicate`, like a record found without adding it.
_STATES: dict[Outcome, frozenset[ExportState | None]] = {
    Outcome.EXPORT: frozenset({ExportState.EXPORTED, ExportState.PROCESSING}),
    Outcome.ADD_EXISTING: frozenset({ExportState.DUPLICATE}),
    Outcome.LINK_EXISTING: frozenset({ExportState.DUPLICATE}),
    Outcome.HELD_BACK: frozenset({ExportState.EXCLUDED}),
    Outcome.LEFT_OUT: frozenset({ExportState.EXCLUDED}),
    Outcome.WAITS_FOR_EMAIL: frozenset({ExportState.REACHOUT_ON_LINKEDIN}),
    Outcome.NOT_MATCHING: frozenset({None}),
    Outcome.NOT_IN_ATS: frozenset({None}),
    Outcome.UNCHANGED: frozenset(),  # the state it has now
}

#: Records a pass decides again (the others are past deciding).
_OPEN = frozenset({ExportState.PENDING, ExportState.REACHOUT_ON_LINKEDIN})


@dataclass(frozen=True)
class PreviewRow:
    """One candidate of the search and what the next pass does to them."""

    candidate_id: int
    source_id: str | None
    name: str
    outcome: Outcome
    state: ExportState | None  # the link's record now (None: no record yet)
    matched_by: str | None = None  # how the ATS knows them ("email", "linkedin"), when it does


@dataclass(frozen=True)
class Preview:
    """Every candidate of a linked search with what the next pass would do, and the counts."""

    link_id: int
    search: str
    vendor: str
    job: str | None
    manual: bool
    rows: tuple[PreviewRow, ...]

    def counts(self) -> dict[Outcome, int]:
        """Return how many candidates each outcome has (every outcome, zeros included)."""
        found = Counter(row.outcome for row in self.rows)
        return {outcome: found[outcome] for outcome in Outcome}

    def of(self, outcome: Outcome) -> list[PreviewRow]:
        """Return the candidates with this outcome, in the search's order."""
        return [row for row in self.rows if row.outcome is outcome]

    def to_json(self) -> dict[str, object]:
        """Return the preview as `scaleup preview --json` prints it."""
        return {
            "link_id": self.link_id,
            "search": self.search,
            "vendor": self.vendor,
            "job": self.job,
            "manual": self.manual,
            "search_size": len(self.rows),
            "counts": {o.value: n for o, n in self.counts().items()},
            "candidates": [
                {
                    "id": row.source_id,
                    "name": row.name,
                    "outcome": row.outcome.value,
                    "state_now": row.state.value if row.state else None,
                    "matched_by": row.matched_by,
                }
                for row in self.rows
            ],
        }


def _outcome(verdict: Verdict, caps: Capabilities) -> Outcome:
    if caps.exclusion_only:
        return Outcome.LEFT_OUT if verdict is Verdict.EXCLUDED else Outcome.NOT_IN_ATS
    return {
        Verdict.EXPORT: Outcome.EXPORT,
        Verdict.LINK_EXISTING: Outcome.ADD_EXISTING,
        Verdict.DUPLICATE: Outcome.LINK_EXISTING,
        Verdict.EXCLUDED: Outcome.HELD_BACK,
        Verdict.REACHOUT: Outcome.WAITS_FOR_EMAIL,
        Verdict.NONE: Outcome.NOT_IN_ATS,
    }[verdict]


def preview_link(session: Session, view: LinkSnapshot, caps: Capabilities) -> Preview:
    """Return what the next pass over the link would do to each candidate of its search (reads only)."""
    members = list(
        session.execute(
            select(
                SearchCandidate.candidate_id, Candidate.source_id, Candidate.first_name, Candidate.last_name
            )
            .join(Candidate, Candidate.id == SearchCandidate.candidate_id)
            .where(SearchCandidate.team_id == view.team_id, SearchCandidate.search_id == view.search_id)
            .order_by(SearchCandidate.candidate_id)
        )
    )
    states = dict(
        session.execute(
            select(Export.candidate_id, Export.state).where(
                Export.team_id == view.team_id, Export.link_id == view.id
            )
        ).all()
    )
    # The candidates a pass would record: the same query the pass's sync runs.
    eligible = set(new_eligible_ids(session, view, in_mirror_only=False))
    rows: list[PreviewRow] = []
    for start in range(0, len(members), _CHUNK):
        chunk = members[start : start + _CHUNK]
        to_decide = [cid for cid, *_ in chunk if cid in eligible or states.get(cid) in _OPEN]
        decisions = decide_many(session, view, caps, load_facts(session, view.team_id, to_decide).values())
        for cid, source_id, first, last in chunk:
            state = ExportState(states[cid]) if cid in states else None
            decision = decisions.get(cid)
            if decision is not None:
                outcome = _outcome(decision.verdict, caps)
                matched = decision.hit.matched[0] if decision.hit else None
            elif state is None:
                outcome, matched = Outcome.NOT_MATCHING, None
            else:
                outcome, matched = Outcome.UNCHANGED, None
            name = " ".join(p for p in (first, last) if p)
            rows.append(PreviewRow(cid, source_id, name, outcome, state, matched))
    return Preview(
        link_id=view.id,
        search=view.search_name,
        vendor=view.vendor.value,
        job=view.job_name,
        manual=view.mode == LinkMode.MANUAL,
        rows=tuple(rows),
    )
