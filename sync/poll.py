"""The poll that catches what webhooks missed: each connection's application changes since its cursor.

One connection at a time, page by page, each page applied and its cursor saved in one unit of work, so a
crash resumes from the last page done. A vendor whose API lists no changes is skipped (its records are read
one by one when someone looks: `sync.reads`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ats.base import AtsAdapter
from ats.errors import AtsError
from storage.base import utcnow
from storage.db import unit_of_work
from storage.models import AtsConnection
from sync.apply import apply_statuses

log = logging.getLogger(__name__)


@dataclass
class PollResult:
    """What one poll of one connection did."""

    connection_id: int
    pages: int = 0
    seen: int = 0
    updated: int = 0
    changes: int = 0
    error: str | None = None


def poll_connection(sessions: sessionmaker[Session], adapter: AtsAdapter, connection_id: int) -> PollResult:
    """Read the connection's application changes since its cursor and apply them (see the module)."""
    result = PollResult(connection_id)
    if not adapter.capabilities.status_sync:
        return result
    with unit_of_work(sessions) as session:
        connection = session.get(AtsConnection, connection_id)
        if connection is None:
            return result
        team_id, cursor = connection.team_id, connection.status_cursor
    try:
        for page in adapter.iter_status_pages(cursor):
            with unit_of_work(sessions) as session:
                now = utcnow()
                updated, changes = apply_statuses(
                    session, team_id, connection_id, page.statuses, source="poll", now=now
                )
                connection = session.get(AtsConnection, connection_id)
                if connection is not None:
                    connection.status_cursor = page.cursor or connection.status_cursor
                    connection.status_polled_at = now
            result.pages += 1
            result.seen += len(page.statuses)
            result.updated += updated
            result.changes += len(changes)
    except AtsError as exc:
        result.error = exc.user_message()
        log.info("status poll of connection %s stopped: %s", connection_id, exc.code)
    return result


def poll_all(sessions: sessionmaker[Session], adapter_for: Callable[[int], AtsAdapter]) -> list[PollResult]:
    """Poll every connection whose vendor can list application changes."""
    with unit_of_work(sessions) as session:
        connection_ids = list(session.scalars(select(AtsConnection.id).order_by(AtsConnection.id)))
    return [poll_connection(sessions, adapter_for(cid), cid) for cid in connection_ids]
