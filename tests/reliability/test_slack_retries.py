"""Slack delivering the same request again (`X-Slack-Retry-Num`) has its effect once.

Slack retries a request it got no answer to in time, with the same body and an `X-Slack-Retry-Num`
header; a double click does much the same. Each case sends the original and then the retries, and counts
the effects: rows, ATS records, Slack messages.
"""

from __future__ import annotations

from typing import Any

from reliability_rig import report
from slack_rig import (
    ADMIN,
    PUBLIC_CHANNEL,
    SIGNING_SECRET,
    TEAM,
    AppServer,
    checked,
    connect_ats,
    json_body,
    new_trigger,
    selected,
    submission,
    user_of,
)
from sqlalchemy import func, select

from bot.features.export.ids import ExportIds
from bot.features.link.ids import ALL_EMAILS, LinkIds, stage_block_id
from core.vocabulary import EmailType
from devkit.slack.signing import command_body, interaction_body, signed_headers
from storage.db import unit_of_work
from storage.enums import Audience, ExportAs, LinkMode
from storage.models import Candidate, CandidateEmail, Export, Link
from storage.repositories import CandidateRepository, SearchRepository

RETRIES = 3


def deliver(server: AppServer, body: str, retries: int = RETRIES) -> list[int]:
    """POST `body` once, then again as Slack's retries 1..retries; return the status codes."""
    statuses = []
    for number in range(retries + 1):
        headers = signed_headers(SIGNING_SECRET, body)
        if number:
            headers |= {"X-Slack-Retry-Num": str(number), "X-Slack-Retry-Reason": "http_timeout"}
        statuses.append(
            server.http.post(server.url + "/slack/events", content=body.encode(), headers=headers).status_code
        )
    return statuses


def add_search(server: AppServer, name: str, people: int) -> tuple[int, list[int]]:
    with unit_of_work(server.sessions) as session:
        search = SearchRepository(session, TEAM).get_or_create(name)
        repo = CandidateRepository(session, TEAM)
        ids = []
        for n in range(people):
            person = repo.add(Candidate(first_name=f"Retry{n}", last_name="Person", source_id=f"{name}-{n}"))
            session.add(
                CandidateEmail(
                    team_id=TEAM, candidate_id=person.id, address=f"retry{n}@example.com", type=EmailType.WORK
                )
            )
            repo.add_to_search(search.id, person.id)
            ids.append(person.id)
        return search.id, ids


def count(server: AppServer, model: Any) -> int:
    with unit_of_work(server.sessions) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_link_form_submission_delivered_again_saves_one_link_and_confirms_once(
    app_server: AppServer, greenhouse
) -> None:
    connect_ats(app_server, greenhouse)
    search_id, _ = add_search(app_server, "Retried search", 2)
    app_server.deps.job_cache.load_stages(TEAM, "4001")
    assert json_body(app_server.command("link Retried search")) == {}
    view = app_server.slack.view(app_server.slack.calls("views.open")[-1].payload["_view_id"])
    values = {
        LinkIds.SEARCH_BLOCK: {LinkIds.SEARCH_SELECT: selected(str(search_id))},
        LinkIds.JOB_BLOCK: {LinkIds.JOB_SELECT: selected("4001")},
        stage_block_id("4001"): {LinkIds.STAGE_SELECT: selected("40011")},
        LinkIds.EXPORT_AS_BLOCK: {LinkIds.EXPORT_AS_RADIO: selected(ExportAs.APPLICANT)},
        LinkIds.MODE_BLOCK: {LinkIds.MODE_RADIO: selected(LinkMode.MANUAL)},
        LinkIds.AUDIENCE_BLOCK: {LinkIds.AUDIENCE_RADIO: selected(Audience.ALL)},
        LinkIds.EMAILS_BLOCK: {LinkIds.EMAILS_CHECKBOXES: checked(ALL_EMAILS)},
        LinkIds.INCLUDE_ATS_BLOCK: {LinkIds.INCLUDE_ATS_CHECKBOX: checked()},
        LinkIds.CHANNEL_BLOCK: {
            LinkIds.CHANNEL_SELECT: {"type": "conversations_select", "selected_conversation": PUBLIC_CHANNEL}
        },
    }
    posts_before = len(app_server.slack.calls("chat.postMessage"))
    statuses = deliver(app_server, interaction_body(submission(view, values)))
    app_server.settle()
    assert statuses == [200] * (RETRIES + 1)
    assert count(app_server, Link) == 1
    confirmations = app_server.slack.calls("chat.postMessage")[posts_before:]
    assert len(confirmations) == 1, f"the link was confirmed {len(confirmations)} times"
    report("Slack retries", link_submission=f"1 link, 1 confirmation of {RETRIES + 1} deliveries")


def test_a_slash_command_delivered_again_answers_once(app_server: AppServer, greenhouse) -> None:
    connect_ats(app_server, greenhouse, jobs_loaded=False)
    add_search(app_server, "Command search", 1)
    body = command_body(
        text="status",
        team_id=TEAM,
        user_id=ADMIN,
        trigger_id=new_trigger(),
        response_url=app_server.slack.webhook_url(),
    )
    statuses = deliver(app_server, body)
    app_server.settle()
    assert all(s == 200 for s in statuses)
    answers = app_server.slack.calls("response_url") + app_server.slack.calls("chat.postEphemeral")
    assert len(answers) <= 1, f"one command was answered {len(answers)} times"
    report("Slack retries", command=f"answered at most once of {RETRIES + 1} deliveries")


def test_an_export_button_delivered_again_exports_once(app_server: AppServer, greenhouse) -> None:
    connection = connect_ats(app_server, greenhouse, jobs_loaded=False)
    search_id, (candidate,) = add_search(app_server, "Button search", 1)
    with unit_of_work(app_server.sessions) as session:
        link = Link(
            team_id=TEAM,
            search_id=search_id,
            connection_id=connection,
            job_id="4001",
            job_name="Senior Backend Engineer",
            export_as=ExportAs.PROSPECT,
            mode=LinkMode.MANUAL,
            audience=Audience.ALL,
            email_types=[],
        )
        session.add(link)
        session.flush()
        link_id = link.id
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "acme"},
        "user": user_of(ADMIN),
        "api_app_id": "A0001",
        "container": {
            "type": "message",
            "message_ts": "1700000000.000100",
            "channel_id": PUBLIC_CHANNEL,
            "is_ephemeral": False,
        },
        "trigger_id": new_trigger(),
        "channel": {"id": PUBLIC_CHANNEL, "name": "recruiting"},
        "message": {"type": "message", "ts": "1700000000.000100", "text": "x"},
        "response_url": "http://127.0.0.1:9/unused",
        "actions": [
            {
                "action_id": ExportIds.EXPORT_BUTTON,
                "block_id": ExportIds.ACTIONS,
                "type": "button",
                "value": f'{{"candidate_id": {candidate}, "link_id": {link_id}}}',
                "action_ts": "1700000001.000200",
            }
        ],
    }
    statuses = deliver(app_server, interaction_body(payload))
    app_server.settle()
    assert statuses == [200] * (RETRIES + 1)
    with unit_of_work(app_server.sessions) as session:
        exports = session.scalar(select(func.count()).select_from(Export).where(Export.link_id == link_id))
    assert exports == 1
    created = [r for r in greenhouse.created if r.kind == "candidate"]
    assert len(created) == 1, f"{len(created)} ATS records for one candidate"
    answers = [
        c
        for c in app_server.slack.calls("chat.postMessage")
        if c.payload.get("thread_ts") == "1700000000.000100"
    ]
    assert len(answers) == 1, f"answered {len(answers)} times"
    report("Slack retries", export_button=f"1 ATS record, 1 answer of {RETRIES + 1} deliveries")
