"""`/scaleup preview <search>` and `scaleup preview` (issue 21, Preview) over the real server and the
Greenhouse emulator: counts and first names per outcome to the asker only, the same figures from the CLI,
nothing written, and the pass that follows doing what they said."""

from __future__ import annotations

import json
from typing import Any

from export_rig import add_people, export_states, linked_search, settle
from slack_rig import MEMBER, TEAM, AppServer, json_body
from sqlalchemy import func, select

from bot.cli import main
from storage.db import unit_of_work
from storage.models import Alert, Export, ExportEvent
from storage.states import ExportState


def written(server: AppServer) -> tuple[int, ...]:
    with unit_of_work(server.sessions) as session:
        return tuple(
            session.scalar(select(func.count()).select_from(m)) for m in (Export, ExportEvent, Alert)
        )


def test_preview_answers_the_asker_and_the_cli_agrees(
    export_server: AppServer, fast_greenhouse: Any, database_url: str, secret_key: str, monkeypatch, capsys
) -> None:
    search_id, link_id = linked_search(export_server, fast_greenhouse, "Preview hires")
    ids = add_people(export_server, search_id, 8, without_email=2, prefix="pv")
    before = written(export_server)

    ack = export_server.command("preview preview hires", user=MEMBER)
    settle(export_server)

    assert written(export_server) == before, "a preview writes nothing"
    (answer,) = [
        c.payload
        for c in export_server.slack.calls("response_url")
        if "Preview of" in c.payload.get("text", "")
    ]
    assert ack.status_code == 200 and answer["response_type"] == "ephemeral"
    assert (
        "would be exported: 6" in answer["text"]
        and "waits for an email (reachout on linkedin): 2" in answer["text"]
    )
    shown = json.dumps(answer["blocks"], ensure_ascii=False)
    assert "Person0 Bulk" in shown and "and 1 more" in shown and "@example.com" not in shown

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SCALEUP_SECRET_KEY", secret_key)
    monkeypatch.setenv("SCALEUP_ATS_PRIVATE_URLS", "1")
    assert main(["preview", "--search", "Preview hires", "--team", TEAM, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["counts"]["export"] == 6 and printed["counts"]["waits_for_email"] == 2
    assert printed["search_size"] == 8 and len(printed["candidates"]) == 8
    assert written(export_server) == before

    export_server.deps.exports.run_pass(TEAM, link_id)
    states = export_states(export_server, link_id)
    outcome_of = {c["id"]: c["outcome"] for c in printed["candidates"]}
    for n, cid in enumerate(ids):
        expected = {
            "export": {ExportState.EXPORTED, ExportState.PROCESSING},
            "waits_for_email": {ExportState.REACHOUT_ON_LINKEDIN},
        }
        assert states[cid] in expected[outcome_of[f"pv-{n}"]]


def test_an_unknown_or_missing_search_is_answered_with_the_linked_ones(
    export_server: AppServer, fast_greenhouse: Any
) -> None:
    linked_search(export_server, fast_greenhouse, "Known search")
    for text, said in (
        ("preview", "Usage: `/scaleup preview <search>`"),
        ("preview nope", "No linked search is called “nope”"),
    ):
        answer = json_body(export_server.command(text))
        assert said in answer["text"] and "`Known search`" in answer["text"]
