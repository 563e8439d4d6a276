"""Where the work stands across every workspace, read when the app's metrics are scraped (`bot.metrics`).

Only numbers, by export state, ATS vendor and alert status: nothing here names a workspace, a person, an
address or a job, so the figures can leave the app (a Prometheus server) without leaking anyone's data.
Each figure is one aggregate query, so a scrape costs the database a few index or table scans whatever the
number of workspaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.vocabulary import Vendor
from exports.claims import link_is_due, retry_is_due
from storage.enums import AlertStatus, LinkMode
from storage.models import Alert, AtsConnection, Export, Link
from storage.states import ExportState

#: Alerts not (yet) in their channel: waiting for the poster, or given up and shown in App Home only.
UNDELIVERED = (AlertStatus.PENDING, AlertStatus.UNDELIVERABLE)


@dataclass(frozen=True)
class Gauges:
    """The figures of one read.

    Attributes:
        exports: export records by (state, vendor), every pair present (zero when none), so a series never
            vanishes from a dashboard when its last record moves on.
        links_due: automatic links whose pass is due now and that no worker holds.
        retries_due: pending exports on automatic links whose retry back-off is over.
        alerts_undelivered: alerts by status, for the statuses of `UNDELIVERED`.
    """

    exports: dict[tuple[ExportState, Vendor], int]
    links_due: int
    retries_due: int
    alerts_undelivered: dict[AlertStatus, int]


def read_gauges(session: Session, now: datetime) -> Gauges:
    """Read every figure of `Gauges` in `session` (read-only: nothing is written)."""
    exports = dict.fromkeys(((state, vendor) for state in ExportState for vendor in Vendor), 0)
    by_state_and_vendor = (
        select(Export.state, AtsConnection.vendor, func.count())
        .join(Link, Link.id == Export.link_id)
        .join(AtsConnection, AtsConnection.id == Link.connection_id)
        .group_by(Export.state, AtsConnection.vendor)
    )
    for state, vendor, count in session.execute(by_state_and_vendor):
        exports[(ExportState(state), Vendor(vendor))] = count
    retries_due = (
        select(func.count())
        .select_from(Export)
        .join(Link, Link.id == Export.link_id)
        .where(retry_is_due(now), Link.mode == LinkMode.AUTOMATIC, Link.paused.is_(False))
    )
    alerts = dict.fromkeys(UNDELIVERED, 0)
    by_status = select(Alert.status, func.count()).where(Alert.status.in_(UNDELIVERED)).group_by(Alert.status)
    for status, count in session.execute(by_status):
        alerts[AlertStatus(status)] = count
    return Gauges(
        exports=exports,
        links_due=session.scalar(select(func.count()).select_from(Link).where(link_is_due(now))) or 0,
        retries_due=session.scalar(retries_due) or 0,
        alerts_undelivered=alerts,
    )
