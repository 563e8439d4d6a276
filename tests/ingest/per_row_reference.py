"""The candidate upsert as the import did it before issue 22, one record per transaction: the reference the
set-based path (`ingest.candidates`) is compared with. Tests only; the product has one path.

It is the per-row `Ingestor.upsert_candidate` of commit b41d1f0 with its look-ups made in the database for
each record (what its `CandidateIndex` answered for a batch of one): by source id, else by each email in
preference order, else by LinkedIn URL, the lowest id first.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.vocabulary import EmailType
from ingest.catalog import Catalog
from ingest.records import CandidateIn
from ingest.results import Conflict, Outcome
from storage.models import CampaignResponse, Candidate, CandidateEmail, Search, SearchCandidate

FIELDS = ("source_id", "first_name", "last_name", "linkedin_url", "title", "company", "location", "phone")


def upsert_candidate(
    session: Session, team_id: str, search: Search, record: CandidateIn
) -> tuple[Outcome, int, bool]:
    """Store one record; return its outcome, the candidate's id and whether it is handed to on_changed.

    Raises:
        Conflict: as the import always did (nothing of the record is written).
    """
    catalog = Catalog(session, team_id)
    emails = record.typed()
    candidate = _match(session, team_id, record, emails)
    if candidate is None:
        values = {name: getattr(record, name) for name in FIELDS}
        candidate = Candidate(
            team_id=team_id,
            **{**values, "last_name": values["last_name"] or ""},
            emails=[
                CandidateEmail(team_id=team_id, address=address, type=type_, valid=True)
                for type_, address in _distinct(emails)
            ],
        )
        session.add(candidate)
        session.flush()
        _join(session, team_id, search, candidate)
        _campaign_of_row(session, catalog, search, candidate, record)
        return Outcome.CREATED, candidate.id, True
    fields_changed = contact_changed = False
    for name in FIELDS:
        value = getattr(record, name)
        if value is not None and getattr(candidate, name) != value:
            setattr(candidate, name, value)
            fields_changed = True
            contact_changed |= name in ("first_name", "last_name", "linkedin_url", "phone")
    arrived = _apply_emails(session, team_id, candidate, emails)
    arrived |= _join(session, team_id, search, candidate)
    arrived |= _campaign_of_row(session, catalog, search, candidate, record)
    session.flush()
    outcome = Outcome.UPDATED if arrived or fields_changed else Outcome.UNCHANGED
    return outcome, candidate.id, arrived or contact_changed


def _get(session: Session, team_id: str, kind: str, value: str) -> Candidate | None:
    if kind == "source_id":
        criterion = Candidate.source_id == value
    elif kind == "email":
        owners = select(CandidateEmail.candidate_id).where(
            CandidateEmail.team_id == team_id, CandidateEmail.address == value
        )
        criterion = Candidate.id.in_(owners)
    else:
        criterion = Candidate.linkedin_url == value
    stmt = (
        select(Candidate)
        .where(Candidate.team_id == team_id, criterion)
        .options(selectinload(Candidate.emails))
        .order_by(Candidate.id)
        .limit(1)
    )
    return session.scalars(stmt).first()


def _match(
    session: Session, team_id: str, record: CandidateIn, emails: Mapping[EmailType, str]
) -> Candidate | None:
    if record.source_id:
        found = _get(session, team_id, "source_id", record.source_id)
        if found is not None:
            return found
    for kind, value in [*(("email", a) for _, a in _distinct(emails)), ("linkedin_url", record.linkedin_url)]:
        found = _get(session, team_id, kind, value) if value else None
        if found is None:
            continue
        if record.source_id and found.source_id not in (None, record.source_id):
            raise Conflict(
                "source_id",
                f"the {kind} {value} belongs to the candidate with id {found.source_id!r}, "
                f"not {record.source_id!r}",
            )
        return found
    return None


def _join(session: Session, team_id: str, search: Search, candidate: Candidate) -> bool:
    exists = session.scalar(
        select(SearchCandidate.id).where(
            SearchCandidate.search_id == search.id, SearchCandidate.candidate_id == candidate.id
        )
    )
    if exists is not None:
        return False
    session.add(SearchCandidate(team_id=team_id, search_id=search.id, candidate_id=candidate.id))
    session.flush()
    return True


def _apply_emails(
    session: Session, team_id: str, candidate: Candidate, emails: Mapping[EmailType, str | None]
) -> bool:
    stale = [e for e in candidate.emails if e.type in emails and e.address != emails[e.type]]
    for email in stale:
        candidate.emails.remove(email)
    if stale:
        session.flush()  # deletes before inserts: an address may move from one type to another
    changed = bool(stale)
    for type_, address in _distinct(emails):
        existing = next((e for e in candidate.emails if e.address == address), None)
        if existing is None:
            candidate.emails.append(CandidateEmail(team_id=team_id, address=address, type=type_, valid=True))
            changed = True
        elif existing.type != type_ or not existing.valid:
            existing.type, existing.valid = type_, True
            changed = True
    return changed


def _campaign_of_row(
    session: Session, catalog: Catalog, search: Search, candidate: Candidate, record: CandidateIn
) -> bool:
    if not record.campaign:
        return False
    campaign = catalog.settle_campaign(
        search, catalog.find_campaign(search, record.campaign, None), record.campaign, None
    )
    if record.response is None:
        return False
    exists = session.scalar(
        select(CampaignResponse.id).where(
            CampaignResponse.campaign_id == campaign.id,
            CampaignResponse.candidate_id == candidate.id,
            CampaignResponse.type == record.response,
        )
    )
    if exists is not None:
        return False
    session.add(
        CampaignResponse(
            team_id=candidate.team_id,
            campaign_id=campaign.id,
            candidate_id=candidate.id,
            type=record.response,
        )
    )
    session.flush()
    return True


def _distinct(emails: Mapping[EmailType, str | None]) -> list[tuple[EmailType, str]]:
    seen: set[str] = set()
    pairs = []
    for type_ in EmailType:
        address = emails.get(type_)
        if address and address not in seen:
            seen.add(address)
            pairs.append((type_, address))
    return pairs
