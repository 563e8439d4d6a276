"""Per-link status reports: the numbers `/scaleup status`, App Home and `scaleup status` all show.

Every candidate of a linked search is accounted for, once: by its export state (one GROUP BY over the export
table, `ExportRepository.count_by_state`), or, when the link holds no record of them, by why not
(`NotRecorded`). The parts add up to the search's size in every view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ats.registry import exclusion_only
from exports.eligibility import count_new_eligible
from exports.links import snapshot_of
from storage.ats_records import AtsRecordRepository
from storage.export_repository import ExportRepository
from storage.models import AtsConnection, Link, Search, SearchCandidate
from storage.states import ExportState


class NotRecorded(StrEnum):
    """Why a candidate of a linked search has no export record for the link."""

    NOT_MATCHING = "not_matching"  # the link exports responders only, of some response types
    NOT_IN_ATS = "not_in_ats"  # the ATS only excludes (BambooHR) and does not know them: nothing to do
    NOT_SEEN = "not_seen"  # eligible, and recorded by the link's next pass

    @property
    def label(self) -> str:
        """Return the reason as recruiters read it."""
        return _NOT_RECORDED_LABELS[self]


_NOT_RECORDED_LABELS = {
    NotRecorded.NOT_MATCHING: "Not matching the link (no response of its types)",
    NotRecorded.NOT_IN_ATS: "Not in the ATS (nothing to leave out)",
    NotRecorded.NOT_SEEN: "Not yet seen by a pass",
}


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
    not_recorded: dict[NotRecorded, int] = field(default_factory=dict)
    #: Where the link's ATS records stand now (status, stage, how many), most first: two-way sync's funnel.
    funnel: list[tuple[str, str | None, int]] = field(default_factory=list)
    #: The newest stage or status changes in the ATS: (candidate name, to stage, to status, when).
    recent_moves: list[tuple[str, str | None, str, datetime]] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Return the number of candidates the link holds a record of (the sum of every state)."""
        return sum(self.counts.values())

    @property
    def candidates(self) -> int:
        """Return the search's size: the records plus the candidates without one, each counted once."""
        return self.total + sum(self.not_recorded.values())

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
            "not_recorded": {reason.value: self.not_recorded.get(reason, 0) for reason in NotRecorded},
            "search_size": self.candidates,
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
        select(Link, Search.name, AtsConnection.vendor, AtsConnection.exclusion_only)
        .join(Search, Search.id == Link.search_id)
        .join(AtsConnection, AtsConnection.id == Link.connection_id)
        .where(Link.team_id == team_id, Search.team_id == team_id)
        .order_by(Search.name)
    )
    if search_name:
        stmt = stmt.where(Search.name.ilike(search_name.strip()))
    exports = ExportRepository(session, team_id)
    reports = []
    for link, name, vendor, found_exclusion_only in session.execute(stmt):
        counts = exports.count_by_state(link.id)
        search_size = (
            session.scalar(
                select(func.count()).where(
                    SearchCandidate.team_id == team_id, SearchCandidate.search_id == link.search_id
                )
            )
            or 0
        )
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
                counts=counts,
                last_pass_started_at=link.last_pass_started_at,
                last_pass_finished_at=link.last_pass_finished_at,
                last_pass_cut_short=link.last_pass_cut_short,
                next_pass_at=link.next_pass_at,
                last_error=link.last_error,
                stage_name=link.stage_name,
                alert_channel=link.alert_channel,
                interval_minutes=link.interval_minutes,
                not_recorded=not_recorded(
                    session,
                    link,
                    name,
                    vendor,
                    search_size - sum(counts.values()),
                    only_excludes=exclusion_only(vendor, found_exclusion_only),
                ),
                funnel=AtsRecordRepository(session, team_id).funnel(link.id),
                recent_moves=AtsRecordRepository(session, team_id).recent_moves(link.id),
            )
        )
    return reports


def not_recorded(
    session: Session, link: Link, search_name: str, vendor: Any, unrecorded: int, *, only_excludes: bool
) -> dict[NotRecorded, int]:
    """Say why `unrecorded` candidates of the link's search have no record: each is counted once."""
    if unrecorded <= 0:
        return {reason: 0 for reason in NotRecorded}
    snapshot = snapshot_of(link, search_name, vendor)
    eligible = count_new_eligible(session, snapshot)
    seen_next = count_new_eligible(session, snapshot, in_mirror_only=True) if only_excludes else eligible
    return {
        NotRecorded.NOT_MATCHING: unrecorded - eligible,
        NotRecorded.NOT_IN_ATS: eligible - seen_next,
        NotRecorded.NOT_SEEN: seen_next,
    }
