"""Webhook intake: a vendor's signed delivery, verified, acted on once, answered fast.

`receive` runs inside the HTTP request: it finds the connection by the URL's token, has the vendor's adapter
verify the signature and parse the events (no ATS call), drops deliveries already acted on, applies the
events whose payload carries the whole picture, and returns the records it must still read (a payload that
only names what changed) for the caller to read after answering (`read_back`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ats.base import AtsAdapter
from ats.errors import AtsError, NotFound, WebhookRejected
from ats.types import CreatedRecord
from storage.base import utcnow
from storage.db import unit_of_work
from storage.models import AtsConnection
from storage.sync_models import AtsRecord, WebhookDelivery
from sync.apply import apply_statuses

log = logging.getLogger(__name__)

#: Bodies above this are refused before they are read (vendors' change notifications are a few KB).
MAX_BODY = 1_048_576


@dataclass
class Intake:
    """The answer to one delivery, and the records to read once it is given."""

    status: int
    message: str
    connection_id: int | None = None
    to_read: list[int] = field(default_factory=list)  # ats_record ids
    applied: int = 0
    duplicates: int = 0


def receive(
    sessions: sessionmaker[Session],
    adapter_for: Callable[[int], AtsAdapter],
    token: str,
    headers: Mapping[str, str],
    body: bytes,
) -> Intake:
    """Verify and take in one delivery (see the module); never raises for what the sender controls."""
    with unit_of_work(sessions) as session:
        connection_id = session.scalar(
            select(AtsConnection.id).where(AtsConnection.webhook_token == token[:64])
        )
    if connection_id is None or not token:
        return Intake(
            404, "No ATS connection has this webhook address; reconnect the ATS to get the current one."
        )
    adapter = adapter_for(connection_id)
    try:
        events = adapter.read_webhook(headers, body)
    except WebhookRejected as exc:
        log.info("refused a %s webhook for connection %s: %s", adapter.spec.label, connection_id, exc.code)
        return Intake(401, exc.user_message(), connection_id)
    except AtsError as exc:  # NotSupported: this vendor sends nothing the app can verify
        return Intake(400, exc.user_message(), connection_id)
    intake = Intake(200, "ok", connection_id)
    for event in events:
        with unit_of_work(sessions) as session:
            team_id = session.get(AtsConnection, connection_id).team_id
            if not _first_time(session, connection_id, event.delivery_id):
                intake.duplicates += 1
                continue
            if event.status is not None:
                updated, _ = apply_statuses(
                    session, team_id, connection_id, [event.status], source="webhook", now=utcnow()
                )
                intake.applied += updated
                continue
            rows = _named(session, connection_id, event.application_id, event.candidate_id)
            intake.to_read.extend(row.id for row in rows)
    return intake


def read_back(sessions: sessionmaker[Session], adapter: AtsAdapter, record_ids: list[int]) -> int:
    """Read the named records from the ATS and apply what it says; return how many were updated."""
    updated = 0
    for record_id in dict.fromkeys(record_ids):
        with unit_of_work(sessions) as session:
            row = session.get(AtsRecord, record_id)
            if row is None:
                continue
            team_id, connection_id = row.team_id, row.connection_id
            record = CreatedRecord(
                candidate_id=row.ats_candidate_id,
                application_id=row.ats_application_id,
                job_id=row.job_id,
                prospect=row.prospect,
                stage_id=row.stage_id,
            )
        try:
            status = adapter.record_status(record)
        except NotFound:
            continue
        except AtsError as exc:
            log.info("could not read ATS record %s back: %s", record_id, exc.code)
            continue
        with unit_of_work(sessions) as session:
            count, _ = apply_statuses(session, team_id, connection_id, [status], source="read", now=utcnow())
            updated += count
    return updated


def _first_time(session: Session, connection_id: int, delivery_id: str) -> bool:
    """Record the delivery; return False when it was acted on before (a redelivery).

    Two copies arriving at the same instant both pass the look-up; the unique constraint then refuses the
    second's commit, which answers 500, and the vendor's retry finds the first.
    """
    seen = session.scalar(
        select(WebhookDelivery.id).where(
            WebhookDelivery.connection_id == connection_id, WebhookDelivery.delivery_id == delivery_id[:255]
        )
    )
    if seen is not None:
        return False
    session.add(WebhookDelivery(connection_id=connection_id, delivery_id=delivery_id[:255]))
    session.flush()
    return True


def _named(
    session: Session, connection_id: int, application_id: str | None, candidate_id: str | None
) -> list[AtsRecord]:
    stmt = select(AtsRecord).where(AtsRecord.connection_id == connection_id)
    if application_id:
        rows = list(session.scalars(stmt.where(AtsRecord.ats_application_id == application_id)))
        if rows:
            return rows
    if candidate_id:
        return list(session.scalars(stmt.where(AtsRecord.ats_candidate_id == candidate_id)))
    return []
