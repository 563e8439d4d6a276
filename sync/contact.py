"""Corrected contact details out: a candidate ScaleUp exported gets their new addresses and phone in the ATS.

Called with the candidates an ingest changed (the API or `scaleup import`, through `bot.changes`). Only records
this app created are written to (people the ATS had already are theirs to keep), only the addresses the link
exports, and the adapters only add what is missing (`AtsAdapter.update_contact`): nothing a person added in
the ATS is removed, and an unchanged candidate costs a read, not a write. A big change (a whole file) is left
out, as its exports are left to the worker: corrections come one or a few at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ats.base import AtsAdapter
from ats.errors import AtsError
from ats.types import EmailAddress
from core.vocabulary import EmailType
from storage.db import unit_of_work
from storage.models import Candidate, CandidateEmail, Export, Link
from storage.states import ExportState
from storage.sync_models import AtsRecord

log = logging.getLogger(__name__)

#: Changes of at most this many candidates are pushed at once (the export-at-once bound of `exports.changes`).
PUSH_AT_ONCE_LIMIT = 25


def push_contacts(
    sessions: sessionmaker[Session],
    adapter_for: Callable[[int], AtsAdapter],
    team_id: str,
    candidate_ids: Sequence[int],
    *,
    limit: int = PUSH_AT_ONCE_LIMIT,
) -> int:
    """Send the changed candidates' addresses and phone to the records this app created; return how many
    records were brought up to date. Errors are logged, never raised (the data is stored either way)."""
    ids = sorted(set(candidate_ids))
    if not ids or len(ids) > limit:
        return 0
    with unit_of_work(sessions) as session:
        targets = _targets(session, team_id, ids)
    done = 0
    for connection_id, ats_candidate_id, emails, phone in targets:
        adapter = adapter_for(connection_id)
        if not adapter.capabilities.contact_update or not (emails or phone):
            continue
        try:
            adapter.update_contact(ats_candidate_id, emails=emails, phone=phone)
        except AtsError as exc:
            log.info("contact details of ATS record %s not updated: %s", ats_candidate_id, exc.code)
            continue
        done += 1
    return done


def _targets(
    session: Session, team_id: str, ids: list[int]
) -> list[tuple[int, str, tuple[EmailAddress, ...], str | None]]:
    rows = session.execute(
        select(Export.candidate_id, AtsRecord.connection_id, AtsRecord.ats_candidate_id, Link.email_types)
        .join(AtsRecord, AtsRecord.export_id == Export.id)
        .join(Link, Link.id == Export.link_id)
        .where(Export.team_id == team_id, Export.candidate_id.in_(ids), Export.state == ExportState.EXPORTED)
        .order_by(Export.id)
    ).all()
    if not rows:
        return []
    emails: dict[int, list[tuple[str, EmailType]]] = {}
    for candidate_id, address, kind in session.execute(
        select(CandidateEmail.candidate_id, CandidateEmail.address, CandidateEmail.type)
        .where(CandidateEmail.team_id == team_id, CandidateEmail.candidate_id.in_(ids), CandidateEmail.valid)
        .order_by(CandidateEmail.id)
    ):
        emails.setdefault(candidate_id, []).append((address, EmailType(kind)))
    phones: dict[int, str | None] = {
        candidate_id: phone
        for candidate_id, phone in session.execute(
            select(Candidate.id, Candidate.phone).where(Candidate.team_id == team_id, Candidate.id.in_(ids))
        )
    }
    seen: set[tuple[int, str]] = set()
    targets = []
    for candidate_id, connection_id, ats_candidate_id, email_types in rows:
        if (connection_id, ats_candidate_id) in seen:  # one person on two links: one update
            continue
        seen.add((connection_id, ats_candidate_id))
        wanted = set(email_types or ())
        chosen = tuple(
            EmailAddress(address, kind)
            for address, kind in emails.get(candidate_id, [])
            if not wanted or kind.value in wanted
        )
        targets.append((connection_id, ats_candidate_id, chosen, phones.get(candidate_id)))
    return targets
