"""`/scaleup status`: over signed HTTP, its counts are the engine's, as App Home's and `scaleup status --json`'s.

A pass against the Greenhouse emulator produces every kind of outcome (exported, failed, already in the
ATS, waiting for an email, still pending because the pass was cut short); every view must then show the
numbers `ExportEngine.status` returns, adding up to the link's candidates.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from export_world import CREATE_PATH, email_of, linked_search, phone_of, unthrottled_engine
from slack_rig import ADMIN, MEMBER, TEAM, AppServer, connect_greenhouse, json_body
from test_views import snapshot

from ats.types import EmailAddress, NewCandidate
from bot.cli import main
from bot.features.status.views import counts_line, status_message
from core.vocabulary import EmailType
from exports.report import LinkReport
from storage.db import unit_of_work
from storage.models import AtsConnection
from storage.states import ExportState

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def parse_counts(text: str) -> dict[ExportState, int]:
    """Return the per-state counts a status text shows (states it leaves out have none)."""
    counts = {}
    for state in ExportState:
        found = re.search(rf"(?<![\w(]){re.escape(state.label)}: (\d+)", text)
        counts[state] = int(found.group(1)) if found else 0
    total = re.search(r"Total: (\d+)", text)
    assert total is not None, text
    assert int(total.group(1)) == sum(counts.values()), "the counts do not add up to the total"
    return counts


def mixed_pass(server: AppServer, greenhouse: Any) -> tuple[int, dict[ExportState, int]]:
    """Run a pass with every kind of outcome on "Mixed hires"; return the link id and the engine's counts."""
    connection_id = connect_greenhouse(server, greenhouse, jobs_loaded=False)
    _, link_id = linked_search(server, connection_id, "Mixed hires", with_email=9, without_email=2)
    engine = unthrottled_engine(server)
    with unit_of_work(server.sessions) as session:
        adapter = engine.adapters.for_connection(session.get(AtsConnection, connection_id))
    person = NewCandidate(
        first_name="Already",
        last_name="There",
        emails=(EmailAddress(email_of("Mixed hires", 0), EmailType.WORK),),
        external_id="outside",
    )
    adapter.create_prospect(person, job_id=None)
    greenhouse.faults.fail_next(2, status=422, method="POST", path=CREATE_PATH)
    result = engine.run_pass(TEAM, link_id, limit=5)
    assert result.cut_short
    counts = engine.status(TEAM, link_id)
    outcomes = {state for state, n in counts.items() if n}
    assert {
        ExportState.EXPORTED,
        ExportState.FAILED,
        ExportState.REACHOUT_ON_LINKEDIN,
        ExportState.PENDING,
    } <= outcomes
    assert counts[ExportState.DUPLICATE] + counts[ExportState.EXCLUDED] == 1
    assert sum(counts.values()) == 11
    return link_id, counts


def test_status_counts_equal_the_engine_in_every_view(
    app_server: AppServer,
    greenhouse: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
    database_url: str,
    secret_key: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    link_id, counts = mixed_pass(app_server, greenhouse)

    # /scaleup status (any member may ask), answered ephemerally at once.
    answer = json_body(app_server.command("status Mixed hires", user=MEMBER))
    text = "\n".join(b["text"]["text"] for b in answer["blocks"] if b["type"] == "section")
    assert parse_counts(text) == counts
    context = json.dumps([b for b in answer["blocks"] if b["type"] == "context"])
    assert "cut short" in context and "Next automatic run" in context
    dumped = json.dumps(answer)
    assert "@example.com" not in dumped and phone_of(1) not in dumped

    # App Home.
    assert (
        app_server.event(
            {"type": "app_home_opened", "user": ADMIN, "channel": "D1", "tab": "home"}
        ).status_code
        == 200
    )
    (published,) = app_server.slack.calls("views.publish")
    home_text = next(
        b["text"]["text"]
        for b in published.payload["view"]["blocks"]
        if b.get("text", {}).get("text", "").startswith("*Mixed hires*")
    )
    assert parse_counts(home_text) == counts

    # scaleup status --json, from the same database.
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SCALEUP_SECRET_KEY", secret_key)
    monkeypatch.chdir(tmp_path)
    assert main(["status", "--team", TEAM, "--search", "Mixed hires", "--json"]) == 0
    (report,) = json.loads(capsys.readouterr().out)
    assert report["link_id"] == link_id
    assert report["counts"] == {state.value: n for state, n in counts.items()}
    assert report["last_pass_cut_short"] is True


def test_status_of_every_link_and_of_unknown_or_unlinked_searches(
    app_server: AppServer, greenhouse: Any
) -> None:
    assert "No search is linked" in json_body(app_server.command("status"))["text"]
    connection_id = connect_greenhouse(app_server, greenhouse, jobs_loaded=False)
    linked_search(app_server, connection_id, "Alpha hires", without_email=2)
    linked_search(app_server, connection_id, "Beta hires", without_email=1)
    every = json_body(app_server.command("status"))
    titles = [b["text"]["text"].split("\n")[0] for b in every["blocks"] if b["type"] == "section"]
    assert [t.split("*")[1] for t in titles] == ["Alpha hires", "Beta hires"]
    assert "Total: 0" in json.dumps(every)  # nothing synced before the first pass
    assert "No search is called “Gamma”" in json_body(app_server.command("status Gamma"))["text"]


def report(**changes: Any) -> LinkReport:
    base = LinkReport(
        team_id=TEAM,
        link_id=1,
        search_id=1,
        search_name="Backend hires",
        job_id="4001",
        job_name="Senior Backend Engineer",
        vendor="Greenhouse",
        mode="automatic",
        export_as="applicant",
        paused=False,
        paused_reason=None,
        counts={state: 0 for state in ExportState} | {ExportState.EXPORTED: 7, ExportState.FAILED: 2},
        last_pass_started_at=NOW - timedelta(minutes=9),
        last_pass_finished_at=NOW - timedelta(minutes=8),
        last_pass_cut_short=False,
        next_pass_at=NOW + timedelta(minutes=2),
        last_error="Greenhouse refused a@b.co: invalid",
        stage_name="Phone Screen",
        alert_channel="C1",
    )
    return replace(base, **changes)


def test_status_message_snapshot_and_pass_states() -> None:
    _text, blocks = status_message([report()])
    snapshot("status_message", [b.to_dict() for b in blocks])
    assert "a@b.co" not in json.dumps([b.to_dict() for b in blocks])
    running = status_message(
        [report(last_pass_started_at=NOW, last_pass_finished_at=NOW - timedelta(hours=1))]
    )
    assert "running now" in json.dumps([b.to_dict() for b in running[1]]) and "pass running" in running[0]
    cut = status_message([report(last_pass_cut_short=True)])[1]
    assert "cut short" in json.dumps([b.to_dict() for b in cut])
    paused = status_message([report(paused=True, paused_reason="The job is closed.")])[1]
    assert "none while the link is paused" in json.dumps([b.to_dict() for b in paused])
    many = status_message([report(link_id=n, search_name=f"S{n}") for n in range(60)])[1]
    assert len(many) <= 50 and "more links" in json.dumps(many[-1].to_dict())
    assert counts_line({state: 0 for state in ExportState}) == "No candidates yet · Total: 0"
