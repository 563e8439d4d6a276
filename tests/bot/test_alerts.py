"""Channel alerts: digests of real export outcomes posted to the Slack emulator, at Slack's pace, never lost.

Outcomes come from the export engine against the Greenhouse emulator (creates refused with 422 make
failures); delivery is `deliver_alerts`, as the worker calls it after a pass. Rates are checked on the
emulator's log of calls (arrival times per channel), never on how long the test took.
"""

from __future__ import annotations

import json
import re
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from export_world import (
    CREATE_PATH,
    blocks_of,
    deliver,
    email_of,
    linked_search,
    phone_of,
    posts,
    unthrottled_engine,
)
from slack_rig import PRIVATE_CHANNEL, PUBLIC_CHANNEL, TEAM, AppServer, connect_ats
from test_views import snapshot

from bot.features.alerts.delivery import ALERT_JOB_ID, register_alert_job
from bot.features.alerts.ids import AlertIds
from bot.features.alerts.views import MESSAGE_BLOCKS_MAX, Digest, DigestItem, RunFacts, digest_blocks
from bot.features.export.ids import ExportIds
from bot.worker import build_worker, create_scheduler, run_once
from core.redaction import redact
from devkit.slack.emulator import SlackCall
from exports.alerts import PassAlerts
from storage.db import unit_of_work
from storage.enums import AlertKind, AlertStatus
from storage.models import Alert
from storage.repositories import AlertRepository, ensure_workspace
from storage.states import ExportState

ARCHIVED = "CARCHIVE1"


def alerts(server: AppServer) -> list[Alert]:
    with unit_of_work(server.sessions) as session:
        rows = AlertRepository(session, TEAM).list(order_by=Alert.id)
        for row in rows:
            session.expunge(row)
        return rows


def texts_of(calls: list[SlackCall]) -> str:
    return json.dumps([{"text": c.payload.get("text"), "blocks": c.payload.get("blocks")} for c in calls])


def assert_no_personal_data(calls: list[SlackCall], name: str, count: int) -> None:
    dumped = texts_of(calls)
    assert "@example.com" not in dumped
    for n in range(count):
        assert email_of(name, n) not in dumped
        assert phone_of(n) not in dumped


def max_per_window(calls: list[SlackCall], window: float = 1.0) -> int:
    """Return the most calls that arrived within any `window` seconds (sliding, by arrival time)."""
    times = sorted(c.at for c in calls)
    return max((sum(1 for u in times if t <= u < t + window) for t in times), default=0)


def test_a_pass_with_300_failures_posts_one_digest_per_link_and_kind(
    app_server: AppServer, greenhouse: Any
) -> None:
    connection_id = connect_ats(app_server, greenhouse, jobs_loaded=False)
    engine = unthrottled_engine(app_server)
    _, link_id = linked_search(app_server, connection_id, "Backend hires", with_email=300, without_email=3)
    greenhouse.faults.fail_next(300, status=422, method="POST", path=CREATE_PATH)

    result = engine.run_pass(TEAM, link_id)
    counts = engine.status(TEAM, link_id)
    assert counts[ExportState.FAILED] == 300 == result.failed
    assert counts[ExportState.REACHOUT_ON_LINKEDIN] == 3

    report = deliver(app_server)
    channel_posts = posts(app_server, PUBLIC_CHANNEL)
    kinds = sorted(a.kind for a in alerts(app_server))
    assert kinds == sorted([AlertKind.FAILED, AlertKind.MISSING_EMAIL])
    assert len(channel_posts) == 2 == len(report.posted)  # one digest per link and kind
    failed = next(c for c in channel_posts if "could not be exported" in c.payload["text"])
    blocks = blocks_of(failed)
    assert len(blocks) <= MESSAGE_BLOCKS_MAX
    assert "300 candidates" in failed.payload["text"]
    retries = [
        b["accessory"] for b in blocks if b.get("accessory", {}).get("action_id") == ExportIds.RETRY_BUTTON
    ]
    assert len(retries) == 10
    assert all(json.loads(r["value"])["export_id"] for r in retries)
    assert "and 290 more" in json.dumps(blocks)
    assert any(
        e["action_id"] == AlertIds.RETRY_ALL for b in blocks if b["type"] == "actions" for e in b["elements"]
    )
    missing = next(c for c in channel_posts if "wait for an email" in c.payload["text"])
    add_email = [b["accessory"] for b in blocks_of(missing) if "accessory" in b]
    assert [a["action_id"] for a in add_email] == [ExportIds.ADD_EMAIL_BUTTON] * 3
    assert "linkedin.com/in/backend-300" in json.dumps(blocks_of(missing))
    assert_no_personal_data(channel_posts, "Backend hires", 303)
    for block in blocks:
        assert len(block.get("text", {}).get("text", "")) <= 3000
    assert all(a.status == AlertStatus.POSTED for a in alerts(app_server))

    # A second delivery has nothing left to post.
    deliver(app_server)
    assert len(posts(app_server, PUBLIC_CHANNEL)) == 2


def test_burst_stays_within_one_message_per_second_per_channel_and_waits_out_429(
    app_server: AppServer, greenhouse: Any
) -> None:
    connection_id = connect_ats(app_server, greenhouse, jobs_loaded=False)
    engine = unthrottled_engine(app_server)
    app_server.slack.add_channel("CSECOND1", "second-alerts", member=True)
    # Two links per channel, each pass raising two kinds: four alerts queued on each channel.
    links = [
        linked_search(
            app_server, connection_id, f"Search{n} hires", with_email=2, without_email=1, channel=channel
        )[1]
        for n, channel in enumerate([PUBLIC_CHANNEL, PUBLIC_CHANNEL, "CSECOND1", "CSECOND1"])
    ]
    for link_id in links:
        greenhouse.faults.fail_next(2, status=422, method="POST", path=CREATE_PATH)
        engine.run_pass(TEAM, link_id)
    app_server.slack.throttle("chat.postMessage", times=1, retry_after=1)

    report = deliver(app_server)

    assert len(report.posted) == 8 and report.rate_limited == 1
    throttled = app_server.slack.throttled_calls("chat.postMessage")
    assert len(throttled) == 1
    for channel in (PUBLIC_CHANNEL, "CSECOND1"):
        calls = posts(app_server, channel)
        assert len(calls) == 4
        assert max_per_window(calls) == 1, "more than one message per second to one channel"
    # The rate-limited message was posted again after Slack's Retry-After, and nothing posted to its
    # channel inside that window.
    limited_channel = throttled[0].payload["channel"]
    retried = [c for c in posts(app_server, limited_channel) if c.at > throttled[0].at]
    assert retried and all(c.at >= throttled[0].at + 1.0 for c in retried)
    assert all(a.status == AlertStatus.POSTED for a in alerts(app_server))


def test_undeliverable_alerts_are_kept_with_their_reason(app_server: AppServer, greenhouse: Any) -> None:
    connection_id = connect_ats(app_server, greenhouse, jobs_loaded=False)
    engine = unthrottled_engine(app_server)
    app_server.slack.add_channel(ARCHIVED, "old-alerts", archived=True)
    _, archived_link = linked_search(
        app_server, connection_id, "Archived hires", without_email=1, channel=ARCHIVED
    )
    _, private_link = linked_search(
        app_server, connection_id, "Private hires", without_email=1, channel=PRIVATE_CHANNEL
    )
    _, silent_link = linked_search(app_server, connection_id, "Silent hires", without_email=1, channel=None)
    for link_id in (archived_link, private_link, silent_link):
        engine.run_pass(TEAM, link_id)

    report = deliver(app_server)

    assert len(report.undeliverable) == 3 and not report.posted
    errors = {a.link_id: (a.status, a.last_error) for a in alerts(app_server)}
    assert errors == {
        archived_link: (AlertStatus.UNDELIVERABLE, "is_archived"),
        private_link: (AlertStatus.UNDELIVERABLE, "not_in_channel"),
        silent_link: (AlertStatus.UNDELIVERABLE, "no_alert_channel"),
    }
    deliver(app_server)  # kept, not retried in a loop, not deleted
    assert len(alerts(app_server)) == 3


def test_later_events_of_an_incident_update_its_message_or_reply_in_its_thread(
    app_server: AppServer, greenhouse: Any
) -> None:
    connection_id = connect_ats(app_server, greenhouse, jobs_loaded=False)
    engine = unthrottled_engine(app_server)
    _, link_id = linked_search(app_server, connection_id, "Ops hires", with_email=3)
    greenhouse.faults.fail_next(1, status=422, method="POST", path=CREATE_PATH)
    engine.run_pass(TEAM, link_id, limit=1)
    deliver(app_server)
    (_first,) = posts(app_server, PUBLIC_CHANNEL)

    # The engine extends the same pass's row after it was posted: the message is updated, not repeated.
    with unit_of_work(app_server.sessions) as session:
        alert = session.query(Alert).filter_by(kind=AlertKind.FAILED).one()
        extra = PassAlerts(TEAM, link_id, alert.payload["pass_id"], PUBLIC_CHANNEL, {})
        extra.outcome(ExportState.FAILED, alert.payload["candidates"][0]["candidate_id"], message="again")
        extra.flush(session)
    deliver(app_server)
    assert len(posts(app_server, PUBLIC_CHANNEL)) == 1
    (update,) = app_server.slack.calls("chat.update")
    assert update.payload["ts"] == alerts(app_server)[0].slack_ts
    assert "2 candidates" in update.payload["text"]

    # A broken connection, then "works again" in its thread, and the original marked resolved.
    with unit_of_work(app_server.sessions) as session:
        repo = AlertRepository(session, TEAM)
        repo.add(
            Alert(
                kind=AlertKind.CONNECTION,
                incident_key="connection:x:1",
                channel=PUBLIC_CHANNEL,
                payload={"vendor": "Greenhouse", "message": "Greenhouse refused the API key."},
            )
        )
    deliver(app_server)
    with unit_of_work(app_server.sessions) as session:
        AlertRepository(session, TEAM).add(
            Alert(
                kind=AlertKind.RECOVERED,
                incident_key="recovered:x:2",
                channel=PUBLIC_CHANNEL,
                payload={"vendor": "Greenhouse"},
            )
        )
    deliver(app_server)
    broken, recovered = posts(app_server, PUBLIC_CHANNEL)[1:]
    assert "stopped working" in broken.payload["text"]
    connection_alert = next(a for a in alerts(app_server) if a.kind is AlertKind.CONNECTION)
    assert recovered.payload["thread_ts"] == connection_alert.slack_ts
    resolved = app_server.slack.calls("chat.update")[-1]
    assert resolved.payload["ts"] == connection_alert.slack_ts and "Resolved" in json.dumps(
        resolved.payload["blocks"]
    )


def test_an_outage_is_told_once_and_its_recovery_replies_in_its_thread(
    app_server: AppServer, greenhouse: Any
) -> None:
    connection_id = connect_ats(app_server, greenhouse, jobs_loaded=False)
    engine = unthrottled_engine(app_server)
    _, link_id = linked_search(app_server, connection_id, "Down hires", with_email=1)
    greenhouse.faults.fail_always(status=503)
    engine.run_pass(TEAM, link_id)
    engine.run_pass(TEAM, link_id)  # still down: no second alert
    greenhouse.faults.clear()
    engine.run_pass(TEAM, link_id)

    deliver(app_server)

    outage, recovered, summary = posts(app_server, PUBLIC_CHANNEL)
    assert "is not answering" in outage.payload["text"] and "works again" in recovered.payload["text"]
    assert "1 candidate" in summary.payload["text"] and "exported to Greenhouse" in summary.payload["text"]
    (outage_row,) = [a for a in alerts(app_server) if a.kind is AlertKind.OUTAGE]
    assert recovered.payload["thread_ts"] == outage_row.slack_ts
    (resolved,) = app_server.slack.calls("chat.update")
    assert resolved.payload["ts"] == outage_row.slack_ts and "Resolved" in json.dumps(
        resolved.payload["blocks"]
    )


def test_digest_views_respect_limits_and_hide_emails_and_phones() -> None:
    items = [
        DigestItem(
            name=f"Very Long Name {n} " * 20,
            profile_url=f"https://www.linkedin.com/in/p{n}",
            reason=f"Email p{n}@example.com is invalid; call +1 (415) 555-{n:04d} " * 40,
            export_id=n,
            candidate_id=n,
        )
        for n in range(120)
    ]
    digest = Digest(
        alert_id=1, kind=AlertKind.FAILED, vendor="Greenhouse", search="S", count=120, items=items
    )
    blocks = [b.to_dict() for b in digest_blocks(digest, max_listed=120)]
    assert len(blocks) <= MESSAGE_BLOCKS_MAX
    dumped = json.dumps(blocks)
    assert "@example.com" not in dumped and not re.search(r"555-\d{4}", dumped)
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)
    assert redact("write to a.b@c.io or +44 20 7946 0958, job 4001") == (
        "write to [email hidden] or [phone hidden], job 4001"
    )


def test_worker_hook_adds_one_alert_job_that_posts_with_the_bot_token(app_server: AppServer) -> None:
    # `scaleup worker` adds it next to the export jobs (and `--once` runs it after its pass).
    worker = build_worker(app_server.services, worker_id="alerts-test")
    try:
        scheduler = create_scheduler(worker.settings, worker.deps)
        for add_job in worker.extra_jobs:
            add_job(scheduler)
        assert ALERT_JOB_ID in {job.id for job in scheduler.get_jobs()}
        with unit_of_work(app_server.sessions) as session:
            ensure_workspace(session, TEAM)
            AlertRepository(session, TEAM).add(
                Alert(
                    kind=AlertKind.RECOVERED, incident_key="r:1", channel="CONCE", payload={"vendor": "Lever"}
                )
            )
        run_once(worker)
        (once,) = posts(app_server, "CONCE")
        assert "Lever works again" in once.payload["text"]
    finally:
        worker.close()
    scheduler = BackgroundScheduler(timezone="UTC")
    register_alert_job(scheduler, app_server.services)
    (job,) = scheduler.get_jobs()
    assert (job.id, job.max_instances, job.coalesce) == (ALERT_JOB_ID, 1, True)
    with unit_of_work(app_server.sessions) as session:
        ensure_workspace(session, TEAM)
        AlertRepository(session, TEAM).add(
            Alert(
                kind=AlertKind.OUTAGE,
                incident_key="outage:1",
                channel=PUBLIC_CHANNEL,
                payload={"vendor": "Greenhouse", "message": "Greenhouse answers 503."},
            )
        )
    job.func()
    (post,) = posts(app_server, PUBLIC_CHANNEL)
    assert "Greenhouse is not answering" in post.payload["text"]


def test_digest_snapshots_of_every_kind() -> None:
    items = [
        DigestItem(
            name="Ada Lovelace",
            profile_url="https://www.linkedin.com/in/ada",
            ats_url="https://app.greenhouse.io/people/501",
            ats_id="501",
            reason="Greenhouse refused the application: stage is not valid",
            export_id=7,
            candidate_id=3,
        )
    ]
    rendered = {
        kind.value: [
            b.to_dict()
            for b in digest_blocks(
                Digest(
                    alert_id=9,
                    kind=kind,
                    vendor="Greenhouse",
                    search="Backend hires",
                    search_id=2,
                    link_id=4,
                    job="Senior Backend Engineer",
                    count=12,
                    items=items,
                    reason="The job “Senior Backend Engineer” is closed in Greenhouse.",
                    resolved=kind is AlertKind.CONNECTION,
                    run=RunFacts(
                        "0f3a9c",
                        undoable=True,
                        undone_by="slack:U0ADMIN" if kind is AlertKind.UNDONE else None,
                        undone=10,
                        total=12,
                    )
                    if kind in (AlertKind.EXPORTED, AlertKind.UNDONE)
                    else None,
                    tally={"updated": 2, "conflict": 1, "by_hand": 1, "gone": 1}
                    if kind is AlertKind.CONTACTS
                    else {},
                )
            )
        ]
        for kind in AlertKind
    }
    snapshot("alert_digests", rendered)
