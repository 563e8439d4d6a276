"""`/scaleup export <search>`: the engine's preflight with a Confirm button, then a bulk export whose
progress lives in one message, over signed HTTP with the Slack and Greenhouse loopback servers."""

from __future__ import annotations

from typing import Any

from export_rig import (
    add_people,
    click,
    export_states,
    linked_search,
    settle,
    slack_retry,
)
from slack_rig import MEMBER, PUBLIC_CHANNEL, TEAM, AppServer, json_body, new_trigger
from sqlalchemy import select

from bot.features.export.ids import ExportIds
from bot.features.export.views import NO_ATS
from devkit.slack.signing import command_body
from storage.db import unit_of_work
from storage.models import Export, ExportRun
from storage.states import ExportState


def command(server: AppServer, text: str, *, user: str = MEMBER) -> dict[str, Any]:
    """Send `/scaleup <text>`; return the answer: the ack's text, or what was sent to the response_url."""
    before = len(server.slack.calls("response_url"))
    body = command_body(
        text=text,
        team_id=TEAM,
        user_id=user,
        channel_id=PUBLIC_CHANNEL,
        trigger_id=new_trigger(),
        response_url=server.slack.webhook_url("command"),
    )
    acked = json_body(server.post(body))
    if acked:
        return acked
    return server.slack.wait_for("response_url", before + 1, timeout=30)[-1].payload


def confirm_button(answer: dict[str, Any]) -> dict[str, Any]:
    return next(
        e
        for b in answer["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == ExportIds.BULK_CONFIRM
    )


def test_a_bulk_export_of_500_with_40_lacking_an_email_exports_460_and_keeps_one_summary(
    export_server: AppServer, fast_greenhouse: Any
) -> None:
    search_id, link_id = linked_search(export_server, fast_greenhouse, "Autumn backend")
    add_people(export_server, search_id, 500, without_email=40)

    answer = command(export_server, "export autumn backend")  # names match case-insensitively
    assert "would send *460* of 500 candidates now. 40 have no valid email" in answer["text"]
    assert "0 are already in Greenhouse" in answer["text"]
    assert fast_greenhouse.created == []  # the preflight asks the database and the mirror only
    confirm = confirm_button(answer)
    assert confirm["text"]["text"] == "Export 460"

    # Double click and a Slack retry of the first click: one export, one progress message.
    respond_url = export_server.slack.webhook_url("confirm")
    first = click(ExportIds.BULK_CONFIRM, confirm["value"], message_ts="5.5", response_url=respond_url)
    second = click(ExportIds.BULK_CONFIRM, confirm["value"], message_ts="5.5", response_url=respond_url)
    for response in (
        export_server.interact(first),
        export_server.interact(second),
        slack_retry(export_server, first),
    ):
        assert response.status_code == 200
    settle(export_server, timeout=100)

    states = export_states(export_server, link_id)
    assert len(states) == 500
    assert sum(s is ExportState.EXPORTED for s in states.values()) == 460
    assert sum(s is ExportState.REACHOUT_ON_LINKEDIN for s in states.values()) == 40
    assert len([r for r in fast_greenhouse.created if r.kind == "candidate"]) == 460
    with unit_of_work(export_server.sessions) as session:  # five chunks, one run: what Undo takes back
        (run,) = session.scalars(select(ExportRun)).all()
        assert run.created == 460 and run.actor.startswith("slack:")
        assert set(session.scalars(select(Export.run_id).where(Export.state == ExportState.EXPORTED))) == {
            run.id
        }

    (progress,) = export_server.slack.calls("chat.postMessage")  # one message, not 500 posts
    assert progress.payload["channel"] == PUBLIC_CHANNEL and "0 of 500" in progress.payload["text"]
    updates = export_server.slack.calls("chat.update")
    assert 1 <= len(updates) <= 6 and len({(u.payload["channel"], u.payload["ts"]) for u in updates}) == 1
    final = updates[-1].payload["text"]
    assert final.startswith(":white_check_mark: Export of *Autumn backend* finished: 500 candidates.")
    assert "*460* exported" in final and "40 waiting for an email" in final and "0 failed" in final
    assert sum("finished" in u.payload["text"] for u in updates) == 1
    (replaced,) = [c for c in export_server.slack.calls("response_url") if c.path.endswith("/confirm")]
    assert "progress follows" in replaced.payload["text"]
    assert "@example.com" not in str([c.payload for c in export_server.slack.calls()])

    # Confirming the same preflight again later does nothing; a new preflight says all is done.
    export_server.interact(click(ExportIds.BULK_CONFIRM, confirm["value"], message_ts="5.5"))
    settle(export_server)
    assert len(export_server.slack.calls("chat.postMessage")) == 1
    again = command(export_server, "export Autumn backend")
    assert "would send *0* of 500" in again["text"] and "460 were exported before" in again["text"]


def test_export_command_answers_without_an_ats_without_a_name_and_for_unknown_searches(
    export_server: AppServer, fast_greenhouse: Any
) -> None:
    assert command(export_server, "export Backend hires")["text"] == NO_ATS
    linked_search(export_server, fast_greenhouse)
    assert "Linked searches: `Backend hires`" in command(export_server, "export")["text"]
    assert "No linked search is called “Nope”" in command(export_server, "export Nope")["text"]
