"""Link and connection health: a closed job pauses its link, refused credentials mark the connection.

Each incident writes one alert: pausing an already paused link, or failing an already unhealthy connection,
changes nothing, so a closed job never turns into a hundred failures or a hundred alerts.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from ats.base import AtsAdapter
from ats.errors import AtsError, NotFound, VendorUnavailable
from exports.alerts import raise_alert
from exports.eligibility import LinkView, load_link
from storage.enums import AlertKind, ExportAs
from storage.models import AtsConnection

log = logging.getLogger(__name__)


def job_problem(view: LinkView, adapter: AtsAdapter) -> str | None:
    """Return why the link cannot export to its job any more (closed, deleted, stage gone), or None.

    Raises:
        AtsError: the ATS could not be asked (transient or connection errors); the link is fine as far as
            anyone knows.
    """
    if adapter.capabilities.exclusion_only or not view.job_id:
        return None
    vendor, name = view.vendor.label, view.job_name or view.job_id
    try:
        job = adapter.get_job(view.job_id)
    except NotFound:
        return f"The job “{name}” no longer exists in {vendor}."
    if not job.is_open:
        return f"The job “{job.name or name}” is {job.status or 'closed'} in {vendor}."
    if view.stage_id and view.export_as == ExportAs.APPLICANT:
        try:
            stage_ids = {stage.id for stage in adapter.list_stages(view.job_id)}
        except NotFound:
            stage_ids = set()
        if view.stage_id not in stage_ids:
            stage = f"“{view.stage_name}”" if view.stage_name else view.stage_id
            return f"The stage {stage} of “{job.name or name}” no longer exists in {vendor}."
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
        payload={"vendor": view.vendor.label, **details},
    )
