"""App Home: published when a user opens it, and after anything its buttons start has finished.

The tab is drawn from the database only (no ATS call), so publishing fits in the event's 3 seconds.
"Export now" and "Post again" answer at once and run on `deps.background`; the tab is published again
when they are done, so the numbers the user sees are the ones the engine ended with.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ats.registry import exclusion_only, spec_of
from bot.deps import Deps
from bot.errors import known_error_text
from bot.features.admins.views import REFUSAL
from bot.features.alerts.delivery import deliver_alerts
from bot.features.alerts.digests import requeue
from bot.features.home.ids import HomeIds
from bot.features.home.views import (
    MAX_FAILURES,
    MAX_HELD_BACK,
    MAX_UNDELIVERED,
    ConnectionHealth,
    FailureRow,
    HeldBackRow,
    HomeData,
    SearchRow,
    UndeliveredRow,
    home_view,
)
from bot.features.link.listeners import open_link_form
from bot.ids import SLASH_COMMAND, BotEvent
from bot.middleware import AdminCheck, RequestScope, scoped
from bot.slack_clients import unpaced_client, waiting_client
from bot.views import notice_modal
from core.errors import ScaleUpError
from exports.report import link_reports
from storage.db import unit_of_work
from storage.enums import AlertStatus
from storage.models import Alert, Candidate, Export, Link, Search, Workspace
from storage.repositories import ConnectionRepository, SearchRepository
from storage.states import ExportState

log = logging.getLogger(__name__)

#: Searches the tab lists at most (Slack allows 100 blocks in a Home tab).
MAX_SEARCHES = 60


def register(app: App, deps: Deps) -> None:
    """Register the Home tab and its buttons."""
    app.event(BotEvent.APP_HOME_OPENED.value)(publish_home)
    app.action(HomeIds.OPEN_LINK.value)(open_export_settings)
    app.action(HomeIds.EXPORT_NOW.value)(export_now)
    app.action(HomeIds.REDELIVER.value)(post_again)
    app.action(HomeIds.REFRESH.value)(refresh_home)


# --- what the tab shows -------------------------------------------------------------------------------------


def collect_home(session: Session, deps: Deps, team_id: str, *, notice: str | None = None) -> HomeData:
    """Read what the Home tab shows from the database."""
    connection = ConnectionRepository(session, team_id).get_current()
    health = None
    if connection is not None:
        health = ConnectionHealth(
            vendor=spec_of(connection.vendor).label,
            healthy=connection.healthy,
            last_error=connection.last_error,
            last_checked_at=connection.last_checked_at,
        )
    searches = SearchRepository(session, team_id)
    rows = searches.list(order_by=Search.name, limit=MAX_SEARCHES)
    search_count = session.scalar(searches.base_statement().with_only_columns(func.count())) or 0
    reports = {r.search_id: r for r in link_reports(session, team_id)}
    failed = (
        select(Export.id, Candidate.first_name, Candidate.last_name, Search.name, Export.last_error_message)
        .join(Candidate, Candidate.id == Export.candidate_id)
        .join(Link, Link.id == Export.link_id)
        .join(Search, Search.id == Link.search_id)
        .where(Export.team_id == team_id, Export.state == ExportState.FAILED)
    )
    failures = [
        FailureRow(export_id, f"{first} {last}".strip(), search, reason)
        for export_id, first, last, search, reason in session.execute(
            failed.order_by(Export.updated_at.desc(), Export.id.desc()).limit(MAX_FAILURES)
        )
    ]
    failure_count = session.scalar(select(func.count()).select_from(failed.subquery())) or 0
    held = (
        select(Export.candidate_id, Export.link_id, Candidate.first_name, Candidate.last_name, Search.name)
        .add_columns(Export.ats_profile_url)
        .join(Candidate, Candidate.id == Export.candidate_id)
        .join(Link, Link.id == Export.link_id)
        .join(Search, Search.id == Link.search_id)
        .where(Export.team_id == team_id, Export.state == ExportState.EXCLUDED)
    )
    held_back = [
        HeldBackRow(candidate_id, link_id, f"{first} {last}".strip(), search, url)
        for candidate_id, link_id, first, last, search, url in session.execute(
            held.order_by(Export.updated_at.desc(), Export.id.desc()).limit(MAX_HELD_BACK)
        )
    ]
    held_back_count = session.scalar(select(func.count()).select_from(held.subquery())) or 0
    undeliverable = select(Alert).where(Alert.team_id == team_id, Alert.status == AlertStatus.UNDELIVERABLE)
    undelivered = [
        UndeliveredRow(
            alert_id=alert.id,
            kind=alert.kind.value,
            search=(alert.payload or {}).get("search"),
            channel=alert.channel,
            error=alert.last_error,
            raised_at=alert.created_at,
        )
        for alert in session.scalars(undeliverable.order_by(Alert.id.desc()).limit(MAX_UNDELIVERED))
    ]
    undelivered_count = session.scalar(select(func.count()).select_from(undeliverable.subquery())) or 0
    return HomeData(
        now=deps.now(),
        connection=health,
        searches=[SearchRow(s.id, s.name, reports.get(s.id)) for s in rows],
        search_count=search_count,
        failures=failures,
        failure_count=failure_count,
        held_back=held_back,
        held_back_count=held_back_count,
        vendor_takes_exports=connection is None
        or not exclusion_only(connection.vendor, connection.exclusion_only),
        undelivered=undelivered,
        undelivered_count=undelivered_count,
        notice=notice,
    )


def publish_home_for(
    deps: Deps, client: WebClient, team_id: str, user_id: str, *, notice: str | None = None
) -> None:
    """Publish the Home tab of `user_id` from background work (its own unit of work; waits out 429s)."""
    with unit_of_work(deps.services.sessions) as session:
        data = collect_home(session, deps, team_id, notice=notice)
    waiting_client(client).views_publish(user_id=user_id, view=home_view(data))


# --- listeners ----------------------------------------------------------------------------------------------


@scoped
def publish_home(
    event: dict[str, Any], client: WebClient, session: Session, workspace: Workspace, deps: Deps
) -> None:
    """Publish the Home tab for the user who opened it (the Messages tab needs nothing)."""
    if event.get("tab") == "home":
        data = collect_home(session, deps, workspace.team_id)
        client.views_publish(user_id=event["user"], view=home_view(data))


@scoped
def refresh_home(
    ack: Ack, body: dict[str, Any], client: WebClient, session: Session, workspace: Workspace, deps: Deps
) -> None:
    """Draw the tab again with the current numbers."""
    ack()
    client.views_publish(
        user_id=body["user"]["id"], view=home_view(collect_home(session, deps, workspace.team_id))
    )


@scoped
def open_export_settings(
    ack: Ack,
    body: dict[str, Any],
    client: WebClient,
    session: Session,
    workspace: Workspace,
    is_admin: AdminCheck,
    deps: Deps,
    scope: RequestScope,
) -> None:
    """Open the search's export settings (the link modal), as `/scaleup link <search>` does."""
    ack()
    connection = ConnectionRepository(session, workspace.team_id).get_current()
    if connection is None:
        text = f"No ATS is connected yet. A workspace admin connects one with `{SLASH_COMMAND} connect`."
        client.views_open(trigger_id=body["trigger_id"], view=notice_modal("Export settings", text))
        return
    if not is_admin():
        client.views_open(trigger_id=body["trigger_id"], view=notice_modal("Export settings", REFUSAL))
        return
    search = SearchRepository(session, workspace.team_id).get(int(body["actions"][0]["value"]))
    notice = None if search is not None else "That search no longer exists. Choose one below."
    open_link_form(client, body["trigger_id"], session, deps, scope, connection, search, notice=notice)


@scoped
def export_now(
    ack: Ack,
    body: dict[str, Any],
    client: WebClient,
    session: Session,
    workspace: Workspace,
    deps: Deps,
    scope: RequestScope,
) -> None:
    """Run a pass of every unpaused linked search now, in the background; the tab says so meanwhile."""
    ack()
    if deps.exports is None:
        raise ScaleUpError("Exporting is not available in this installation.")
    team_id, user_id = workspace.team_id, body["user"]["id"]
    link_ids = list(
        session.scalars(
            select(Link.id).where(Link.team_id == team_id, Link.paused.is_(False)).order_by(Link.id)
        )
    )
    notice = (
        f":hourglass_flowing_sand: Exporting {len(link_ids)} linked search(es) now…" if link_ids else None
    )
    client.views_publish(
        user_id=user_id,
        view=home_view(collect_home(session, deps, team_id, notice=notice or "No linked search to export.")),
    )
    if link_ids:
        scope.after_commit(run_export_now, deps, unpaced_client(client), team_id, user_id, link_ids)


def run_export_now(deps: Deps, client: WebClient, team_id: str, user_id: str, link_ids: list[int]) -> None:
    """Run one pass of each link, post the alerts it raised, then publish the tab with the new numbers."""
    problems = []
    for link_id in link_ids:
        try:
            deps.exports.run_pass(team_id, link_id, actor=f"slack:{user_id}")
        except Exception as exc:  # a known error of one link must not stop the others
            text = known_error_text(exc)
            if text is None:
                raise
            problems.append(text)
    deliver_alerts(deps.services, lambda _team: client, team_id=team_id)
    notice = "Export finished." + (" " + " ".join(problems[:3]) if problems else "")
    publish_home_for(deps, client, team_id, user_id, notice=notice)


@scoped
def post_again(
    ack: Ack,
    body: dict[str, Any],
    client: WebClient,
    session: Session,
    workspace: Workspace,
    deps: Deps,
    scope: RequestScope,
) -> None:
    """Put an undeliverable alert back in line (after its channel was fixed) and post it."""
    ack()
    alert_id = int(body["actions"][0]["value"])
    requeue(session, workspace.team_id, [alert_id])
    scope.after_commit(
        deliver_then_publish, deps, unpaced_client(client), workspace.team_id, body["user"]["id"]
    )


def deliver_then_publish(deps: Deps, client: WebClient, team_id: str, user_id: str) -> None:
    """Post the workspace's pending alerts, then publish the tab (an alert still refused shows again)."""
    report = deliver_alerts(deps.services, lambda _team: client, team_id=team_id)
    notice = f"Posted {len(report.posted) + len(report.updated)} alert(s)."
    if report.undeliverable:
        notice += f" {len(report.undeliverable)} still could not be posted."
    publish_home_for(deps, client, team_id, user_id, notice=notice)
