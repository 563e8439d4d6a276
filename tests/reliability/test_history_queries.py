"""`/scaleup history <text>` with hostile text: LIKE wildcards, escapes, quotes, a very long or empty text,
control characters. Each is answered at once, matches nobody it should not, and breaks nothing."""

from __future__ import annotations

from reliability_rig import report
from slack_rig import TEAM, AppServer, json_body

from storage.db import unit_of_work
from storage.models import Candidate, CandidateEmail
from storage.repositories import ensure_workspace

HOSTILE = (
    "%",
    "_",
    "%%%",
    "\\",
    "\\%",
    "' OR 1=1 --",
    '"; DROP TABLE candidate; --',
    "a" * 5000,
    "\u0000\u0007",
    "🙂" * 300,
    "<@U123>",
    "*",
)


def test_hostile_history_queries_match_nobody_and_break_nothing(app_server: AppServer) -> None:
    with unit_of_work(app_server.sessions) as session:
        ensure_workspace(session, TEAM)
        person = Candidate(team_id=TEAM, first_name="Quinn", last_name="Percent", source_id="q-1")
        session.add(person)
        session.flush()
        session.add(
            CandidateEmail(
                team_id=TEAM, candidate_id=person.id, address="quinn@example.com", type="work", valid=True
            )
        )
    statuses = {}
    for text in HOSTILE:
        response = app_server.command(f"history {text}")
        statuses[text[:20]] = response.status_code
        answer = json_body(response)
        assert "No candidate matches" in answer["text"], (text[:40], answer["text"][:200])
        assert len(answer["text"]) < 400, "the answer echoes at most a clipped part of the text"
    for text in ("", "   "):
        assert "Whose history?" in json_body(app_server.command(f"history {text}"))["text"]
    for key in ("q-1", "QUINN@example.com", "quinn perc"):
        assert (
            "Export history of *Quinn Percent*" in json_body(app_server.command(f"history {key}"))["text"]
        ), key
    assert set(statuses.values()) == {200}
    report("history queries", texts=len(HOSTILE), answered="200, nobody matched", longest_chars=5000)


def test_hostile_ids_on_the_command_line_are_one_line_and_exit_2(
    app_server: AppServer, database_url: str, secret_key: str, monkeypatch, capsys
) -> None:
    from bot.cli import main

    with unit_of_work(app_server.sessions) as session:
        ensure_workspace(session, TEAM)
        session.add(Candidate(team_id=TEAM, first_name="Quinn", last_name="Percent", source_id="q-1"))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SCALEUP_SECRET_KEY", secret_key)
    for args in (
        ["runs", "--team", TEAM, "--run", "' OR 1=1 --"],
        ["runs", "--team", TEAM, "--run", "x" * 5000],
        ["history", "--team", TEAM, "--candidate", "%"],
        ["history", "--team", TEAM, "--candidate", "\u0000"],
    ):
        assert main(args) == 2, args[:4]
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err[:300]
    report("CLI ids", runs_and_history_args=4, answered="one line, exit 2")
