"""A candidate's export story (issue 21, History): a candidate who failed, was retried and was exported,
seen through `/scaleup history`, the History button, the ingest API and `scaleup history`, all over the real
server and the Greenhouse emulator."""

from __future__ import annotations

import json
from typing import Any

import pytest
from export_rig import add_people, click, export_states, linked_search, settle
from slack_rig import MEMBER, TEAM, AppServer, json_body
from sqlalchemy import select

from bot.cli import main
from bot.features.export.ids import CandidateRef
from bot.features.history.ids import HistoryIds
from storage.db import unit_of_work
from storage.enums import LinkMode
from storage.models import Export
from storage.repositories import ApiTokenRepository
from storage.states import ExportState

#: Failed on the first try, Retry pressed, then exported: what Greenhouse's story must show, in order.
STORY = [
    (None, ExportState.PENDING),
    (ExportState.PENDING, ExportState.EXPORTING),
    (ExportState.EXPORTING, ExportState.FAILED),
    (ExportState.FAILED, ExportState.PENDING),
    (ExportState.PENDING, ExportState.EXPORTING),
]


@pytest.fixture
def story(export_server: AppServer, fast_greenhouse: Any) -> tuple[int, int]:
    """Return (candidate id, link id) of `h-0`, whose first export failed and whose retry went out."""
    search_id, link_id = linked_search(export_server, fast_greenhouse, mode=LinkMode.MANUAL)
    cid, _other = add_people(export_server, search_id, 2, prefix="h")
    engine = export_server.deps.exports
    fast_greenhouse.faults.fail_next(1, status=422, method="POST", path="/v3/candidates")
    engine.export_candidates(TEAM, link_id, [cid], actor=f"slack:{MEMBER}")
    assert export_states(export_server, link_id)[cid] == ExportState.FAILED
    with unit_of_work(export_server.sessions) as session:
        export_id = session.scalar(select(Export.id).where(Export.candidate_id == cid))
    engine.retry(TEAM, export_id, actor=f"slack:{MEMBER}")
    engine.confirm_processing(TEAM)
    assert export_states(export_server, link_id)[cid] == ExportState.EXPORTED
    return cid, link_id


def transitions(links: list[dict[str, Any]]) -> list[tuple[str | None, str]]:
    return [(e["from_state"], e["to_state"]) for e in links[0]["events"]]


def test_the_api_and_the_cli_tell_every_change_with_who_and_why(
    export_server: AppServer, story: tuple[int, int], database_url: str, secret_key: str, monkeypatch, capsys
) -> None:
    with unit_of_work(export_server.sessions) as session:
        token = ApiTokenRepository(session, TEAM).issue("history")[1]
    answer = export_server.http.get(
        f"{export_server.url}/api/v1/candidates/h-0/history", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["id"] == "h-0" and body["name"] == "Person0 Bulk"
    (link,) = body["links"]
    assert link["state"] == "exported" and link["vendor"] == "greenhouse" and link["ats_record_id"]
    expected = [(a.value if a else None, b.value) for a, b in STORY]
    assert transitions(body["links"])[: len(STORY)] == expected
    assert transitions(body["links"])[-1][1] == "exported"
    failed = next(e for e in link["events"] if e["to_state"] == "failed")
    assert (
        failed["by"] == f"slack:{MEMBER}"
        and failed["by_words"] == f"Slack user {MEMBER}"
        and failed["reason"]
    )
    assert next(e for e in link["events"] if e["from_state"] == "failed")["reason"] == "Retry pressed"
    missing = export_server.http.get(
        f"{export_server.url}/api/v1/candidates/nobody/history", headers={"Authorization": f"Bearer {token}"}
    )
    assert missing.status_code == 404

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SCALEUP_SECRET_KEY", secret_key)
    assert main(["history", "--candidate", "h-0", "--team", TEAM, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == body, "the CLI and the API give the same story"
    assert main(["history", "--candidate", "Person", "--team", TEAM]) == 2
    assert "2 candidates match 'Person'" in capsys.readouterr().err


def test_slash_history_and_the_history_button_answer_only_the_asker(
    export_server: AppServer, story: tuple[int, int]
) -> None:
    cid, _ = story
    answer = json_body(export_server.command("history h-0", user=MEMBER))
    assert answer.get("response_type", "ephemeral") == "ephemeral"
    shown = json.dumps(answer["blocks"], ensure_ascii=False)
    assert "Export history of *Person0 Bulk*" in answer["text"]
    order = [
        shown.index(label) for label in ("Pending →", "Exporting → Failed", "Failed → Pending", "→ Exported")
    ]
    assert order == sorted(order), "the changes are listed oldest first"
    assert f"<@{MEMBER}>" in shown and "Retry pressed" in shown and "@example.com" not in shown

    several = json_body(export_server.command("history person"))
    assert several["text"].startswith("2 candidates match")
    buttons = [b["accessory"] for b in several["blocks"] if b.get("accessory")]
    assert [json.loads(b["value"])["candidate_id"] for b in buttons] != [] and all(
        b["action_id"] == HistoryIds.BUTTON for b in buttons
    )
    assert "No candidate matches" in json_body(export_server.command("history zz-nobody"))["text"]

    response_url = export_server.slack.webhook_url("history")
    value = CandidateRef(candidate_id=cid).model_dump_json()
    export_server.interact(click(HistoryIds.BUTTON, value, message_ts="5.1", response_url=response_url))
    settle(export_server)
    (posted,) = [
        c.payload
        for c in export_server.slack.calls("response_url")
        if "Export history" in c.payload.get("text", "")
    ]
    assert posted["response_type"] == "ephemeral" and posted["replace_original"] is False


def test_scaleup_runs_lists_the_run_that_created_the_record_and_history_names_it(
    export_server: AppServer, story: tuple[int, int], database_url: str, secret_key: str, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SCALEUP_SECRET_KEY", secret_key)
    assert main(["runs", "--team", TEAM, "--json"]) == 0
    (run,) = json.loads(capsys.readouterr().out)["runs"]
    assert run["by"] == f"slack:{MEMBER}" and run["created"] == 1 and run["search"] == "Backend hires"

    assert main(["runs", "--team", TEAM, "--run", run["id"], "--json"]) == 0
    (created,) = json.loads(capsys.readouterr().out)["created"]
    assert created["candidate"] == "h-0" and created["state"] == "exported" and created["ats_record_id"]

    assert main(["history", "--candidate", "h-0", "--team", TEAM, "--json"]) == 0
    (link,) = json.loads(capsys.readouterr().out)["links"]
    assert link["created_by_run"] == run["id"]
    assert run["id"] in {e["run"] for e in link["events"]}
    assert main(["runs", "--team", TEAM, "--run", "nope"]) == 2


def test_scaleup_undo_takes_the_run_back_and_history_tells_it(
    export_server: AppServer,
    story: tuple[int, int],
    fast_greenhouse: Any,
    database_url: str,
    secret_key: str,
    monkeypatch,
    capsys,
) -> None:
    cid, link_id = story
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SCALEUP_SECRET_KEY", secret_key)
    monkeypatch.setenv("SCALEUP_ATS_PRIVATE_URLS", "1")
    assert main(["runs", "--team", TEAM, "--json"]) == 0
    (run,) = json.loads(capsys.readouterr().out)["runs"]

    assert main(["undo", "--team", TEAM, "--run", run["id"], "--dry-run", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"] == {"would_undo": 1}
    assert export_states(export_server, link_id)[cid] == ExportState.EXPORTED

    assert main(["undo", "--team", TEAM, "--run", run["id"], "--json"]) == 0
    (record,) = json.loads(capsys.readouterr().out)["records"]
    assert record["candidate"] == "h-0" and record["outcome"] == "undone" and "rejected" in record["detail"]
    assert export_states(export_server, link_id)[cid] == ExportState.UNDONE
    assert main(["history", "--candidate", "h-0", "--team", TEAM, "--json"]) == 0
    (link,) = json.loads(capsys.readouterr().out)["links"]
    assert link["state"] == "undone" and link["events"][-1]["by"] == "cli"
    assert main(["undo", "--team", TEAM, "--run", "nope"]) == 2
