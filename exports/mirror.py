"""The dedupe mirror: per ATS connection, every email and LinkedIn URL the ATS holds, mapped to its record.

It is filled once from the vendor's candidate listing and then refreshed incrementally from the cursor kept
on the connection (`mirror_cursor`), so a pass spends a few requests on dedupe instead of one per candidate.
Records the app creates are added as soon as they exist, so a second link never creates the person again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from ats.base import AtsAdapter
from ats.types import AtsCandidate
from core.contacts import normalize_email, normalize_linkedin_url
from storage.db import unit_of_work
from storage.models import AtsConnection, AtsMirrorEntry

log = logging.getLogger(__name__)

EMAIL = "email"
LINKEDIN = "linkedin"

Key = tuple[str, str]
"""(kind, normalised value): what a mirror entry is found by."""


@dataclass(frozen=True)
class MirrorHit:
    """An ATS record the mirror (or a live look-up) found for a candidate."""

    ats_candidate_id: str
    profile_url: str | None
    matched: Key


def person_keys(emails: Iterable[str], linkedin_url: str | None) -> list[Key]:
    """Return the mirror keys of a person in match order: emails as given (preferred first), then LinkedIn.

    A name alone is never a key: two people can share one.
    """
    keys = [(EMAIL, normalize_email(e)) for e in emails if e and e.strip()]
    url = normalize_linkedin_url(linkedin_url)
    if url:
        keys.append((LINKEDIN, url))
    return list(dict.fromkeys(keys))


def candidate_entries(candidate: AtsCandidate) -> dict[Key, tuple[str, str | None]]:
    """Return the mirror entries an ATS candidate stands for."""
    return {
        key: (candidate.id, candidate.profile_url)
        for key in person_keys(candidate.emails, candidate.linkedin_url)
    }


def upsert(
    session: Session,
    *,
    team_id: str,
    connection_id: int,
    entries: Mapping[Key, tuple[str, str | None]],
    seen_at: datetime,
) -> None:
    """Insert or update mirror entries (one statement; keys sorted so concurrent writers never deadlock)."""
    if not entries:
        return
    rows = [
        {
            "team_id": team_id,
            "connection_id": connection_id,
            "kind": kind,
            "value": value[:512],
            "ats_candidate_id": ats_id,
            "profile_url": profile_url,
            "seen_at": seen_at,
        }
        for (kind, value), (ats_id, profile_url) in sorted(entries.items())
    ]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(AtsMirrorEntry).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["connection_id", "kind", "value"],
        set_={
            "ats_candidate_id": statement.excluded.ats_candidate_id,
            "profile_url": statement.excluded.profile_url,
            "seen_at": statement.excluded.seen_at,
        },
    )
    session.execute(statement)


def match_many(session: Session, connection_id: int, keys: Iterable[Key]) -> dict[Key, MirrorHit]:
    """Return the mirror entries of `keys` that exist, in one query per kind and 500 values."""
    by_kind: dict[str, list[str]] = {}
    for kind, value in sorted(set(keys)):
        by_kind.setdefault(kind, []).append(value)
    found: dict[Key, MirrorHit] = {}
    for kind, values in by_kind.items():
        for start in range(0, len(values), 500):
            # `kind = ? AND value IN (…)`, not `(kind, value) IN (…)`: SQLite cannot use the unique index
            # for a row-value IN and scans the whole mirror (EXPLAIN QUERY PLAN: SCAN ats_mirror_entry).
            stmt = select(
                AtsMirrorEntry.value,
                AtsMirrorEntry.ats_candidate_id,
                AtsMirrorEntry.profile_url,
            ).where(
                AtsMirrorEntry.connection_id == connection_id,
                AtsMirrorEntry.kind == kind,
                AtsMirrorEntry.value.in_(values[start : start + 500]),
            )
            for value, ats_id, url in session.execute(stmt):
                found[(kind, value)] = MirrorHit(ats_id, url, (kind, value))
    return found


def first_hit(keys: Sequence[Key], hits: Mapping[Key, MirrorHit]) -> MirrorHit | None:
    """Return the hit of the first key (the preferred email first) that the mirror holds."""
    return next((hits[key] for key in keys if key in hits), None)


def forget(session: Session, connection_id: int, ats_candidate_id: str) -> None:
    """Drop every entry of an ATS record that turned out not to exist (deleted or merged in the ATS)."""
    session.execute(
        delete(AtsMirrorEntry).where(
            AtsMirrorEntry.connection_id == connection_id, AtsMirrorEntry.ats_candidate_id == ats_candidate_id
        )
    )


def refresh(
    sessions: sessionmaker[Session],
    adapter: AtsAdapter,
    *,
    team_id: str,
    connection_id: int,
    now: datetime,
    max_age_seconds: float = 0.0,
) -> int:
    """Bring the connection's mirror up to date from the vendor's changed-since listing.

    Each page is stored in its own short transaction and the cursor only after the last page, so a pass that
    dies half-way lists the same changes again next time (upserts make that harmless).

    Returns:
        The number of ATS candidates read (0 when the vendor has no listing or the mirror is fresh).
    """
    if not adapter.capabilities.candidate_sync:
        return 0
    with unit_of_work(sessions) as session:
        connection = session.get(AtsConnection, connection_id)
        if connection is None:
            return 0
        cursor, synced_at = connection.mirror_cursor, connection.mirror_synced_at
    if synced_at is not None and max_age_seconds > 0 and (now - synced_at).total_seconds() < max_age_seconds:
        return 0
    seen = 0
    next_cursor = cursor
    for page in adapter.iter_candidate_pages(cursor):
        entries: dict[Key, tuple[str, str | None]] = {}
        for candidate in page.candidates:
            entries.update(candidate_entries(candidate))
        with unit_of_work(sessions) as session:
            upsert(session, team_id=team_id, connection_id=connection_id, entries=entries, seen_at=now)
        seen += len(page.candidates)
        next_cursor = page.cursor
    with unit_of_work(sessions) as session:
        connection = session.get(AtsConnection, connection_id)
        if connection is not None:
            connection.mirror_cursor = next_cursor
            connection.mirror_synced_at = now
    if seen:
        log.info("dedupe mirror of connection %s: %d ATS candidates read", connection_id, seen)
    return seen


def live_lookup(
    adapter: AtsAdapter, keys: Sequence[Key]
) -> tuple[MirrorHit | None, dict[Key, tuple[str, str | None]]]:
    """Look a person up in the ATS itself, by each email and (where the vendor can) the LinkedIn URL.

    Returns:
        The first match in key order, and every entry the answers showed (to store in the mirror).
    """
    learned: dict[Key, tuple[str, str | None]] = {}
    for kind, value in keys:
        if kind == LINKEDIN and not adapter.capabilities.linkedin_search:
            continue
        found = adapter.find_candidates(**({"email": value} if kind == EMAIL else {"linkedin_url": value}))
        for candidate in found:
            learned.update(candidate_entries(candidate))
        if found:
            # One match settles it: further look-ups would only spend the rate budget.
            return MirrorHit(found[0].id, found[0].profile_url, (kind, value)), learned
    return None, learned
