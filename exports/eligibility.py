"""Which candidates of a linked search are eligible, and what the email rule and the mirror say about each.

Every export row is created here, under a lock on the link, so concurrent passes, manual exports and
ingest updates never race to create the same (link, candidate) row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from ats.types import Capabilities, EmailAddress
from core.vocabulary import EmailType
from exports.emails import choose_emails
from exports.links import LinkSnapshot
from exports.mirror import EMAIL, LINKEDIN, Key, MirrorHit, first_hit, match_many, person_keys
from storage.enums import Audience, ResponseType
from storage.export_repository import ExportRepository, NewExport
from storage.models import (
    AtsMirrorEntry,
    Campaign,
    CampaignResponse,
    Candidate,
    CandidateEmail,
    Export,
    SearchCandidate,
)
from storage.states import ExportState

_CHUNK = 500


class Verdict(StrEnum):
    """What the email rule and the dedupe mirror say should happen to a candidate."""

    EXPORT = "export"  # send it: valid email, not in the ATS
    LINK_EXISTING = "link_existing"  # in the ATS: add the existing record to the job
    DUPLICATE = "duplicate"  # in the ATS and nothing to call: record the existing id
    EXCLUDED = "excluded"  # in the ATS and the link excludes ATS candidates (or the vendor only excludes)
    REACHOUT = "reachout"  # no valid email of the link's types
    NONE = "none"  # exclusion-only vendor and not in the ATS: no record at all


@dataclass(frozen=True)
class Decision:
    """The verdict for one candidate, with the addresses to send and the mirror keys looked up."""

    verdict: Verdict
    emails: tuple[EmailAddress, ...] = ()
    keys: tuple[Key, ...] = ()
    hit: MirrorHit | None = field(default=None)


class EmailRow(Protocol):
    """An address as the email rule reads it (a `CandidateEmail`, or an `EmailFact`)."""

    @property
    def address(self) -> str: ...
    @property
    def type(self) -> EmailType | str: ...
    @property
    def valid(self) -> bool: ...


class Person(Protocol):
    """What the email rule and the mirror read of a candidate (a `Candidate`, or `PersonFacts`)."""

    @property
    def id(self) -> int: ...
    @property
    def linkedin_url(self) -> str | None: ...
    @property
    def emails(self) -> Sequence[EmailRow]: ...


@dataclass(frozen=True)
class EmailFact:
    """One stored address of a candidate, read without an ORM object."""

    address: str
    type: EmailType | str
    valid: bool


@dataclass(frozen=True)
class PersonFacts:
    """The fields `decide` needs of a candidate, read without ORM objects (`load_facts`)."""

    id: int
    linkedin_url: str | None
    emails: tuple[EmailFact, ...]


def load_facts(session: Session, team_id: str, candidate_ids: Iterable[int]) -> dict[int, PersonFacts]:
    """Return, by id, what the email rule and the mirror need of these candidates (two plain queries).

    Deciding thousands of candidates (a sync, a preflight) needs only their addresses and LinkedIn URL;
    loading full ORM objects with their email collections cost several times more CPU.
    """
    ids = sorted(set(candidate_ids))
    found: dict[int, PersonFacts] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        emails: dict[int, list[EmailFact]] = {}
        rows = session.execute(
            select(
                CandidateEmail.candidate_id, CandidateEmail.address, CandidateEmail.type, CandidateEmail.valid
            )
            .where(CandidateEmail.team_id == team_id, CandidateEmail.candidate_id.in_(chunk))
            .order_by(CandidateEmail.id)  # the order of `Candidate.emails`
        )
        for candidate_id, address, kind, valid in rows:
            emails.setdefault(candidate_id, []).append(EmailFact(address, kind, valid))
        people = session.execute(
            select(Candidate.id, Candidate.linkedin_url).where(
                Candidate.team_id == team_id, Candidate.id.in_(chunk)
            )
        )
        for candidate_id, linkedin_url in people:
            found[candidate_id] = PersonFacts(candidate_id, linkedin_url, tuple(emails.get(candidate_id, ())))
    return found


def sent_emails(view: LinkSnapshot, candidate: Person) -> tuple[EmailAddress, ...]:
    """Return the addresses an export of `candidate` through the link sends, the primary one first."""
    return choose_emails(((e.address, e.type, e.valid) for e in candidate.emails), view.email_types)


def lookup_keys(candidate: Person, sent: Sequence[EmailAddress]) -> tuple[Key, ...]:
    """Return everything the candidate is known by, to find them in the ATS: the addresses sent first, then
    every other stored address of any type, valid or not, then the LinkedIn URL.

    The link's email types decide only what is sent: a person the ATS knows by their personal address is
    the same person when the link exports work addresses.
    """
    addresses = [e.address for e in sent] + [e.address for e in candidate.emails]
    return tuple(person_keys(addresses, candidate.linkedin_url))


def decide(view: LinkSnapshot, caps: Capabilities, candidate: Person, hits: dict[Key, MirrorHit]) -> Decision:
    """Apply the email rule and the mirror to one candidate (no I/O; `hits` comes from `mirror.match_many`)."""
    emails = sent_emails(view, candidate)
    keys = lookup_keys(candidate, emails)
    hit = first_hit(keys, hits)
    if caps.exclusion_only:
        verdict = Verdict.EXCLUDED if hit else Verdict.NONE
    elif hit is not None and not view.include_ats_candidates:
        verdict = Verdict.EXCLUDED
    elif hit is not None:
        verdict = Verdict.LINK_EXISTING if caps.add_to_job and view.job_id else Verdict.DUPLICATE
    elif not emails:
        verdict = Verdict.REACHOUT
    else:
        verdict = Verdict.EXPORT
    return Decision(verdict, emails, keys, hit)


def load_candidates(session: Session, team_id: str, candidate_ids: Iterable[int]) -> dict[int, Candidate]:
    """Return the candidates with their emails loaded, by id."""
    ids = sorted(set(candidate_ids))
    found: dict[int, Candidate] = {}
    for start in range(0, len(ids), _CHUNK):
        stmt = (
            select(Candidate)
            .where(Candidate.team_id == team_id, Candidate.id.in_(ids[start : start + _CHUNK]))
            .options(selectinload(Candidate.emails))
        )
        found.update((c.id, c) for c in session.scalars(stmt))
    return found


def decide_many(
    session: Session, view: LinkSnapshot, caps: Capabilities, candidates: Iterable[Person]
) -> dict[int, Decision]:
    """Return the decision for each candidate, with one mirror query for all of them."""
    people = list(candidates)
    keys: list[Key] = []
    for candidate in people:
        keys.extend(lookup_keys(candidate, ()))
    hits = match_many(session, view.connection_id, keys)
    return {candidate.id: decide(view, caps, candidate, hits) for candidate in people}


def search_candidate_ids(session: Session, view: LinkSnapshot, candidate_ids: Sequence[int]) -> list[int]:
    """Return those of `candidate_ids` that are in the link's search, in the order given."""
    stmt = select(SearchCandidate.candidate_id).where(
        SearchCandidate.team_id == view.team_id,
        SearchCandidate.search_id == view.search_id,
        SearchCandidate.candidate_id.in_(list(candidate_ids)),
    )
    present = set(session.scalars(stmt))
    return [cid for cid in dict.fromkeys(candidate_ids) if cid in present]


def new_eligible_ids(
    session: Session,
    view: LinkSnapshot,
    candidate_ids: Sequence[int] | None = None,
    *,
    any_audience: bool = False,
    in_mirror_only: bool = False,
) -> list[int]:
    """Return the link's eligible candidates that have no export record yet (an indexed anti-join).

    See `new_eligible` for the arguments.
    """
    stmt = new_eligible(view, candidate_ids, any_audience=any_audience, in_mirror_only=in_mirror_only)
    return list(session.scalars(stmt.order_by(SearchCandidate.candidate_id)))


def count_new_eligible(session: Session, view: LinkSnapshot, *, in_mirror_only: bool = False) -> int:
    """Return how many of the link's eligible candidates have no export record yet."""
    stmt = new_eligible(view, in_mirror_only=in_mirror_only)
    return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def new_eligible(
    view: LinkSnapshot,
    candidate_ids: Sequence[int] | None = None,
    *,
    any_audience: bool = False,
    in_mirror_only: bool = False,
) -> Select[tuple[int]]:
    """Return the query of the link's eligible candidates that have no export record yet.

    Args:
        candidate_ids: only consider these.
        any_audience: ignore the responders filter (a recruiter chose these candidates by hand).
        in_mirror_only: only those with an email or LinkedIn URL the dedupe mirror holds (exclusion-only
            vendors never record the others, so a pass need not load them again and again).
    """
    member = SearchCandidate
    has_export = exists().where(Export.link_id == view.id, Export.candidate_id == member.candidate_id)
    stmt = select(member.candidate_id).where(
        member.team_id == view.team_id, member.search_id == view.search_id, ~has_export
    )
    if view.audience == Audience.RESPONDERS and not any_audience:
        responded = (
            select(CampaignResponse.id)
            .join(Campaign, Campaign.id == CampaignResponse.campaign_id)
            .where(
                Campaign.search_id == view.search_id,
                CampaignResponse.team_id == view.team_id,
                CampaignResponse.candidate_id == member.candidate_id,
            )
        )
        if view.response_types:
            responded = responded.where(
                CampaignResponse.type.in_([ResponseType(t) for t in view.response_types])
            )
        stmt = stmt.where(exists(responded))
    if candidate_ids is not None:
        stmt = stmt.where(member.candidate_id.in_(list(candidate_ids)))
    if in_mirror_only:
        known = AtsMirrorEntry.connection_id == view.connection_id
        by_email = exists().where(
            CandidateEmail.candidate_id == member.candidate_id,
            known,
            AtsMirrorEntry.kind == EMAIL,
            AtsMirrorEntry.value == CandidateEmail.address,
        )
        by_linkedin = exists().where(
            Candidate.id == member.candidate_id,
            known,
            AtsMirrorEntry.kind == LINKEDIN,
            AtsMirrorEntry.value == Candidate.linkedin_url,
        )
        stmt = stmt.where(or_(by_email, by_linkedin))
    return stmt


@dataclass
class SyncResult:
    """Which candidates a sync put in which state (new records and released Reachout candidates)."""

    by_state: dict[ExportState, list[int]] = field(default_factory=dict)

    def add(self, state: ExportState, candidate_id: int) -> None:
        """Note that `candidate_id` entered `state`."""
        self.by_state.setdefault(state, []).append(candidate_id)

    def of(self, state: ExportState) -> list[int]:
        """Return the candidates that entered `state`."""
        return self.by_state.get(state, [])


_VERDICT_STATE = {
    Verdict.EXPORT: ExportState.PENDING,
    Verdict.LINK_EXISTING: ExportState.PENDING,
    Verdict.DUPLICATE: ExportState.DUPLICATE,
    Verdict.EXCLUDED: ExportState.EXCLUDED,
    Verdict.REACHOUT: ExportState.REACHOUT_ON_LINKEDIN,
}


#: New candidates decided and written per statement by `sync_rows`.
SYNC_CHUNK = 500


def sync_rows(
    session: Session,
    view: LinkSnapshot,
    caps: Capabilities,
    *,
    actor: str,
    candidate_ids: Sequence[int] | None = None,
    any_audience: bool = False,
) -> SyncResult:
    """Create records for newly eligible candidates and release Reachout ones that now have an email.

    The caller must hold the link's row lock (`load_link(lock=True)`) so no two syncs create one row twice.
    """
    repo = ExportRepository(session, view.team_id)
    result = SyncResult()
    new_ids = new_eligible_ids(
        session, view, candidate_ids, any_audience=any_audience, in_mirror_only=caps.exclusion_only
    )
    waiting_stmt = repo.base_statement().where(
        Export.link_id == view.id, Export.state == ExportState.REACHOUT_ON_LINKEDIN
    )
    if candidate_ids is not None:
        waiting_stmt = waiting_stmt.where(Export.candidate_id.in_(list(candidate_ids)))
    else:
        # A pass looks only at those whose emails changed since they started waiting, not at every one.
        waiting_stmt = waiting_stmt.where(
            exists().where(
                CandidateEmail.candidate_id == Export.candidate_id,
                CandidateEmail.updated_at > Export.updated_at,
            )
        )
    waiting = list(session.scalars(waiting_stmt))
    # New records are decided and written a chunk at a time: a search with 100,000 new candidates must not
    # load them all at once, nor flush a model object per row (that kept 100k candidates' rows in memory).
    for start in range(0, len(new_ids), SYNC_CHUNK):
        chunk = new_ids[start : start + SYNC_CHUNK]
        decisions = decide_many(session, view, caps, load_facts(session, view.team_id, chunk).values())
        rows = []
        for candidate_id in chunk:
            decision = decisions.get(candidate_id)
            if decision is None or decision.verdict == Verdict.NONE:
                continue
            hit = decision.hit if decision.verdict in (Verdict.DUPLICATE, Verdict.EXCLUDED) else None
            rows.append(
                NewExport(
                    candidate_id=candidate_id,
                    state=_VERDICT_STATE[decision.verdict],
                    reason=_reason(decision),
                    ats_candidate_id=hit.ats_candidate_id if hit else None,
                    ats_profile_url=hit.profile_url if hit else None,
                )
            )
        repo.create_many(link_id=view.id, rows=rows, actor=actor)
        for row in rows:
            result.add(row.state, row.candidate_id)
    decisions = decide_many(
        session,
        view,
        caps,
        load_facts(session, view.team_id, [row.candidate_id for row in waiting]).values(),
    )
    for export in waiting:
        decision = decisions.get(export.candidate_id)
        if decision is None or decision.verdict in (Verdict.REACHOUT, Verdict.NONE):
            continue
        state = _VERDICT_STATE[decision.verdict]
        repo.transition(export, state, actor=actor, reason=_reason(decision))
        _note_hit(export, decision)
        result.add(state, export.candidate_id)
    session.flush()
    return result


def _note_hit(export: Export, decision: Decision) -> None:
    if decision.hit is not None and decision.verdict in (Verdict.DUPLICATE, Verdict.EXCLUDED):
        export.ats_candidate_id = decision.hit.ats_candidate_id
        export.ats_profile_url = decision.hit.profile_url


def _reason(decision: Decision) -> str:
    if decision.verdict == Verdict.REACHOUT:
        return "no valid email of the link's types"
    if decision.hit is not None:
        return f"already in the ATS (matched by {decision.hit.matched[0]})"
    return "eligible"
