"""Slack's "Undo this export" (issue 21): the summary a run posts offers it to admins for 7 days; the
confirmation says what would be taken back; confirming takes back exactly what the run created and says so in
the summary's thread; the summary then shows who took it back. Over signed requests and the emulators."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from export_rig import click
from export_world import blocks_of, deliver, linked_search, posts, unthrottled_engine, wait_until
from slack_rig import ADMIN, CLOCK, MEMBER, PUBLIC_CHANNEL, TEAM, AppServer, connect_ats, submission

from bot.features.alerts.ids import AlertIds
from exports.undo import UNDO_REASON
from storage.db import unit_of_work
from storage.enums import AlertKind
from storage.models import Alert, ExportRun
from storage.states import ExportState


def undo_button(call) -> dict[str, Any]:
    return next(
        e
        for b in blocks_of(call)
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == AlertIds.UNDO_RUN
    )


def exported_run(app_server: AppServer, greenhouse: Any, *, people: int = 2) -> tuple[int, Any]:
    """Connect, link a search, run a pass and post its alerts; return the link and the run's summary post."""
    connection_id = connect_ats(app_server, greenhouse, jobs_loaded=False)
    _, link_id = linked_search(app_server, connection_id, "Undo hires", with_email=people, without_email=1)
    engine = unthrottled_engine(app_server)
    engine.run_pass(TEAM, link_id)
    engine.confirm_processing(TEAM)
    deliver(app_server)
    (summary,) = [p for p in posts(app_server, PUBLIC_CHANNEL) if "exported to" in p.payload["text"]]
    return link_id, summary


def test_an_admin_confirms_and_exactly_the_run_is_taken_back_in_its_thread(
    app_server: AppServer, greenhouse: Any
) -> None:
    link_id, summary = exported_run(app_server, greenhouse)
    assert "2 candidates" in summary.payload["text"]
    button = undo_button(summary)
    with unit_of_work(app_server.sessions) as session:
        ts = session.query(Alert).filter_by(kind=AlertKind.EXPORTED).one().slack_ts

    # A member is refused, ephemerally; nothing opens.
    response_url = app_server.slack.webhook_url("undo-member")
    app_server.interact(
        click(AlertIds.UNDO_RUN, button["value"], message_ts=ts, user=MEMBER, response_url=response_url)
    )
    app_server.settle()
    (refusal,) = [c for c in app_server.slack.calls("response_url") if "undo-member" in c.path]
    assert "Only workspace admins" in refusal.payload["text"]
    assert refusal.payload.get("response_type") == "ephemeral"
    assert not app_server.slack.calls("views.open")

    # An admin sees what would happen, before anything does.
    app_server.interact(click(AlertIds.UNDO_RUN, button["value"], message_ts=ts, user=ADMIN))
    app_server.settle()
    (opened,) = app_server.slack.calls("views.open")
    view = opened.payload["view"]
    text = json.dumps(view, ensure_ascii=False)
    assert view["callback_id"] == AlertIds.UNDO_CONFIRM and view["submit"]["text"] == "Take back 2"
    assert "2 records will be taken back in Greenhouse" in text and UNDO_REASON in text
    assert "@example" not in text
    assert not [r for r in greenhouse.requests("POST") if r.path.endswith("/reject")], (
        "a preview sends nothing"
    )

    app_server.interact(submission({**view, "id": "VUNDO1"}, {}, user=ADMIN))
    app_server.settle()

    rejected = [r for r in greenhouse.requests("POST") if r.path.endswith("/reject")]
    assert len(rejected) == 2, "exactly the run's two records"
    with unit_of_work(app_server.sessions) as session:
        run = session.query(ExportRun).one()
        assert run.undone_by == f"slack:{ADMIN}" and run.undone_at is not None
    states = unthrottled_engine(app_server).status(TEAM, link_id)
    assert states[ExportState.UNDONE] == 2 and states[ExportState.REACHOUT_ON_LINKEDIN] == 1

    report = wait_until(
        lambda: [p for p in posts(app_server, PUBLIC_CHANNEL) if p.payload.get("thread_ts") == ts]
    )
    assert "took back 2 of the 2 records" in report[0].payload["text"]
    updates = [u for u in app_server.slack.calls("chat.update") if u.payload["ts"] == ts]
    assert updates and "Taken back by" in json.dumps(updates[-1].payload["blocks"])
    assert not any(
        e.get("action_id") == AlertIds.UNDO_RUN
        for b in updates[-1].payload["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ), "the button is gone once the run is taken back"

    # Pressing an old copy of the button again says it is done, and sends nothing.
    response_url = app_server.slack.webhook_url("undo-again")
    app_server.interact(
        click(AlertIds.UNDO_RUN, button["value"], message_ts=ts, user=ADMIN, response_url=response_url)
    )
    app_server.settle()
    (again,) = [c for c in app_server.slack.calls("response_url") if "undo-again" in c.path]
    assert "took this export back already" in again.payload["text"]
    assert len([r for r in greenhouse.requests("POST") if r.path.endswith("/reject")]) == 2


def test_after_seven_days_the_button_points_to_the_command_line(
    app_server: AppServer, greenhouse: Any
) -> None:
    _, summary = exported_run(app_server, greenhouse, people=1)
    button = undo_button(summary)
    with unit_of_work(app_server.sessions) as session:
        session.query(ExportRun).one().started_at = CLOCK - timedelta(days=8)
    response_url = app_server.slack.webhook_url("undo-old")
    app_server.interact(
        click(AlertIds.UNDO_RUN, button["value"], message_ts="1.1", user=ADMIN, response_url=response_url)
    )
    app_server.settle()
    (answer,) = [c for c in app_server.slack.calls("response_url") if "undo-old" in c.path]
    assert "more than 7 days old" in answer.payload["text"]
    assert f"scaleup undo --run {button['value']}" in answer.payload["text"]
    assert not app_server.slack.calls("views.open")
