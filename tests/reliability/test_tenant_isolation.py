"""Tenant isolation: workspace B naming workspace A's ids changes nothing and learns nothing.

Workspace A has a Greenhouse connection, a search, a candidate, a link, a failed export and an alert. An
admin of workspace B (with its own connection) then sends every request that carries an id, with A's ids
in block action values, `private_metadata`, form state and API paths. Afterwards A's rows are exactly as
they were, the ATS got no request, and no Slack call made for B mentions anything of A's. Non-admins of A
cannot connect an ATS or edit a link.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from reliability_rig import dump_tables, report
from slack_rig import (
    MEMBER,
    TEAM,
    AppServer,
    checked,
    connect_ats,
    json_body,
    new_trigger,
    selected,
    typed,
)
from sqlalchemy import select

from bot.features.alerts.ids import AlertIds
from bot.features.connect.ids import ConnectIds
from bot.features.export.ids import ExportIds
from bot.features.history.ids import HistoryIds
from bot.features.home.ids import HomeIds
from bot.features.link.ids import ALL_EMAILS, LinkIds, stage_block_id
from core.vocabulary import EmailType, Vendor
from devkit.slack.signing import command_body
from storage.db import unit_of_work
from storage.enums import AlertKind, Audience, ExportAs, LinkMode
from storage.models import Alert, AtsConnection, Candidate, CandidateEmail, Export, ExportRun, Link
from storage.repositories import (
    AdminRepository,
    ApiTokenRepository,
    CandidateRepository,
    ConnectionRepository,
    SearchRepository,
    ensure_workspace,
)
from storage.states import ExportState

TEAM_B, ADMIN_B = "T0BBBBB", "UBADMIN1"
SECRETS_OF_A = ("Alpha Secret Search", "Zelda", "Confidential", "zelda@alpha.example", "alpha-src-1")


def seed_workspace_a(server: AppServer, emulator: Any) -> dict[str, int]:
    """Give workspace A a connection, a search with one candidate, a link, a failed export and an alert."""
    connection_id = connect_ats(server, emulator, jobs_loaded=False)
    with unit_of_work(server.sessions) as session:
        search = SearchRepository(session, TEAM).get_or_create("Alpha Secret Search")
        search.source_id = "alpha-src-1"
        people = CandidateRepository(session, TEAM)
        person = people.add(Candidate(first_name="Zelda", last_name="Confidential", source_id="alpha-cand-1"))
        session.add(
            CandidateEmail(
                team_id=TEAM, candidate_id=person.id, address="zelda@alpha.example", type=EmailType.WORK
            )
        )
        people.add_to_search(search.id, person.id)
        link = Link(
            team_id=TEAM,
            search_id=search.id,
            connection_id=connection_id,
            job_id="4001",
            job_name="Senior Backend Engineer",
            export_as=ExportAs.APPLICANT,
            mode=LinkMode.MANUAL,
            audience=Audience.ALL,
            email_types=[],
            alert_channel="CPUBLIC1",
        )
        session.add(link)
        session.flush()
        export = Export(
            team_id=TEAM,
            link_id=link.id,
            candidate_id=person.id,
            state=ExportState.FAILED,
            idempotency_key=uuid.uuid4().hex,
            last_error_code="validation_failed",
            last_error_message="bad",
        )
        session.add(export)
        session.flush()
        alert = Alert(
            team_id=TEAM,
            link_id=link.id,
            kind=AlertKind.FAILED,
            incident_key=f"failed:{uuid.uuid4().hex}",
            channel="CPUBLIC1",
            payload={
                "candidates": [
                    {"candidate_id": person.id, "export_id": export.id, "name": "Zelda Confidential"}
                ],
                "count": 1,
            },
        )
        session.add(alert)
        session.add(ExportRun(id="alpharun0001", team_id=TEAM, link_id=link.id, actor="cli", created=1))
        session.flush()
        return {
            "connection": connection_id,
            "search": search.id,
            "candidate": person.id,
            "link": link.id,
            "export": export.id,
            "alert": alert.id,
        }


def seed_workspace_b(server: AppServer, emulator: Any) -> str:
    """Give workspace B an admin, its own Greenhouse connection and an ingest token; return the token."""
    config = emulator.connection_config()
    with unit_of_work(server.sessions) as session:
        ensure_workspace(session, TEAM_B)
        AdminRepository(session, TEAM_B).add_admin(ADMIN_B, added_by=ADMIN_B)
        ConnectionRepository(session, TEAM_B).save(
            server.services.secret_box,
            vendor=Vendor.GREENHOUSE,
            secrets=dict(config.secrets),
            fields=dict(config.fields),
            base_url=config.base_url,
            connected_by=ADMIN_B,
        )
        SearchRepository(session, TEAM_B).get_or_create("Beta search")
        return ApiTokenRepository(session, TEAM_B).issue("b")[1]


def user_b() -> dict[str, Any]:
    return {"id": ADMIN_B, "username": "badmin", "name": "badmin", "team_id": TEAM_B}


def button(action_id: str, value: str) -> dict[str, Any]:
    """Return a block_actions payload from workspace B for a button on a channel message."""
    ts = f"17000000{uuid.uuid4().int % 100:02d}.000100"
    return {
        "type": "block_actions",
        "team": {"id": TEAM_B, "domain": "beta"},
        "user": user_b(),
        "api_app_id": "A0001",
        "container": {"type": "message", "message_ts": ts, "channel_id": "CBETA001", "is_ephemeral": False},
        "trigger_id": new_trigger(),
        "channel": {"id": "CBETA001", "name": "beta"},
        "message": {"type": "message", "ts": ts, "text": "x"},
        "response_url": "http://127.0.0.1:9/unused",
        "actions": [
            {
                "action_id": action_id,
                "block_id": "b",
                "type": "button",
                "value": value,
                "action_ts": f"{uuid.uuid4().int % 10**9}.1",
            }
        ],
    }


def view_submission(callback_id: str, metadata: str, values: dict[str, Any]) -> dict[str, Any]:
    """Return a view_submission payload from workspace B."""
    return {
        "type": "view_submission",
        "team": {"id": TEAM_B, "domain": "beta"},
        "user": user_b(),
        "api_app_id": "A0001",
        "trigger_id": new_trigger(),
        "response_urls": [],
        "view": {
            "id": "VFORGED" + uuid.uuid4().hex[:6].upper(),
            "team_id": TEAM_B,
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": metadata,
            "hash": "1.x",
            "blocks": [],
            "state": {"values": values},
        },
    }


def command_b(server: AppServer, text: str) -> httpx.Response:
    body = command_body(
        text=text,
        team_id=TEAM_B,
        user_id=ADMIN_B,
        trigger_id=new_trigger(),
        response_url=server.slack.webhook_url("b"),
        team_domain="beta",
    )
    return server.post(body)


def rows_of(server: AppServer, team: str) -> dict[str, list[tuple]]:
    """Return every row that belongs to `team` (a row mentioning the team id), table by table.

    The workspace row itself is left out: any request from the workspace refreshes its domain.
    """
    return {
        name: sorted((r for r in rows if team in r), key=repr)
        for name, rows in dump_tables(server.services.engine).items()
        if name != "workspace"
    }


def test_workspace_b_naming_workspace_a_ids_changes_and_reveals_nothing(
    app_server: AppServer, greenhouse: Any
) -> None:
    app_server.slack.add_user(ADMIN_B, admin=True)
    a = seed_workspace_a(app_server, greenhouse)
    token_b = seed_workspace_b(app_server, greenhouse)
    before = rows_of(app_server, TEAM)
    calls_before = len(app_server.slack.calls())
    ats_before = len(greenhouse.log)

    link_values = {
        LinkIds.SEARCH_BLOCK: {LinkIds.SEARCH_SELECT: selected(str(a["search"]))},
        LinkIds.JOB_BLOCK: {LinkIds.JOB_SELECT: selected("4001")},
        stage_block_id("4001"): {LinkIds.STAGE_SELECT: selected("40011")},
        LinkIds.EXPORT_AS_BLOCK: {LinkIds.EXPORT_AS_RADIO: selected(ExportAs.APPLICANT)},
        LinkIds.MODE_BLOCK: {LinkIds.MODE_RADIO: selected(LinkMode.AUTOMATIC)},
        LinkIds.AUDIENCE_BLOCK: {LinkIds.AUDIENCE_RADIO: selected(Audience.ALL)},
        LinkIds.EMAILS_BLOCK: {LinkIds.EMAILS_CHECKBOXES: checked(ALL_EMAILS)},
        LinkIds.INCLUDE_ATS_BLOCK: {LinkIds.INCLUDE_ATS_CHECKBOX: checked()},
    }
    candidate_ref = json.dumps({"candidate_id": a["candidate"], "link_id": a["link"]})
    interactions = [
        (
            "link form submitted with A's search",
            view_submission(LinkIds.VIEW, json.dumps({"vendor": "greenhouse"}), link_values),
        ),
        (
            "link form: A's search chosen",
            {
                **button(LinkIds.SEARCH_SELECT, ""),
                "actions": [
                    {
                        "action_id": LinkIds.SEARCH_SELECT,
                        "block_id": LinkIds.SEARCH_BLOCK,
                        "type": "static_select",
                        "selected_option": {
                            "value": str(a["search"]),
                            "text": {"type": "plain_text", "text": "x"},
                        },
                        "action_ts": "1.2",
                    }
                ],
                "container": {"type": "view", "view_id": "VNONE"},
                "view": {
                    "id": "VNONE",
                    "hash": "1.x",
                    "callback_id": LinkIds.VIEW,
                    "private_metadata": json.dumps({"vendor": "greenhouse"}),
                    "blocks": [],
                    "state": {"values": link_values},
                },
            },
        ),
        ("Retry on A's export", button(ExportIds.RETRY_BUTTON, json.dumps({"export_id": a["export"]}))),
        ("Export on A's candidate", button(ExportIds.EXPORT_BUTTON, candidate_ref)),
        ("History of A's candidate", button(HistoryIds.BUTTON, candidate_ref)),
        ("Add email on A's candidate", button(ExportIds.ADD_EMAIL_BUTTON, candidate_ref)),
        (
            "bulk confirm of A's link",
            button(ExportIds.BULK_CONFIRM, json.dumps({"link_id": a["link"], "nonce": "n"})),
        ),
        ("Home ⚡ on A's search", button(HomeIds.OPEN_LINK, str(a["search"]))),
        ("Home export-now on A's search", button(HomeIds.EXPORT_NOW, str(a["search"]))),
        ("Home redeliver A's alert", button(HomeIds.REDELIVER, str(a["alert"]))),
        ("Retry all on A's alert", button(AlertIds.RETRY_ALL, str(a["alert"]))),
        ("Undo of A's run", button(AlertIds.UNDO_RUN, "alpharun0001")),
        (
            "Undo confirmation of A's run",
            view_submission(AlertIds.UNDO_CONFIRM, json.dumps({"run": "alpharun0001", "channel": "C1"}), {}),
        ),
        (
            "add-email submission for A's candidate",
            view_submission(
                ExportIds.ADD_EMAIL_VIEW,
                json.dumps({"candidate_id": a["candidate"], "link_id": a["link"]}),
                {ExportIds.ADD_EMAIL_BLOCK: {ExportIds.ADD_EMAIL_INPUT: typed("mallory@beta.example")}},
            ),
        ),
        (
            "export modal submitted for A's candidate and link",
            view_submission(
                ExportIds.VIEW,
                json.dumps({"candidate_id": a["candidate"]}),
                {ExportIds.SEARCH_BLOCK: {ExportIds.SEARCH_SELECT: selected(str(a["link"]))}},
            ),
        ),
    ]
    answers = {}
    for what, payload in interactions:
        answers[what] = app_server.interact(payload).status_code
    for text in (f"export {a['search']}", f"link {a['search']}", "status"):
        answers[f"/scaleup {text}"] = command_b(app_server, text).status_code
    app_server.settle()
    by_id_calls = len(app_server.slack.calls())
    # Naming A's search by its name: the answer may echo the name B typed, nothing more.
    for text in ("export Alpha Secret Search", "status Alpha Secret Search", "link Alpha Secret Search"):
        answers[f"/scaleup {text}"] = command_b(app_server, text).status_code
    # Asking for the history of A's candidate by every key they have: B is told nobody matches.
    for text in ("history alpha-cand-1", "history zelda@alpha.example", "history Zelda"):
        answer = command_b(app_server, text)
        answers[f"/scaleup {text}"] = answer.status_code
        assert "No candidate matches" in answer.text and "Confidential" not in answer.text, answer.text
    app_server.settle()

    api = app_server.url + "/api/v1"
    auth = {"Authorization": f"Bearer {token_b}"}
    api_calls = [
        ("GET", "/searches/alpha-src-1", None),
        ("GET", "/candidates/alpha-cand-1", None),
        ("GET", "/candidates/alpha-cand-1/history", None),
        ("PATCH", "/candidates/alpha-cand-1/emails", {"work_email": "mallory@beta.example"}),
        (
            "POST",
            "/searches/alpha-src-1/responses",
            {"campaign": "c", "candidate_id": "alpha-cand-1", "type": "interested"},
        ),
    ]
    for method, path, body in api_calls:
        response = httpx.request(method, api + path, json=body, headers=auth, timeout=10)
        answers[f"API {method} {path}"] = response.status_code
        assert response.status_code in (404, 422), (
            f"{method} {path}: {response.status_code} {response.text[:200]}"
        )
        # The answer may echo the id the caller sent, nothing else of A's.
        revealed = [s for s in SECRETS_OF_A if s in response.text and s not in path + json.dumps(body)]
        assert not revealed, f"{method} {path} revealed A's {revealed}: {response.text[:200]}"

    assert not [w for w, s in answers.items() if s >= 500], answers
    after = rows_of(app_server, TEAM)
    changed = {t: (before[t], after[t]) for t in after if before.get(t) != after[t]}
    assert not changed, f"workspace B's requests changed workspace A's rows: {list(changed)}"
    # B's own connection may read its jobs; nothing may be written to the ATS.
    writes = [(r.method, r.path) for r in list(greenhouse.log)[ats_before:] if r.method != "GET"]
    assert not writes and not greenhouse.created, f"workspace B's requests wrote to the ATS: {writes}"
    calls = app_server.slack.calls()
    for first, last, typed_by_b in (
        (calls_before, by_id_calls, ()),
        (by_id_calls, len(calls), ("Alpha Secret Search",)),
    ):
        said = [(c.method, json.dumps(c.payload, default=str)) for c in calls[first:last]]
        leaked = [x for x in SECRETS_OF_A if x not in typed_by_b and any(x in text for _, text in said)]
        where = [(m, text[:400]) for m, text in said if any(x in text for x in leaked)]
        assert not leaked, f"Slack calls made for workspace B mention workspace A's {leaked}: {where}"
    with unit_of_work(app_server.sessions) as session:
        assert session.scalar(select(Export.state).where(Export.id == a["export"])) == ExportState.FAILED
    report("tenant isolation", cross_workspace_requests=len(answers), changed=0, revealed=0)


def test_a_non_admin_can_neither_connect_an_ats_nor_edit_a_link(
    app_server: AppServer, greenhouse: Any
) -> None:
    a = seed_workspace_a(app_server, greenhouse)
    before = rows_of(app_server, TEAM)
    member = {"id": MEMBER, "username": "m", "name": "m", "team_id": TEAM}

    assert "admin" in json.dumps(json_body(app_server.command("connect", user=MEMBER))).lower()
    connect = {
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "acme"},
        "user": member,
        "api_app_id": "A0001",
        "trigger_id": new_trigger(),
        "response_urls": [],
        "view": {
            "id": "VCONNECT1",
            "type": "modal",
            "callback_id": ConnectIds.VIEW,
            "hash": "1.x",
            "blocks": [],
            "private_metadata": json.dumps({"vendor": "lever"}),
            "state": {"values": {ConnectIds.VENDOR_BLOCK: {ConnectIds.VENDOR_SELECT: selected("lever")}}},
        },
    }
    answer = app_server.interact(connect)
    assert answer.status_code == 200 and "errors" in answer.text
    link = view_submission(
        LinkIds.VIEW,
        json.dumps({"vendor": "greenhouse"}),
        {
            LinkIds.SEARCH_BLOCK: {LinkIds.SEARCH_SELECT: selected(str(a["search"]))},
            LinkIds.MODE_BLOCK: {LinkIds.MODE_RADIO: selected(LinkMode.AUTOMATIC)},
        },
    )
    link["team"], link["user"] = {"id": TEAM, "domain": "acme"}, member
    answer = app_server.interact(link)
    assert answer.status_code == 200 and "errors" in answer.text
    app_server.settle()
    assert rows_of(app_server, TEAM) == before, "a non-admin changed the connection or a link"
    with unit_of_work(app_server.sessions) as session:
        assert (
            session.scalar(select(AtsConnection.vendor).where(AtsConnection.team_id == TEAM))
            == Vendor.GREENHOUSE
        )
        assert session.scalar(select(Link.mode).where(Link.id == a["link"])) == LinkMode.MANUAL
