"""The worker's two-way sync job: poll every ATS connection for what its webhooks missed."""

from __future__ import annotations

import logging
from typing import Any

from bot.features.export.live import redraw_stale
from bot.slack_clients import clients_by_team
from bot.wiring import Services
from exports.engine import ExportEngine
from exports.stage_digest import announce_stage_changes
from storage.base import utcnow
from storage.db import unit_of_work
from sync.poll import PollResult, poll_all
from sync.setup import refresh_registrations

log = logging.getLogger(__name__)

#: The scheduler job's stable id.
SYNC_JOB_ID = "sync.poll_statuses"


def register_sync_job(
    scheduler: Any, services: Services, engine: ExportEngine, *, seconds: float | None = None
) -> None:
    """Add the poll (every `SCALEUP_SYNC_POLL_MINUTES`; first run at once), one instance at a time."""
    scheduler.add_job(
        poll_statuses,
        "interval",
        seconds=seconds or services.settings.sync_poll_minutes * 60,
        id=SYNC_JOB_ID,
        name="poll ATS connections for stage and status changes",
        kwargs={"services": services, "engine": engine},
        max_instances=1,
        coalesce=True,
        replace_existing=True,
        next_run_time=utcnow(),
    )


def poll_statuses(services: Services, engine: ExportEngine) -> list[PollResult]:
    """Confirm webhook registrations once a day, poll each connection (through the engine's adapters, so the
    rate budget is shared), then write the stage digests of the links that asked for one (posted by the alert
    job)."""
    refresh_registrations(services.sessions, engine.adapter_for, services.settings.public_url)
    results = poll_all(services.sessions, engine.adapter_for)
    with unit_of_work(services.sessions) as session:  # webhooks' changes since the last poll, too
        announce_stage_changes(session)
    redraw_stale(services.sessions, clients_by_team(services))
    for result in results:
        if result.changes or result.error:
            log.info(
                "status poll of connection %s: %d seen, %d changed%s",
                result.connection_id,
                result.seen,
                result.changes,
                f" (stopped: {result.error})" if result.error else "",
            )
    return results
