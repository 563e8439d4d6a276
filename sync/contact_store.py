"""What corrected contact details out reads and writes in the database: the records to push to with the
candidate as ScaleUp has them now, then each push's baseline, outcomes and the link channel's digest."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ats.registry import spec_of
from ats.types import EmailAddress
from core.contacts import EMAIL_PREFERENCE
from core.vocabulary import EmailType, Vendor
from storage.contact_records import ContactEventRepository, SentContact
from storage.enums import AlertKind
from storage.models import Alert, AtsConnection, Candidate, CandidateEmail, Export, Link, Search
from storage.repositories import raise_alert
from storage.states import ExportState
from storage.sync_models import AtsRecord
from sync.contact_plan import Action, Field, Wanted

#: `ats_record.status` of a record a push found gone: told once, never written to again.
GONE_STATUSES = ("deleted", "merged")


@dataclass(frozen=True)
class Target:
    """One ATS record this app created for the candidate, with what the app last sent it."""

    candidate_id: int
    export_id: int
    link_id: int
    connection_id: int
    vendor: Vendor
    ats_candidate_id: str
    record_url: str | None
    sent: SentContact | None
    told: frozenset[str]
    wanted: Wanted
    known: tuple[str, ...]  # every address of the candidate (a legacy record's "added by the app")


def targets(session: Session, team_id: str, ids: Sequence[int]) -> list[Target]:
    """Return the records to push the candidates' contact details to: exported by this app (a record the
    ATS had already is theirs), not found gone, one per ATS person."""
    rows = session.execute(
        select(Export, AtsRecord, Link.email_types, AtsConnection.vendor)
        .join(AtsRecord, AtsRecord.export_id == Export.id)
        .join(Link, Link.id == Export.link_id)
        .join(AtsConnection, AtsConnection.id == AtsRecord.connection_id)
        .where(
            Export.team_id == team_id,
            Export.candidate_id.in_(list(ids)),
            Export.state == ExportState.EXPORTED,
            AtsRecord.status.not_in(GONE_STATUSES),
        )
        .order_by(Export.id)
    ).all()
    if not rows:
        return []
    people = {
        c.id: c
        for c in session.scalars(
            select(Candidate).where(Candidate.team_id == team_id, Candidate.id.in_(list(ids)))
        )
    }
    emails: dict[int, list[CandidateEmail]] = {}
    for email in session.scalars(
        select(CandidateEmail)
        .where(CandidateEmail.team_id == team_id, CandidateEmail.candidate_id.in_(list(ids)))
        .order_by(CandidateEmail.id)
    ):
        emails.setdefault(email.candidate_id, []).append(email)
    seen: set[tuple[int, str]] = set()
    found = []
    for export, record, email_types, vendor in rows:
        person = people.get(export.candidate_id)
        if person is None or (record.connection_id, record.ats_candidate_id) in seen:
            continue  # one person on two links: one push
        seen.add((record.connection_id, record.ats_candidate_id))
        own = emails.get(person.id, [])
        found.append(
            Target(
                candidate_id=person.id,
                export_id=export.id,
                link_id=export.link_id,
                connection_id=record.connection_id,
                vendor=Vendor(vendor),
                ats_candidate_id=record.ats_candidate_id,
                record_url=record.record_url or export.ats_profile_url,
                sent=SentContact.of_json(record.contact_sent),
                told=frozenset(record.contact_told or ()),
                wanted=Wanted(
                    first_name=person.first_name,
                    last_name=person.last_name,
                    phone=person.phone,
                    linkedin_url=person.linkedin_url,
                    emails=_chosen(own, email_types or ()),
                    wrong=tuple(e.address for e in own if e.wrong_at is not None),
                ),
                known=tuple(e.address for e in own),
            )
        )
    return found


def _chosen(emails: list[CandidateEmail], types: Sequence[str]) -> tuple[EmailAddress, ...]:
    """Return the valid addresses of the link's types (every type when none is chosen), preferred first:
    the choice `exports.emails.choose_emails` makes for an export."""
    wanted = {EmailType(t) for t in types} or set(EmailType)
    usable = [e for e in emails if e.valid and e.wrong_at is None and EmailType(e.type) in wanted]
    usable.sort(key=lambda e: EMAIL_PREFERENCE.index(EmailType(e.type)))
    return tuple(EmailAddress(e.address, EmailType(e.type)) for e in usable)


def save(
    session: Session,
    team_id: str,
    target: Target,
    *,
    sent: SentContact | None,
    told: frozenset[str] | None,
    outcomes: Sequence[tuple[Field, Action]],
    actor: str,
    now: datetime,
    gone: str | None = None,
) -> None:
    """Store one push: the new baseline and conflicts told, the outcomes (history), a record found gone."""
    record = session.scalars(
        select(AtsRecord).where(AtsRecord.team_id == team_id, AtsRecord.export_id == target.export_id)
    ).first()
    if record is None:
        return
    if sent is not None:
        record.contact_sent = sent.to_json()
    if told is not None:
        record.contact_told = sorted(told) or None
    if gone is not None:
        record.status, record.synced_at, record.source = gone, now, "read"
    ContactEventRepository(session, team_id).record(
        target.candidate_id, target.export_id, [(f.value, a.value) for f, a in outcomes], actor=actor, at=now
    )


def digest_line(vendor: Vendor, outcomes: Sequence[tuple[Field, Action]], gone: str | None) -> str:
    """Return what one record's push says in the channel: field names and what happened, never a value."""
    label = spec_of(vendor).label
    if gone is not None:
        return f"record {gone} in {label}: reported, not recreated"
    parts = []
    written = [f"{f.value} {a.value}" for f, a in outcomes if a.wrote]
    if written:
        parts.append(", ".join(written))
    conflicts = [f.value for f, a in outcomes if a is Action.CONFLICT]
    if conflicts:
        parts.append(f"{', '.join(conflicts)} changed in {label} since the export: theirs kept")
    if any(a is Action.NOT_SUPPORTED for _, a in outcomes):
        parts.append(f"an address marked wrong must be removed by hand in {label}")
    if any(a is Action.ONE_ADDRESS for _, a in outcomes):
        parts.append(f"{label} keeps one address per candidate: the new one was not added")
    return " · ".join(parts)


def tally_of(items: Sequence[tuple[Sequence[tuple[Field, Action]], str | None]]) -> dict[str, int]:
    """Return per digest line how many records it counts: updated, conflict, by hand, gone."""
    tally = {"updated": 0, "conflict": 0, "by_hand": 0, "one_address": 0, "gone": 0}
    for outcomes, gone in items:
        actions = {a for _, a in outcomes}
        tally["gone"] += gone is not None
        tally["updated"] += any(a.wrote for a in actions)
        tally["conflict"] += Action.CONFLICT in actions
        tally["by_hand"] += Action.NOT_SUPPORTED in actions
        tally["one_address"] += Action.ONE_ADDRESS in actions
    return {k: v for k, v in tally.items() if v}


def raise_digest(
    session: Session, team_id: str, link_id: int, entries: list[dict[str, object]], tally: dict[str, int]
) -> Alert | None:
    """Write the link channel's digest of one push (`AlertKind.CONTACTS`); None when nothing is worth telling."""
    if not tally:
        return None
    link = session.get(Link, link_id)
    if link is None or link.team_id != team_id:
        return None
    search = session.get(Search, link.search_id)
    return raise_alert(
        session,
        team_id,
        kind=AlertKind.CONTACTS,
        incident_key=f"contacts:link-{link.id}:{uuid.uuid4().hex[:12]}",  # one digest per push
        link_id=link.id,
        channel=link.alert_channel,
        payload={"search": search.name if search else None, "job": link.job_name, "tally": tally},
        candidates=entries,
    )
