"""Wrong contact submissions that name what is not the submitter's to mark (issue 20): unknown, forged or
other workspaces' candidates, addresses of another candidate, ids that are not ids, broken metadata and
state. Signed like Slack's, through the served app, on SQLite and PostgreSQL. Checks: never a 5xx, every
one refused on the field (or ignored), no address marked, nothing stored, no ATS call, no answer posted."""

from __future__ import annotations

import json
from typing import Any

from reliability_rig import count_into, report, row_counts
from slack_rig import MEMBER, SIGNING_SECRET, TEAM, AppServer, checked

from bot.features.export.ids import ExportIds
from core.vocabulary import EmailType
from devkit.slack.signing import interaction_body, signed_headers
from storage.db import unit_of_work
from storage.models import Candidate, CandidateEmail
from storage.repositories import ensure_workspace

OTHER_TEAM = "T0OTHER01"


def people(server: AppServer) -> dict[str, int]:
    """Store two candidates here and one in another workspace; return their ids and their addresses' ids."""
    ids: dict[str, int] = {}
    with unit_of_work(server.sessions) as session:
        for team, key in ((TEAM, "mine"), (TEAM, "neighbour"), (OTHER_TEAM, "foreign")):
            ensure_workspace(session, team)
            person = Candidate(team_id=team, first_name=key.title(), last_name="Tester")
            session.add(person)
            session.flush()
            email = CandidateEmail(
                team_id=team, candidate_id=person.id, address=f"{key}@example.com", type=EmailType.WORK
            )
            session.add(email)
            session.flush()
            ids[key], ids[f"{key}_email"] = person.id, email.id
    return ids


def submission(n: int, meta: Any, values: Any) -> dict[str, Any]:
    view = {
        "id": "VFORGED",
        "hash": f"h{n}",  # each a request of its own (Slack's retries of one keep the hash)
        "type": "modal",
        "callback_id": ExportIds.WRONG_CONTACT_VIEW,
        "private_metadata": meta if isinstance(meta, str) else json.dumps(meta),
        "state": {"values": values},
    }
    return {
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "acme"},
        "user": {"id": MEMBER, "team_id": TEAM},
        "api_app_id": "A0001",
        "trigger_id": f"1.{n}.forged",
        "view": view,
    }


def forgeries(ids: dict[str, int]) -> list[tuple[str, Any, Any]]:
    box = lambda *v: {ExportIds.WRONG_CONTACT_BLOCK: {ExportIds.WRONG_CONTACT_CHECKBOXES: checked(*v)}}
    mine, email = {"candidate_id": ids["mine"]}, str(ids["mine_email"])
    return [
        ("unknown candidate", {"candidate_id": 987654}, box(email)),
        ("another workspace's candidate", {"candidate_id": ids["foreign"]}, box(str(ids["foreign_email"]))),
        ("another workspace's address", mine, box(str(ids["foreign_email"]))),
        ("a neighbour's address", mine, box(str(ids["neighbour_email"]))),
        ("mine and a neighbour's", mine, box(email, str(ids["neighbour_email"]))),
        ("negative id", mine, box("-1")),
        ("id that is not a number", mine, box("1 OR 1=1")),
        ("huge id", mine, box("9" * 40)),
        ("empty value", mine, box("")),
        ("nothing checked", mine, box()),
        ("no state", mine, {}),
        (
            "state of another form",
            mine,
            {ExportIds.ADD_EMAIL_BLOCK: {ExportIds.ADD_EMAIL_INPUT: {"value": "x"}}},
        ),
        ("metadata not JSON", "{{{", box(email)),
        ("metadata without candidate", {"link_id": 1}, box(email)),
        ("candidate id a string", {"candidate_id": "abc"}, box(email)),
        ("candidate id a float", {"candidate_id": 1.5}, box(email)),
        ("candidate id past 64 bits", {"candidate_id": 10**30}, box(email)),
        ("address id past 32 bits", mine, box("9" * 18)),
        (
            "options not a list",
            mine,
            {ExportIds.WRONG_CONTACT_BLOCK: {ExportIds.WRONG_CONTACT_CHECKBOXES: {"selected_options": "x"}}},
        ),
    ]


def test_forged_wrong_contact_submissions_mark_nothing_and_never_fail(app_server: AppServer) -> None:
    ids = people(app_server)
    engine = app_server.services.engine
    before = row_counts(engine)
    tried = count_into("forged Wrong contact submissions", "submissions_tried")
    answers = {}
    for n, (what, meta, values) in enumerate(forgeries(ids)):
        body = interaction_body(submission(n, meta, values))
        response = app_server.http.post(
            app_server.url + "/slack/events",
            content=body.encode(),
            headers=signed_headers(SIGNING_SECRET, body),
        )
        answer = json.loads(response.text) if response.text.startswith("{") else {}
        answers[what] = (response.status_code, answer.get("response_action"))
        tried()
    app_server.settle()
    assert not {w: a for w, a in answers.items() if a[0] >= 500}, answers
    assert {w: a for w, a in answers.items() if a != (200, "errors")} == {}
    with unit_of_work(app_server.sessions) as session:
        assert session.query(CandidateEmail).filter(CandidateEmail.wrong_at.is_not(None)).count() == 0
        assert session.query(CandidateEmail).filter(CandidateEmail.valid.is_(False)).count() == 0
    after = row_counts(engine)
    assert {t: (before[t], after[t]) for t in after if after[t] != before[t]} == {}
    assert app_server.slack.calls("chat.postEphemeral") == []
    report("forged Wrong contact submissions", refused=len(answers), marked=0, server_errors=0)
