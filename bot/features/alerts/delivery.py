"""The alert poster: pending outbox rows → one Slack message each, at Slack's pace, never dropped.

The export engine writes `Alert` rows (one per pass, link and kind, see `exports.alerts`); this module
posts them. Slack allows about one `chat.postMessage` per second per channel and answers 429 with
`Retry-After` beyond that (https://docs.slack.dev/apis/web-api/rate-limits), so posting is paced per
channel and a 429 holds that channel (only) for as long as Slack asks. Later events of an incident
update its message (`chat.update`, when the engine extended a posted row) or go in its thread (the
"works again" reply to a broken connection or an outage). An alert Slack refuses for good (archived
channel, app not in it, no channel set) is marked `undeliverable` with the reason and stays in the table,
where App Home shows it; one that keeps failing for other reasons becomes undeliverable after
`MAX_ATTEMPTS`.

Callers: the worker, on its scheduler (`register_alert_job(scheduler, services)`: one line next to the
export jobs, or `deliver_alerts(services, clients_by_team(services))` after a pass), and the app after
"Export now", "Retry all" and "Post again" (for the one workspace).

Delivery takes no lock: two deliverers working on the same pending row at the same instant (the worker's
job and a button in the app) could both post it. The window is one Slack call long and the only harm is
a repeated message, which is preferred to holding a database lock across a network call.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.features.alerts.digests import build_digest, incident_parent, thread_parent
from bot.features.alerts.views import NO_CHANNEL, digest_blocks, fallback_text
from bot.slack_clients import clients_by_team
from bot.wiring import Services
from storage.base import utcnow
from storage.db import unit_of_work
from storage.enums import AlertKind, AlertStatus
from storage.models import Alert

log = logging.getLogger(__name__)

#: A hair over Slack's one message per second per channel, so network jitter never puts two in one second.
MIN_INTERVAL = 1.05
#: Delivery attempts (not counting 429 waits) before an alert is given up as undeliverable.
MAX_ATTEMPTS = 5
#: 429s one alert may meet within one delivery run before it waits for the next run.
MAX_RATE_LIMITED = 3
#: The longest Retry-After honoured inside one run; longer waits are left to the next run.
MAX_RETRY_AFTER = 30.0

#: Errors that posting again will not fix: the alert is kept as undeliverable and shown in App Home.
#: (https://docs.slack.dev/reference/methods/chat.postMessage#errors)
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
        "cannot_reply_to_message",
        "account_inactive",
        "token_revoked",
        "invalid_auth",
        "not_authed",
        "no_permission",
        "missing_scope",
        "team_access_not_granted",
        "ekm_access_denied",
        "invalid_blocks",
        "msg_too_long",
        "no_text",
        "too_many_attachments",
    }
)
#: chat.update on a message someone deleted: post it again as a new message.
GONE = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})


class ChannelPacer:
    """Spaces Slack posts per channel: at most one per `interval` seconds, longer after a 429.

    Keep one per process (or per delivery run) so that every post to a channel goes through it.
    """

    def __init__(
        self,
        interval: float = MIN_INTERVAL,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._ready_at: dict[str, float] = {}

    def ready_at(self, channel: str) -> float:
        """Return when `channel` may get its next post."""
        return self._ready_at.get(channel, 0.0)

    def wait(self, channel: str) -> None:
        """Sleep until `channel` may get a post, and count this one."""
        delay = self.ready_at(channel) - self._clock()
        if delay > 0:
            self._sleep(delay)
        self._ready_at[channel] = self._clock() + self.interval

    def hold(self, channel: str, seconds: float) -> None:
        """Post nothing to `channel` for `seconds` (Slack's Retry-After)."""
        self._ready_at[channel] = max(self.ready_at(channel), self._clock() + seconds)


@dataclass
class DeliveryReport:
    """What one delivery run did (alert ids)."""

    posted: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    undeliverable: list[int] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)  # still pending: rate-limited or a transient error
    rate_limited: int = 0


@dataclass(frozen=True)
class _Rendered:
    alert_id: int
    channel: str
    text: str
    blocks: list[dict[str, Any]]
    ts: str | None  # the message to update
    thread_ts: str | None  # the thread to reply in
    count: int
    parent_id: int | None = None  # the incident this alert resolves


class _RateLimited(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after}s")
        self.retry_after = retry_after


class AlertPoster:
    """Posts pending alerts to their channels.

    Args:
        sessions: the app's session factory (each alert is read and recorded in its own unit of work).
        client_for_team: the Slack client of a workspace (None when the app is not installed there).
        pacer: per-channel spacing of posts, shared by every run of this poster.
        max_listed: candidates a digest lists by name.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        client_for_team: Callable[[str], WebClient | None],
        *,
        pacer: ChannelPacer | None = None,
        max_listed: int = 10,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.sessions = sessions
        self.client_for_team = client_for_team
        self.pacer = pacer or ChannelPacer()
        self.max_listed = max_listed
        self.max_attempts = max_attempts

    def deliver(self, team_id: str | None = None, *, limit: int = 500) -> DeliveryReport:
        """Post (or update) every pending alert, oldest first per channel, channels interleaved."""
        report = DeliveryReport()
        queues: dict[tuple[str, str], deque[int]] = {}
        with unit_of_work(self.sessions) as session:
            stmt = select(Alert.id, Alert.team_id, Alert.channel).where(Alert.status == AlertStatus.PENDING)
            if team_id is not None:
                stmt = stmt.where(Alert.team_id == team_id)
            rows = session.execute(stmt.order_by(Alert.id).limit(limit)).all()
        for alert_id, team, channel in rows:
            if not channel:
                self._record_error(alert_id, NO_CHANNEL, permanent=True, report=report)
                continue
            queues.setdefault((team, channel), deque()).append(alert_id)
        clients: dict[str, WebClient | None] = {}
        limited: dict[int, int] = {}
        while queues:
            # The channel that may be posted to soonest; others never wait behind a slow one.
            key = min(queues, key=lambda k: self.pacer.ready_at(k[1]))
            team, channel = key
            alert_id = queues[key][0]
            if team not in clients:
                clients[team] = self.client_for_team(team)
            client = clients[team]
            if client is None:
                log.debug("no Slack token for workspace %s; its alerts wait", team)
                report.waiting.extend(queues.pop(key))
                continue
            try:
                self._deliver_one(client, alert_id, report)
            except _RateLimited as exc:
                report.rate_limited += 1
                limited[alert_id] = limited.get(alert_id, 0) + 1
                if limited[alert_id] >= MAX_RATE_LIMITED or exc.retry_after > MAX_RETRY_AFTER:
                    self._record_error(alert_id, "ratelimited", permanent=False, report=report)
                    report.waiting.extend(queues.pop(key))
                else:
                    self.pacer.hold(channel, exc.retry_after)
                continue
            queues[key].popleft()
            if not queues[key]:
                del queues[key]
        return report

    # --- one alert ----------------------------------------------------------------------------------------

    def _deliver_one(self, client: WebClient, alert_id: int, report: DeliveryReport) -> None:
        with unit_of_work(self.sessions) as session:
            rendered = self._render(session, alert_id)
        if rendered is None:
            return
        try:
            ts, updated = self._send(client, rendered)
        except SlackApiError as exc:
            if exc.response.status_code == 429:
                raise _RateLimited(_retry_after(exc)) from exc
            error = str(exc.response.get("error") or "unknown_error")
            self._record_error(alert_id, error, permanent=error in PERMANENT_ERRORS, report=report)
            return
        except (OSError, TimeoutError) as exc:  # the network, not Slack's answer: try again next run
            self._record_error(alert_id, type(exc).__name__, permanent=False, report=report)
            return
        self._record_posted(rendered, ts)
        (report.updated if updated else report.posted).append(alert_id)
        if rendered.parent_id is not None:
            self._mark_resolved(client, rendered.parent_id)

    def _send(self, client: WebClient, rendered: _Rendered) -> tuple[str, bool]:
        """Post or update the message; return (its ts, whether an existing message was updated)."""
        if rendered.ts:
            self.pacer.wait(rendered.channel)
            try:
                client.chat_update(
                    channel=rendered.channel, ts=rendered.ts, text=rendered.text, blocks=rendered.blocks
                )
                return rendered.ts, True
            except SlackApiError as exc:
                if exc.response.get("error") not in GONE:
                    raise
                log.info("alert %s: its message is gone; posting it again", rendered.alert_id)
        self.pacer.wait(rendered.channel)
        answer = client.chat_postMessage(
            channel=rendered.channel,
            text=rendered.text,
            blocks=rendered.blocks,
            thread_ts=rendered.thread_ts,
            unfurl_links=False,
            unfurl_media=False,
        )
        return str(answer["ts"]), False

    def _mark_resolved(self, client: WebClient, parent_id: int) -> None:
        """Redraw the broken-connection or outage message as resolved (best effort: the thread says it too)."""
        with unit_of_work(self.sessions) as session:
            parent = session.get(Alert, parent_id)
            if parent is None or not parent.slack_ts or parent.channel is None:
                return
            parent.payload = {**parent.payload, "resolved": True}
            rendered = self._render(session, parent_id, force=True)
        if rendered is None:
            return
        try:
            self.pacer.wait(rendered.channel)
            client.chat_update(
                channel=rendered.channel, ts=rendered.ts, text=rendered.text, blocks=rendered.blocks
            )
        except SlackApiError as exc:
            log.info("could not mark alert %s resolved: %s", parent_id, exc.response.get("error"))

    # --- reading and recording ----------------------------------------------------------------------------

    def _render(self, session: Session, alert_id: int, *, force: bool = False) -> _Rendered | None:
        alert = session.get(Alert, alert_id)
        if alert is None or alert.channel is None or (alert.status != AlertStatus.PENDING and not force):
            return None
        digest = build_digest(session, alert, max_listed=self.max_listed)
        thread_ts = parent_id = None
        if alert.kind is AlertKind.RECOVERED and not alert.slack_ts:
            parent = incident_parent(session, alert)
            if parent is not None:
                thread_ts, parent_id = parent.slack_ts, parent.id
        elif not alert.slack_ts and (answered := thread_parent(session, alert)) is not None:
            thread_ts = answered.slack_ts
        return _Rendered(
            alert_id=alert.id,
            channel=alert.channel,
            text=fallback_text(digest),
            blocks=[b.to_dict() for b in digest_blocks(digest, max_listed=self.max_listed)],
            ts=alert.slack_ts,
            thread_ts=thread_ts,
            count=int(alert.payload.get("count") or 0),
            parent_id=parent_id,
        )

    def _record_posted(self, rendered: _Rendered, ts: str) -> None:
        with unit_of_work(self.sessions) as session:
            alert = session.get(Alert, rendered.alert_id)
            if alert is None:
                return
            alert.slack_ts = ts
            alert.posted_at = utcnow()
            alert.attempts += 1
            alert.last_error = None
            # The engine may have added candidates while we posted: then it stays pending, to be updated.
            if int(alert.payload.get("count") or 0) == rendered.count:
                alert.status = AlertStatus.POSTED

    def _record_error(self, alert_id: int, error: str, *, permanent: bool, report: DeliveryReport) -> None:
        with unit_of_work(self.sessions) as session:
            alert = session.get(Alert, alert_id)
            if alert is None:
                return
            alert.attempts += 1
            alert.last_error = error
            if permanent or alert.attempts >= self.max_attempts:
                alert.status = AlertStatus.UNDELIVERABLE
        if permanent or error != "ratelimited":
            log.warning("alert %s not posted: %s", alert_id, error)
        (report.undeliverable if permanent else report.waiting).append(alert_id)


def _retry_after(exc: SlackApiError) -> float:
    headers = getattr(exc.response, "headers", None) or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(0.0, float(value)) if value is not None else 1.0
    except ValueError:
        return 1.0


#: The scheduler job's stable id.
ALERT_JOB_ID = "alerts.deliver"


def register_alert_job(scheduler: Any, services: Services, *, seconds: float | None = None) -> None:
    """Add the job that posts pending alerts to an APScheduler scheduler (every worker tick by default).

    One instance at a time and missed runs coalesced, like the export jobs; its pacer lives as long as
    the job, so posts of consecutive runs to one channel stay a second apart.
    """
    clients = clients_by_team(services)
    poster = AlertPoster(services.sessions, clients)
    scheduler.add_job(
        poster.deliver,
        "interval",
        seconds=seconds or services.settings.worker_tick_seconds,
        id=ALERT_JOB_ID,
        name="post pending alerts to their Slack channels",
        max_instances=1,
        coalesce=True,
        replace_existing=True,
    )


def deliver_alerts(
    services: Services | sessionmaker[Session],
    client_for_team: Callable[[str], WebClient | None],
    *,
    team_id: str | None = None,
    pacer: ChannelPacer | None = None,
) -> DeliveryReport:
    """Post every pending alert (of one workspace, or all); the worker calls this after each pass.

    In the worker: `deliver_alerts(services, clients_by_team(services))`.
    """
    sessions = services.sessions if isinstance(services, Services) else services
    return AlertPoster(sessions, client_for_team, pacer=pacer).deliver(team_id)
