"""Link and connection health: a closed job pauses its link, refused credentials mark the connection.

Each incident writes one alert: pausing an already paused link, or failing an already unhealthy connection,
changes nothing, so a closed job never turns into a hundred failures or a hundred alerts. `JobChecks`
remembers a job found fine for a while, so small exports do not each pay a job look-up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from ats.base import AtsAdapter
from ats.errors import CONNECTION_ERRORS, AtsError, NotFound, VendorUnavailable
from ats.registry import spec_of
from core.ttl import TtlMemory
from exports.links import LinkSnapshot, load_link
from exports.types import Stop
from storage.db import unit_of_work
from storage.enums import AlertKind, ExportAs
from storage.models import AtsConnection
from storage.repositories import raise_alert

log = logging.getLogger(__name__)

#: Errors that mark the connection unhealthy: one alert when it breaks (refused key, or the ATS down after
#: the HTTP retries), one "recovered" when a pass gets through again, however long it lasts.
UNHEALTHY_ERRORS: tuple[type[AtsError], ...] = (*CONNECTION_ERRORS, VendorUnavailable)


@dataclass(frozen=True)
class JobFault:
    """What keeps a job from taking the candidates a link would send: "gone", "closed", "stage" (not one of
    the job's stages) or "stage_kind" (a stage of the job that does not take the link's kind)."""

    kind: str
    job_name: str
    status: str = "closed"


#: A link's job gone stale, by JobFault.kind.
_STALE = {
    "gone": "The job “{job}” no longer exists in {vendor}.",
    "closed": "The job “{job}” is {status} in {vendor}.",
    "stage": "The stage {stage} of “{job}” no longer exists in {vendor}.",
    "stage_kind": "The stage {stage} of “{job}” does not take {kind}s in {vendor}.",
}
#: A job or stage a recruiter chose for one export, by JobFault.kind.
_CHOSEN = {
    "gone": "The job “{job}” does not exist in {vendor}.",
    "closed": "The job “{job}” is {status} in {vendor}: choose an open job.",
    "stage": "That stage is not a stage of “{job}” in {vendor}: choose one of its stages.",
    "stage_kind": "{vendor} does not place {kind}s at that stage of “{job}”: choose one that takes them.",
}


def job_problem(link: LinkSnapshot, adapter: AtsAdapter) -> str | None:
    """Return why the link cannot export to its job any more (closed, deleted, stage gone), or None.

    Raises:
        AtsError: the ATS could not be asked (transient or connection errors); the link is fine as far as
            anyone knows.
    """
    if adapter.capabilities.exclusion_only or not link.job_id:
        return None
    return _describe(_job_fault(link, adapter), link, _STALE)


def override_problem(link: LinkSnapshot, adapter: AtsAdapter) -> str | None:
    """Return why a manual export cannot go where the recruiter chose (`link` carries the overrides), or None.

    The same checks as `job_problem` (the job exists and is open, the stage is one of its stages), worded
    for a choice made in a form rather than a link gone stale.

    Raises:
        AtsError: the ATS could not be asked.
    """
    if adapter.capabilities.exclusion_only:
        return None
    if link.export_as == ExportAs.APPLICANT and not link.job_id:
        return "An applicant needs a job: choose one, or export as a prospect."
    return _describe(_job_fault(link, adapter) if link.job_id else None, link, _CHOSEN)


def _describe(fault: JobFault | None, link: LinkSnapshot, wording: dict[str, str]) -> str | None:
    """Put a job fault in words (`_STALE` for a link's job, `_CHOSEN` for a recruiter's choice)."""
    if fault is None:
        return None
    stage = f"“{link.stage_name}”" if link.stage_name else link.stage_id
    return wording[fault.kind].format(
        job=fault.job_name,
        status=fault.status,
        stage=stage,
        kind=ExportAs(link.export_as).value,
        vendor=spec_of(link.vendor).label,
    )


def _job_fault(link: LinkSnapshot, adapter: AtsAdapter) -> JobFault | None:
    """Ask the ATS whether the link's job exists and is open, and has the link's stage for the link's kind
    (prospects only where the vendor places prospects at a stage)."""
    assert link.job_id is not None
    name = link.job_name or link.job_id
    try:
        job = adapter.get_job(link.job_id)
    except NotFound:
        return JobFault("gone", name)
    name = job.name or name
    if not job.is_open:
        return JobFault("closed", name, job.status or "closed")
    applicant = link.export_as == ExportAs.APPLICANT
    if link.stage_id and (applicant or adapter.capabilities.prospect_stages):
        try:
            stages = adapter.list_stages(link.job_id)
        except NotFound:
            stages = []
        found = next((s for s in stages if s.id == link.stage_id), None)
        if found is None:
            return JobFault("stage", name)
        if not (found.for_applicants if applicant else found.for_prospects):  # e.g. Ashby's Lead stages
            return JobFault("stage_kind", name)
    return None


def pause_link(session: Session, link: LinkSnapshot, reason: str, *, actor: str, now: datetime) -> bool:
    """Pause the link and raise its alert; return False when it was paused already."""
    row, _ = load_link(session, link.team_id, link.id, lock=True)
    if row.paused:
        return False
    row.paused, row.paused_reason, row.last_error = True, reason, reason
    raise_alert(
        session,
        link.team_id,
        kind=AlertKind.LINK_PAUSED,
        incident_key=f"link_paused:link-{link.id}:{now.isoformat()}",
        link_id=link.id,
        channel=link.alert_channel,
        payload={
            "link_id": link.id,
            "search": link.search_name,
            "job": link.job_name,
            "reason": reason,
            "paused_by": actor,
        },
    )
    log.info("link %s paused: %s", link.id, reason)
    return True


def connection_failed(session: Session, link: LinkSnapshot, error: AtsError, *, now: datetime) -> None:
    """Record a refused or unreachable connection; the first failure after a healthy spell raises the alert.

    The alert is an `outage` when the ATS is down (VendorUnavailable), else a `connection` problem.
    """
    connection = session.get(AtsConnection, link.connection_id, with_for_update=True)
    if connection is None:
        return
    connection.last_error, connection.last_checked_at = error.user_message(), now
    if connection.healthy:
        connection.healthy = False
        kind = AlertKind.OUTAGE if isinstance(error, VendorUnavailable) else AlertKind.CONNECTION
        _connection_alert(
            session,
            link,
            connection,
            kind,
            now,
            code=error.code,
            message=error.user_message(),
        )


def connection_ok(session: Session, link: LinkSnapshot, *, now: datetime) -> None:
    """Mark an unhealthy connection healthy again, with a recovery alert."""
    connection = session.get(AtsConnection, link.connection_id)
    if connection is None or connection.healthy:
        return
    connection.healthy, connection.last_error, connection.last_checked_at = True, None, now
    _connection_alert(session, link, connection, AlertKind.RECOVERED, now)


def _connection_alert(
    session: Session,
    link: LinkSnapshot,
    connection: AtsConnection,
    kind: AlertKind,
    now: datetime,
    **details: str,
) -> None:
    raise_alert(
        session,
        link.team_id,
        kind=kind,
        incident_key=f"{kind.value}:connection-{connection.id}:{now.isoformat()}",
        link_id=None,
        channel=link.alert_channel,
        payload={"vendor": spec_of(link.vendor).label, **details},
    )


class JobChecks:
    """`job_problem`, remembering for `max_age_seconds` the jobs found fine (0: ask the ATS every time).

    The Slack app and the ingest API export a few candidates at a time; without this each reply would pay
    a job look-up on top of its create. A problem found is never remembered: the link pauses at once.
    """

    def __init__(self, max_age_seconds: float, clock: Callable[[], float]) -> None:
        self._fine: TtlMemory[tuple[int, str | None, str | None, str], bool] | None = (
            TtlMemory(max_age_seconds, clock=clock) if max_age_seconds > 0 else None
        )

    def problem(self, link: LinkSnapshot, adapter: AtsAdapter) -> str | None:
        """Return why the link cannot export to its job any more, or None (see `job_problem`)."""
        key = (link.connection_id, link.job_id, link.stage_id, str(link.export_as))
        if self._fine is not None and self._fine.get(key):
            return None
        problem = job_problem(link, adapter)
        if self._fine is not None:
            if problem is None:
                self._fine.put(key, True)
            else:
                self._fine.forget(key)
        return problem


def pause(
    sessions: sessionmaker[Session], link: LinkSnapshot, reason: str, *, actor: str, now: datetime
) -> None:
    """Pause the link in a unit of work of its own (see `pause_link`)."""
    with unit_of_work(sessions) as session:
        pause_link(session, link, reason, actor=actor, now=now)


def connection_down(
    sessions: sessionmaker[Session], link: LinkSnapshot, error: AtsError, *, now: datetime
) -> None:
    """Record the connection's failure in a unit of work of its own (see `connection_failed`)."""
    with unit_of_work(sessions) as session:
        connection_failed(session, link, error, now=now)


def after_stop(
    sessions: sessionmaker[Session], link: LinkSnapshot, stop: Stop | None, *, actor: str, now: datetime
) -> None:
    """Act on why a batch stopped: a job or stage gone pauses the link; a refused key or an outage marks the
    connection unhealthy; running out of time changes nothing."""
    if stop is None:
        return
    if stop.pause_link:
        pause(sessions, link, stop.reason, actor=actor, now=now)
    elif isinstance(stop.error, UNHEALTHY_ERRORS):
        connection_down(sessions, link, stop.error, now=now)
