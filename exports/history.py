"""A candidate's export story, read from the one history table (`export_event`): every state change on every
link, with when, why and by whom or what, next to the ATS record the export created or found.

Nothing here writes; `/scaleup history`, the History button, `scaleup history` and
`GET /api/v1/candidates/{candidate_id}/history` all read through `candidate_history`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.vocabulary import Vendor
from storage.contact_records import ContactChange, ContactEventRepository
from storage.models import AtsConnection, Candidate, CandidateEmail, Export, ExportEvent, Link, Search
from storage.states import ExportState

#: The longest text looked for (an email address's limit).
MAX_QUERY = 320

#: What each automatic actor is, in words (people are `slack:U…` or a bare user id).
ACTORS = {
    "scheduler": "an automatic export pass",
    "sync": "a check of the link's candidates",
    "ingest": "new data from an import or the ingest API",
    "confirm": "the check that the ATS shows the record",
    "cli": "the scaleup command line",
}


@dataclass(frozen=True)
class Actor:
    """Who or what changed an export: a Slack user (`user_id`), or the app itself (`what`)."""

    raw: str
    user_id: str | None
    what: str | None

    @classmethod
    def of(cls, raw: str) -> Actor:
        # People are recorded as `slack:U…`; records written before that was everywhere hold a bare user id.
        user = raw.removeprefix("slack:")
        if user[:1] in ("U", "W") and user[1:].isalnum() and user.upper() == user:
            return cls(raw, user, None)
        return cls(raw, None, ACTORS.get(raw, raw))

    def words(self) -> str:
        """Return the actor as plain words (a person as their Slack user id)."""
        return f"Slack user {self.user_id}" if self.user_id else str(self.what)


@dataclass(frozen=True)
class HistoryEvent:
    """One state change."""

    at: datetime
    from_state: ExportState | None
    to_state: ExportState
    actor: Actor
    reason: str | None
    run_id: str | None = None  # the pass or manual export it happened in (`scaleup runs --run ID`)


@dataclass(frozen=True)
class LinkHistory:
    """One link's export of the candidate: where it stands, the ATS record, and how it got there."""

    link_id: int
    search: str
    vendor: Vendor
    job: str | None
    state: ExportState
    attempts: int
    ats_candidate_id: str | None
    ats_profile_url: str | None
    last_error: str | None
    events: tuple[HistoryEvent, ...]
    created_by_run: str | None = None  # the run whose ATS call created the record, when this app created it
    # What corrected contact details out did to the record (field and action, never a value), oldest first.
    contact_changes: tuple[ContactChange, ...] = ()


@dataclass(frozen=True)
class CandidateHistory:
    """Everything the app did with one candidate, link by link, oldest change first."""

    candidate_id: int
    source_id: str | None
    name: str
    links: tuple[LinkHistory, ...]

    @property
    def changes(self) -> int:
        return sum(len(link.events) for link in self.links)


def candidate_history(session: Session, team_id: str, candidate_id: int) -> CandidateHistory | None:
    """Return the candidate's story in the workspace, or None when the workspace has no such candidate."""
    candidate = session.scalar(
        select(Candidate).where(Candidate.team_id == team_id, Candidate.id == candidate_id)
    )
    if candidate is None:
        return None
    exports = session.execute(
        select(Export, Search.name, AtsConnection.vendor, Link.job_name)
        .join(Link, Link.id == Export.link_id)
        .join(Search, Search.id == Link.search_id)
        .join(AtsConnection, AtsConnection.id == Link.connection_id)
        .where(Export.team_id == team_id, Export.candidate_id == candidate_id)
        .order_by(Export.id)
    ).all()
    events: dict[int, list[HistoryEvent]] = {}
    rows = session.scalars(
        select(ExportEvent)
        .where(ExportEvent.team_id == team_id, ExportEvent.export_id.in_([e.id for e, *_ in exports]))
        .order_by(ExportEvent.id)
    )
    for row in rows:
        events.setdefault(row.export_id, []).append(
            HistoryEvent(
                at=row.at,
                from_state=ExportState(row.from_state) if row.from_state else None,
                to_state=ExportState(row.to_state),
                actor=Actor.of(row.actor),
                reason=row.reason,
                run_id=row.run_id,
            )
        )
    contact: dict[int, list[ContactChange]] = {}
    for change in ContactEventRepository(session, team_id).of_exports([e.id for e, *_ in exports]):
        contact.setdefault(change.export_id, []).append(change)
    links = tuple(
        LinkHistory(
            link_id=export.link_id,
            search=search,
            vendor=Vendor(vendor),
            job=job,
            state=ExportState(export.state),
            attempts=export.attempts,
            ats_candidate_id=export.ats_candidate_id,
            ats_profile_url=export.ats_profile_url,
            last_error=export.last_error_message,
            events=tuple(events.get(export.id, ())),
            created_by_run=export.run_id,
            contact_changes=tuple(contact.get(export.id, ())),
        )
        for export, search, vendor, job in exports
    )
    return CandidateHistory(candidate.id, candidate.source_id, candidate.full_name, links)


def find_candidates(session: Session, team_id: str, query: str, *, limit: int = 10) -> list[tuple[int, str]]:
    """Return (id, name) of the workspace's candidates known by this email address, source id or LinkedIn URL,
    else whose name contains `query`, most recently changed first."""
    # Control characters are never part of a name or an address, and a NUL ends the pattern early in SQLite
    # (matching everyone) and is refused by PostgreSQL; nothing longer than an email address is looked for.
    text = "".join(ch for ch in query if unicodedata.category(ch) != "Cc").strip()[:MAX_QUERY]
    if not text:
        return []
    by_email = select(CandidateEmail.candidate_id).where(
        CandidateEmail.team_id == team_id, CandidateEmail.address == text.lower()
    )
    exact = or_(Candidate.id.in_(by_email), Candidate.source_id == text, Candidate.linkedin_url == text)
    full_name = func.lower(Candidate.first_name + " " + Candidate.last_name)
    pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    for condition in (exact, full_name.like(pattern, escape="\\")):
        rows = session.execute(
            select(Candidate.id, Candidate.first_name, Candidate.last_name)
            .where(Candidate.team_id == team_id, condition)
            .order_by(Candidate.updated_at.desc(), Candidate.id.desc())
            .limit(limit)
        ).all()
        if rows:
            return [(cid, " ".join(p for p in (first, last) if p)) for cid, first, last in rows]
    return []
