"""Link and connection health: a closed job pauses its link, refused credentials mark the connection.

Each incident writes one alert: pausing an already paused link, or failing an already unhealthy connection,
changes nothing, so a closed job never turns into a hundred failures or a hundred alerts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ats.base import AtsAdapter
from ats.errors import AtsError, NotFound, VendorUnavailable
from ats.registry import spec_of
from exports.alerts import raise_alert
from exports.eligibility import LinkView, load_link
from storage.enums import AlertKind, ExportAs
from storage.models import AtsConnection

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobFault:
    """What keeps a job from taking the candidates a view would send: "gone", "closed" or "stage"."""

    kind: str
    job_name: str
    status: str = "closed"


#: A link's job gone stale, by JobFault.kind.
_STALE = {
    "gone": "The job “{job}” no longer exists in {vendor}.",
    "closed": "The job “{job}” is {status} in {vendor}.",
    "stage": "The stage {stage} of “{job}” no longer exists in {vendor}.",
}
#: A job or stage a recruiter chose for one export, by JobFault.kind.
_CHOSEN = {
    "gone": "The job “{job}” does not exist in {vendor}.",
    "closed": "The job “{job}” is {status} in {vendor}: choose an open job.",
    "stage": "That stage is not a stage of “{job}” in {vendor}: choose one of its stages.",
}


def job_problem(view: LinkView, adapter: AtsAdapter) -> str | None:
    """Return why the link cannot export to its job any more (closed, deleted, stage gone), or None.

    Raises:
        AtsError: the ATS could not be asked (transient or connection errors); the link is fine as far as
            anyone knows.
    """
    if adapter.capabilities.exclusion_only or not view.job_id:
        return None
    return _describe(_job_fault(view, adapter), view, _STALE)


def override_problem(view: LinkView, adapter: AtsAdapter) -> str | None:
    """Return why a manual export cannot go where the recruiter chose (`view` carries the overrides), or None.

    The same checks as `job_problem` (the job exists and is open, the stage is one of its stages), worded
    for a choice made in a form rather than a link gone stale.

    Raises:
        AtsError: the ATS could not be asked.
    """
    if adapter.capabilities.exclusion_only:
        return None
    if view.export_as == ExportAs.APPLICANT and not view.job_id:
        return "An applicant needs a job: choose one, or export as a prospect."
    return _describe(_job_fault(view, adapter) if view.job_id else None, view, _CHOSEN)


def _describe(fault: JobFault | None, view: LinkView, wording: dict[str, str]) -> str | None:
    """Put a job fault in words (`_STALE` for a link's job, `_CHOSEN` for a recruiter's choice)."""
    if fault is None:
        return None
    stage = f"“{view.stage_name}”" if view.stage_name else view.stage_id
    return wording[fault.kind].format(
        job=fault.job_name, status=fault.status, stage=stage, vendor=spec_of(view.vendor).label
    )


def _job_fault(view: LinkView, adapter: AtsAdapter) -> JobFault | None:
    """Ask the ATS whether the view's job exists and is open, and has the view's stage (applicants only)."""
    assert view.job_id is not None
    name = view.job_name or view.job_id
    try:
        job = adapter.get_job(view.job_id)
    except NotFound:
        return JobFault("gone", name)
    name = job.name or name
    if not job.is_open:
        return JobFault("closed", name, job.status or "closed")
    if view.stage_id and view.export_as == ExportAs.APPLICANT:
        try:
            stage_ids = {stage.id for stage in adapter.list_stages(view.job_id)}
        except NotFound:
            stage_ids = set()
        if view.stage_id not in stage_ids:
            return JobFault("stage", name)
    return None


def pause_link(session: Session, view: LinkView, reason: str, *, actor: str, now: datetime) -> bool:
    """Pause the link and raise its alert; return False when it was paused already."""
    link, _ = load_link(session, view.team_id, view.id, lock=True)
    if link.paused:
        return False
    link.paused, link.paused_reason, link.last_error = True, reason, reason
    raise_alert(
        session,
        view.team_id,
        kind=AlertKind.LINK_PAUSED,
        incident_key=f"link_paused:link-{view.id}:{now.isoformat()}",
        link_id=view.id,
        channel=view.alert_channel,
        payload={
            "link_id": view.id,
            "search": view.search_name,
            "job": view.job_name,
            "reason": reason,
            "paused_by": actor,
        },
    )
    log.info("link %s paused: %s", view.id, reason)
    return True


def connection_failed(session: Session, view: LinkView, error: AtsError, *, now: datetime) -> None:
    """Record a refused or unreachable connection; the first failure after a healthy spell raises the alert.

    The alert is an `outage` when the ATS is down (VendorUnavailable), else a `connection` problem.
    """
    connection = session.get(AtsConnection, view.connection_id, with_for_update=True)
    if connection is None:
        return
    connection.last_error, connection.last_checked_at = error.user_message(), now
    if connection.healthy:
        connection.healthy = False
        kind = AlertKind.OUTAGE if isinstance(error, VendorUnavailable) else AlertKind.CONNECTION
        _connection_alert(
            session,
            view,
            connection,
            kind,
            now,
            code=error.code,
            message=error.user_message(),
        )


def connection_ok(session: Session, view: LinkView, *, now: datetime) -> None:
    """Mark an unhealthy connection healthy again, with a recovery alert."""
    connection = session.get(AtsConnection, view.connection_id)
    if connection is None or connection.healthy:
        return
    connection.healthy, connection.last_error, connection.last_checked_at = True, None, now
    _connection_alert(session, view, connection, AlertKind.RECOVERED, now)


def _connection_alert(
    session: Session,
    view: LinkView,
    connection: AtsConnection,
    kind: AlertKind,
    now: datetime,
    **details: str,
) -> None:
    raise_alert(
        session,
        view.team_id,
        kind=kind,
        incident_key=f"{kind.value}:connection-{connection.id}:{now.isoformat()}",
        link_id=None,
        channel=view.alert_channel,
        payload={"vendor": spec_of(view.vendor).label, **details},
    )
