"""Claiming work in the database so that any number of workers share it and none does it twice.

On PostgreSQL, rows are selected with `FOR UPDATE SKIP LOCKED` and stamped with a lease (owner + expiry)
in the same transaction: a second worker skips them while the first holds the lock and, once committed,
sees them as `exporting`. A worker that dies leaves its lease to expire; `reap_expired` then puts those
candidates back in line with `outcome_unknown` still set, so they are looked up in the ATS before any new
attempt. SQLite ignores the row locks; its writers are serialised by `BEGIN IMMEDIATE` (see storage.db).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from storage.enums import LinkMode
from storage.export_repository import ExportRepository
from storage.models import Export, Link
from storage.states import ExportState


def lock_pending(
    session: Session,
    team_id: str,
    link_id: int,
    *,
    now: datetime,
    limit: int,
    candidate_ids: Sequence[int] | None = None,
    due_only: bool = True,
) -> list[Export]:
    """Lock up to `limit` pending records of a link that no other worker holds, oldest first.

    Args:
        due_only: skip records whose transient-failure back-off has not passed (a manual export does not).
    """
    stmt = (
        ExportRepository(session, team_id)
        .base_statement()
        .where(Export.link_id == link_id, Export.state == ExportState.PENDING)
    )
    if due_only:
        stmt = stmt.where(or_(Export.next_attempt_at.is_(None), Export.next_attempt_at <= now))
    if candidate_ids is not None:
        stmt = stmt.where(Export.candidate_id.in_(list(candidate_ids)))
    stmt = stmt.order_by(Export.id).limit(limit).with_for_update(skip_locked=True)
    return list(session.scalars(stmt))


def renew(session: Session, export_id: int, *, owner: str, until: datetime) -> bool:
    """Extend `owner`'s lease on a claimed record; return False when it is no longer theirs.

    Called right before each ATS call, so a batch that runs long never sends a candidate whose lease
    expired and that another worker may already have taken over.
    """
    result = session.execute(
        update(Export)
        .where(Export.id == export_id, Export.state == ExportState.EXPORTING, Export.lease_owner == owner)
        .values(lease_expires_at=until)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def reap_expired(session: Session, team_id: str, link_id: int, *, now: datetime, actor: str) -> int:
    """Put `exporting` records whose lease expired back to `pending`, keeping their outcome unknown.

    Returns:
        How many were taken back.
    """
    repo = ExportRepository(session, team_id)
    stmt = (
        repo.base_statement()
        .where(
            Export.link_id == link_id,
            Export.state == ExportState.EXPORTING,
            Export.lease_expires_at < now,
        )
        .order_by(Export.id)
        .with_for_update(skip_locked=True)
    )
    rows = list(session.scalars(stmt))
    for export in rows:
        repo.transition(
            export,
            ExportState.PENDING,
            actor=actor,
            reason=f"lease of {export.lease_owner} expired; the ATS is checked before trying again",
            lease_owner=None,
            lease_expires_at=None,
            outcome_unknown=True,
        )
    return len(rows)


def link_is_due(now: datetime) -> ColumnElement[bool]:
    """Return the condition of a link the worker passes now: automatic, unpaused, due and held by nobody."""
    return and_(
        Link.mode == LinkMode.AUTOMATIC,
        Link.paused.is_(False),
        or_(Link.next_pass_at.is_(None), Link.next_pass_at <= now),
        or_(Link.lease_expires_at.is_(None), Link.lease_expires_at < now),
    )


def retry_is_due(now: datetime) -> ColumnElement[bool]:
    """Return the condition of a pending export whose retry back-off is over."""
    return and_(
        Export.state == ExportState.PENDING,
        Export.next_attempt_at.is_not(None),
        Export.next_attempt_at <= now,
    )


def due_links(session: Session, now: datetime, *, limit: int | None = None) -> list[tuple[str, int]]:
    """Return automatic, unpaused links whose next pass is due, least recently served first."""
    stmt = (
        select(Link.team_id, Link.id)
        .where(link_is_due(now))
        .order_by(Link.next_pass_at.asc().nulls_first(), Link.id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [(team_id, link_id) for team_id, link_id in session.execute(stmt)]


def claim_link(
    session: Session, team_id: str, link_id: int, *, owner: str, now: datetime, ttl: float
) -> bool:
    """Take the lease on a link's pass (one worker per link at a time); return False when another holds it.

    A single conditional UPDATE, so it is atomic on both databases without an explicit row lock.
    """
    result = session.execute(
        update(Link)
        .where(
            Link.team_id == team_id,
            Link.id == link_id,
            or_(Link.lease_owner.is_(None), Link.lease_owner == owner, Link.lease_expires_at < now),
        )
        .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=ttl))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def release_link(session: Session, team_id: str, link_id: int, *, owner: str) -> None:
    """Give up the lease on a link's pass if `owner` holds it."""
    session.execute(
        update(Link)
        .where(Link.team_id == team_id, Link.id == link_id, Link.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )
