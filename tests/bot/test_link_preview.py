"""The link form shows what saving would do before it is saved (issue 21, Preview): counts and first names per
outcome, drawn as the form opens and redrawn as its answers change, from the database only; nothing is
written until Save."""

from __future__ import annotations

import json
from typing import Any

from slack_rig import AppServer, block_actions, checked, connect_ats
from sqlalchemy import func, select
from test_link import add_search, form_values, open_link

from bot.features.link.ids import LinkIds
from storage.db import unit_of_work
from storage.models import Export, ExportEvent, Link


def preview_text(view: dict[str, Any]) -> str:
    blocks = json.dumps(view["blocks"], ensure_ascii=False)
    assert "If you save now" in blocks, "the form shows no preview"
    return blocks


def written(server: AppServer) -> tuple[int, ...]:
    with unit_of_work(server.sessions) as session:
        return tuple(session.scalar(select(func.count()).select_from(m)) for m in (Export, ExportEvent, Link))


def test_the_form_previews_what_saving_would_do_and_follows_its_answers(
    app_server: AppServer, greenhouse: Any
) -> None:
    connect_ats(app_server, greenhouse)
    search_id = add_search(app_server, candidates=4)  # two with a work address, two without any
    before = written(app_server)

    view = open_link(app_server)

    shown = preview_text(view)
    assert "of the search's 4 candidates" in shown
    assert "Would be exported: *2* (Person0 Test, Person2 Test)" in shown
    assert "Waits for an email (Reachout on LinkedIn): *2*" in shown

    values = form_values(search_id, emails=("personal",))
    action = {
        "action_id": LinkIds.EMAILS_CHECKBOXES,
        "block_id": LinkIds.EMAILS_BLOCK,
        "type": "checkboxes",
        "selected_options": values[LinkIds.EMAILS_BLOCK][LinkIds.EMAILS_CHECKBOXES]["selected_options"],
    }
    assert app_server.interact(block_actions(view, action, values)).status_code == 200
    app_server.settle()

    shown = preview_text(app_server.slack.view(view["id"]))
    assert "Waits for an email (Reachout on LinkedIn): *4*" in shown and "Would be exported" not in shown
    assert written(app_server) == before, "the preview writes nothing until Save"


def test_every_answer_that_changes_the_outcome_redraws_the_form(
    app_server: AppServer, greenhouse: Any
) -> None:
    connect_ats(app_server, greenhouse)
    search_id = add_search(app_server, candidates=2)
    view = open_link(app_server)
    redraws = len(app_server.slack.calls("views.update"))
    values = form_values(search_id)
    for block, action_id, kind, chosen in (
        (LinkIds.INCLUDE_ATS_BLOCK, LinkIds.INCLUDE_ATS_CHECKBOX, "checkboxes", checked("include_ats")),
        (
            LinkIds.MODE_BLOCK,
            LinkIds.MODE_RADIO,
            "radio_buttons",
            values[LinkIds.MODE_BLOCK][LinkIds.MODE_RADIO],
        ),
    ):
        action = {"action_id": action_id, "block_id": block, "type": kind, **chosen}
        assert (
            app_server.interact(block_actions(app_server.slack.view(view["id"]), action, values)).status_code
            == 200
        )
        app_server.settle()
    assert len(app_server.slack.calls("views.update")) == redraws + 2
    preview_text(app_server.slack.view(view["id"]))
