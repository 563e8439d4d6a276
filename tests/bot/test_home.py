"""App Home over signed HTTP: every search with ⚡ export settings, failures with Retry, alerts that could
not be posted (kept and shown, posted again on request), the connection's health and "Export now"."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from export_world import CREATE_PATH, deliver, linked_search, posts, unthrottled_engine, wait_until
from slack_rig import ADMIN, MEMBER, PUBLIC_CHANNEL, TEAM, AppServer, block_actions, connect_ats
from test_status import parse_counts, report
from test_views import snapshot

from bot.features.admins.views import REFUSAL
from bot.features.export.ids import ExportIds
from bot.features.home.ids import HomeIds
from bot.features.home.views import (
    ConnectionHealth,
    FailureRow,
    HomeData,
    SearchRow,
    UndeliveredRow,
    home_view,
)
from bot.features.link.ids import LinkIds
from storage.db import unit_of_work
from storage.enums import AlertStatus
from storage.models import Alert
from storage.repositories import SearchRepository
from storage.states import ExportState

ARCHIVED = "CARCHIVE2"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def open_home(server: AppServer, user: str = ADMIN) -> dict[str, Any]:
    before = len(server.slack.calls("views.publish"))
    assert (
        server.event({"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"}).status_code
        == 200
    )
    calls = server.slack.calls("views.publish")
    assert len(calls) == before + 1
    return server.slack.view(f"VHOME{user}")


def press(server: AppServer, view: dict[str, Any], action_id: str, value: str, *, user: str = ADMIN) -> None:
    action = {"action_id": action_id, "block_id": "b", "type": "button", "value": value}
    assert server.interact(block_actions(view, action, user=user)).status_code == 200


def accessories(view: dict[str, Any], action_id: str) -> list[dict[str, Any]]:
    return [b["accessory"] for b in view["blocks"] if b.get("accessory", {}).get("action_id") == action_id]


def test_home_shows_every_search_failures_and_undeliverable_alerts_until_posted(
    app_server: AppServer, greenhouse: Any
) -> None:
    connection_id = connect_ats(app_server, greenhouse, jobs_loaded=False)
    channel = app_server.slack.add_channel(ARCHIVED, "old-alerts", archived=True)
    _, link_id = linked_search(app_server, connection_id, "Archived hires", with_email=2, channel=ARCHIVED)
    with unit_of_work(app_server.sessions) as session:
        unlinked = SearchRepository(session, TEAM).get_or_create("Unlinked hires").id
    greenhouse.faults.fail_next(2, status=422, method="POST", path=CREATE_PATH)
    engine = unthrottled_engine(app_server)
    engine.run_pass(TEAM, link_id)
    assert deliver(app_server).undeliverable

    home = open_home(app_server)
    dumped = json.dumps(home)
    assert "is connected and working" in dumped
    settings = accessories(home, HomeIds.OPEN_LINK)
    assert len(settings) == 2 and all(s["text"]["text"].startswith("⚡") for s in settings)
    assert "not linked to the ATS" in dumped
    assert len(accessories(home, ExportIds.RETRY_BUTTON)) == 2
    (post_again,) = accessories(home, HomeIds.REDELIVER)
    assert "is_archived" in dumped and "unarchive" in dumped
    assert "@example.com" not in dumped
    linked_text = next(
        b["text"]["text"]
        for b in home["blocks"]
        if b.get("text", {}).get("text", "").startswith("*Archived hires*")
    )
    assert parse_counts(linked_text) == engine.status(TEAM, link_id)

    # Retry on the tab is the export feature's button: the failed candidate is exported again.
    retry = accessories(home, ExportIds.RETRY_BUTTON)[0]
    press(app_server, home, ExportIds.RETRY_BUTTON, retry["value"])
    app_server.settle()
    assert engine.status(TEAM, link_id)[ExportState.FAILED] == 1

    # ⚡ opens the link modal for that search (admins), and says why not to others.
    press(app_server, home, HomeIds.OPEN_LINK, str(unlinked))
    opened = app_server.slack.calls("views.open")[-1].payload["view"]
    assert opened["callback_id"] == LinkIds.VIEW
    search_select = next(b for b in opened["blocks"] if b.get("block_id") == LinkIds.SEARCH_BLOCK)
    assert search_select["element"]["initial_option"]["value"] == str(unlinked)
    press(app_server, open_home(app_server, MEMBER), HomeIds.OPEN_LINK, str(unlinked), user=MEMBER)
    assert REFUSAL in json.dumps(app_server.slack.calls("views.open")[-1].payload["view"])

    # Once the channel is fixed, "Post again" posts the kept alert and the tab no longer lists it.
    channel.is_archived = False
    press(app_server, home, HomeIds.REDELIVER, post_again["value"])
    app_server.settle()
    # The failed digest refused while archived, then posted; the retried export's summary, refused.
    assert len(posts(app_server, ARCHIVED)) == 3
    with unit_of_work(app_server.sessions) as session:
        assert session.get(Alert, int(post_again["value"])).status == AlertStatus.POSTED
    assert not accessories(app_server.slack.view(f"VHOME{ADMIN}"), HomeIds.REDELIVER)


def test_export_now_runs_a_pass_in_the_background_then_shows_the_new_counts(
    app_server: AppServer, greenhouse: Any
) -> None:
    connection_id = connect_ats(app_server, greenhouse, jobs_loaded=False)
    _, link_id = linked_search(app_server, connection_id, "Quick hires", with_email=2, without_email=1)
    home = open_home(app_server)
    assert "Not yet seen by a pass: 3 · In the search: 3" in json.dumps(home, ensure_ascii=False)

    press(app_server, home, HomeIds.EXPORT_NOW, "all")
    wait_until(lambda: "Export finished" in json.dumps(app_server.slack.view(f"VHOME{ADMIN}")))
    app_server.settle()
    counts = app_server.deps.exports.status(TEAM, link_id)
    assert counts[ExportState.EXPORTED] + counts[ExportState.PROCESSING] == 2
    assert counts[ExportState.REACHOUT_ON_LINKEDIN] == 1
    final = app_server.slack.view(f"VHOME{ADMIN}")
    text = next(
        b["text"]["text"]
        for b in final["blocks"]
        if b.get("text", {}).get("text", "").startswith("*Quick hires*")
    )
    assert parse_counts(text) == counts
    summary, digest = sorted(posts(app_server, PUBLIC_CHANNEL), key=lambda p: "wait" in p.payload["text"])
    assert "wait" in digest.payload["text"]  # the pass's "waiting for an email" alert
    assert "2 candidates" in summary.payload["text"] and "exported to" in summary.payload["text"]


def test_home_view_snapshot_and_block_limit() -> None:
    data = HomeData(
        now=NOW,
        connection=ConnectionHealth(
            "Greenhouse",
            healthy=False,
            last_error="Greenhouse refused the API key.",
            last_checked_at=NOW - timedelta(minutes=3),
        ),
        searches=[SearchRow(1, "Backend hires", report()), SearchRow(2, "Designers Berlin")],
        search_count=2,
        failures=[FailureRow(11, "Ada Lovelace", "Backend hires", "Email ada@example.com is invalid")],
        failure_count=3,
        undelivered=[UndeliveredRow(5, "failed", "Backend hires", "C9", "not_in_channel")],
        undelivered_count=1,
    )
    view = home_view(data).to_dict()
    snapshot("home_view", view)
    assert "ada@example.com" not in json.dumps(view)
    many = HomeData(
        now=NOW,
        connection=None,
        searches=[SearchRow(n, f"Search {n}", report(search_id=n) if n % 2 else None) for n in range(200)],
        search_count=500,
    )
    blocks = home_view(many).to_dict()["blocks"]
    assert len(blocks) <= 100 and "more searches" in json.dumps(blocks[-1])
