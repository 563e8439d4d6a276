"""Where a connection's ATS should send its webhooks, and asking the ATS to, where its API lets us."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ats.base import AtsAdapter
from ats.errors import AtsError
from ats.types import WebhookSetup
from core.vocabulary import WEBHOOK_IDS_FIELD, WEBHOOKS_CHECKED_FIELD
from storage.base import utcnow
from storage.db import unit_of_work
from storage.models import AtsConnection

#: Where the app receives webhooks; `bot.http_limits.WEBHOOK_PREFIX` routes it.
WEBHOOK_PATH = "/ats/webhooks/"
#: The connection field that remembers webhooks registered through the API (Ashby cannot list its own).
WEBHOOK_IDS = WEBHOOK_IDS_FIELD


def webhook_url(public_url: str, token: str) -> str:
    """Return the address the ATS posts this connection's changes to."""
    return public_url.rstrip("/") + WEBHOOK_PATH + token


@dataclass(frozen=True)
class WebhookOutcome:
    """What setting up webhooks did: registered, or what an admin must do; `error` when the ATS refused."""

    url: str
    setup: WebhookSetup | None = None
    error: str | None = None


def register(token: str, adapter: AtsAdapter, public_url: str) -> WebhookOutcome:
    """Register (or confirm) a connection's webhook where the vendor's API allows, else get the instructions
    for an admin (no database work: call it outside a transaction, then `remember`)."""
    url = webhook_url(public_url, token)
    try:
        return WebhookOutcome(url, adapter.register_webhooks(url))
    except AtsError as exc:
        return WebhookOutcome(url, error=exc.user_message())


def remember(connection: AtsConnection, outcome: WebhookOutcome) -> None:
    """Keep the ids of webhooks the API registered on the connection, so registering again reuses them."""
    ids = outcome.setup.ids if outcome.setup is not None else ()
    if ids:
        connection.fields = {**(connection.fields or {}), WEBHOOK_IDS: ",".join(ids)}


#: The connection field saying when the registration was last confirmed (Workable's subscriptions lapse).
CHECKED_AT = WEBHOOKS_CHECKED_FIELD
#: How often registrations are confirmed (registering is idempotent: an existing one costs a read or two).
RECHECK = timedelta(days=1)


def refresh_registrations(
    sessions: sessionmaker[Session], adapter_for: Callable[[int], AtsAdapter], public_url: str | None
) -> int:
    """Register again, once a day, the webhooks of connections whose vendor registers them through its API, so
    a registration that lapsed (Workable's have an end date) or was deleted in the ATS comes back; return how
    many were confirmed."""
    if public_url is None:
        return 0
    now = utcnow()
    with unit_of_work(sessions) as session:
        due = [
            (c.id, c.webhook_token or "")
            for c in session.scalars(select(AtsConnection).where(AtsConnection.webhook_token.is_not(None)))
            if _due((c.fields or {}).get(CHECKED_AT), now)
        ]
    confirmed = 0
    for connection_id, token in due:
        adapter = adapter_for(connection_id)
        if not adapter.capabilities.webhook_registration:
            continue
        outcome = register(token, adapter, public_url)
        with unit_of_work(sessions) as session:
            connection = session.get(AtsConnection, connection_id)
            if connection is not None:
                remember(connection, outcome)
                connection.fields = {**(connection.fields or {}), CHECKED_AT: now.isoformat()}
        confirmed += outcome.setup is not None and outcome.setup.registered
    return confirmed


def _due(checked_at: str | None, now: datetime) -> bool:
    try:
        return checked_at is None or now - datetime.fromisoformat(checked_at) >= RECHECK
    except ValueError:
        return True
