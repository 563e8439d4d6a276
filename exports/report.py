"""Per-link status reports: the numbers `/scaleup status`, App Home and `scaleup status` all show.

Counts come from one GROUP BY over the export table (ExportRepository.count_by_state), so they add up to the
link's candidates in every view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.export_repository import ExportRepository
from storage.models import AtsConnection, Link, Search
from storage.states import ExportState


@dataclass(frozen=True)
class LinkReport:
    """Everything a status view says about one link."""

    team_id: str
    link_id: int
    search_id: int
    search_name: str
    job_id: str | None
    job_name: str | None
    vendor: str
    mode: str
    export_as: str
    paused: bool
    paused_reason: str | None
    counts: dict[ExportState, int]
    last_pass_started_at: datetime | None
    last_pass_finished_at: datetime | None
    last_pass_cut_short: bool
    next_pass_at: datetime | None
    last_error: str | None
    stage_name: str | None = None
    alert_channel: str | None = None
    interval_minutes: int | None = None

    @property
    def total(self) -> int:
        """Return the number of candidates the link holds (the sum of every state)."""
        return sum(self.counts.values())

    @property
    def pass_running(self) -> bool:
        """Return True while a pass has started and not finished."""
        started, finished = self.last_pass_started_at, self.last_pass_finished_at
        return started is not None and (finished is None or finished < started)

    def to_json(self) -> dict[str, Any]:
        """Return the report as JSON-ready data (state names as keys, ISO timestamps)."""

        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "team_id": self.team_id,
            "link_id": self.link_id,
            "search": self.search_name,
            "job": {"id": self.job_id, "name": self.job_name},
            "vendor": self.vendor,
            "mode": self.mode,
            "export_as": self.export_as,
            "paused": self.paused,
            "paused_reason": self.paused_reason,
            "counts": {state.value: count for state, count in self.counts.items()},
            "total": self.total,
            "pass_running": self.pass_running,
            "last_pass_started_at": iso(self.last_pass_started_at),
            "last_pass_finished_at": iso(self.last_pass_finished_at),
            "last_pass_cut_short": self.last_pass_cut_short,
            "next_pass_at": iso(self.next_pass_at),
            "last_error": self.last_error,
            "stage": self.stage_name,
            "alert_channel": self.alert_channel,
            "interval_minutes": self.interval_minutes,
        }


def link_reports(session: Session, team_id: str, *, search_name: str | None = None) -> list[LinkReport]:
    """Return a report for each link of the workspace (only the named search's when `search_name`)."""
    stmt = (
        select(Link, Search.name, AtsConnection.vendor)
        .join(Search, Search.id == Link.search_id)
        .join(AtsConnection, AtsConnection.id == Link.connection_id)
        .where(Link.team_id == team_id, Search.team_id == team_id)
        .order_by(Search.name)
    )
    if search_name:
        stmt = stmt.where(Search.name.ilike(search_name.strip()))
    exports = ExportRepository(session, team_id)
    reports = []
    for link, name, vendor in session.execute(stmt):
        reports.append(
            LinkReport(
                team_id=team_id,
                link_id=link.id,
                search_id=link.search_id,
                search_name=name,
                job_id=link.job_id,
                job_name=link.job_name,
                vendor=str(vendor),
                mode=str(link.mode),
                export_as=str(link.export_as),
                paused=link.paused,
                paused_reason=link.paused_reason,
                counts=exports.count_by_state(link.id),
                last_pass_started_at=link.last_pass_started_at,
                last_pass_finished_at=link.last_pass_finished_at,
                last_pass_cut_short=link.last_pass_cut_short,
                next_pass_at=link.next_pass_at,
                last_error=link.last_error,
                stage_name=link.stage_name,
                alert_channel=link.alert_channel,
                interval_minutes=link.interval_minutes,
            )
        )
    return reports
