"""What the ATS says about records, applied to `ats_record`: one path for webhooks, polls and reads."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from ats.types import RecordStatus
from storage.ats_records import AtsRecordRepository, SeenStatus
from storage.sync_models import AtsRecordChange


def seen(status: RecordStatus) -> SeenStatus:
    """Return a vendor's status as storage keeps it."""
    return SeenStatus(
        status=status.status.value,
        stage=status.stage,
        stage_id=status.stage_id,
        reason=status.reason,
        activity_at=parse_time(status.updated_at),
        record_url=status.record_url,
        application_id=status.application_id,
    )


def parse_time(value: str | None) -> datetime | None:
    """Return an ISO 8601 stamp as an aware UTC datetime (None when absent or unreadable)."""
    if not value:
        return None
    try:
        stamp = datetime.fromisoformat(value)  # Python 3.11 reads the "Z" suffix too
    except ValueError:
        return None
    return stamp.astimezone(UTC) if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def apply_statuses(
    session: Session,
    team_id: str,
    connection_id: int,
    statuses: Iterable[RecordStatus],
    *,
    source: str,
    now: datetime,
) -> tuple[int, list[AtsRecordChange]]:
    """Store each status on the records it is about (records this app never exported or found are ignored).

    Returns:
        How many records were updated, and the stage or status changes among them.
    """
    repo = AtsRecordRepository(session, team_id)
    updated, changes = 0, []
    for status in statuses:
        rows = repo.matching(
            connection_id,
            application_id=status.application_id,
            candidate_id=status.candidate_id,
            job_id=status.job_id,
        )
        for row in rows:
            updated += 1
            change = repo.apply(row, seen(status), source=source, now=now)
            if change is not None:
                changes.append(change)
    return updated, changes
