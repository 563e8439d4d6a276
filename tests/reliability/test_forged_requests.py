"""Forged, unsigned, replayed and malformed requests to Slack's endpoint and the ingest API.

Each one is sent over real HTTP to the app served on loopback. A request that is not provably from Slack
(no signature, a wrong one, a timestamp more than five minutes old or ahead) is refused with 401; a signed
body that makes no sense is refused with 400, or acknowledged and ignored; never a 500. Nothing is stored
and no Slack call is made. The ingest API answers 401 to bad tokens and 400 to malformed JSON, likewise
storing nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

import httpx
import pytest
from reliability_rig import count_into, report, row_counts
from slack_rig import SIGNING_SECRET, TEAM, AppServer

from devkit.slack.signing import command_body, interaction_body, signed_headers
from storage.db import unit_of_work
from storage.repositories import ApiTokenRepository, ensure_workspace

FORM = "application/x-www-form-urlencoded"


def good_command() -> str:
    return command_body(
        text="connect",
        team_id=TEAM,
        user_id="UADMIN01",
        trigger_id="1.2.abc",
        response_url="http://127.0.0.1:9/x",
    )


def sign(body: str, secret: str, stamp: int) -> str:
    base = f"v0:{stamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def forged_requests() -> list[tuple[str, dict[str, str], str]]:
    """Return (what, headers, body) of requests that must be refused with 401."""
    body, now = good_command(), int(time.time())
    return [
        ("no signature headers", {"Content-Type": FORM}, body),
        (
            "signature without timestamp",
            {"Content-Type": FORM, "X-Slack-Signature": sign(body, SIGNING_SECRET, now)},
            body,
        ),
        ("timestamp without signature", {"Content-Type": FORM, "X-Slack-Request-Timestamp": str(now)}, body),
        ("signed with another secret", signed_headers("not-the-secret", body), body),
        ("replayed: 6 minutes old", signed_headers(SIGNING_SECRET, body, timestamp=now - 360), body),
        ("replayed: a day old", signed_headers(SIGNING_SECRET, body, timestamp=now - 86_400), body),
        ("from 10 minutes in the future", signed_headers(SIGNING_SECRET, body, timestamp=now + 600), body),
        (
            "body changed after signing",
            signed_headers(SIGNING_SECRET, body),
            body.replace("connect", "admins+add"),
        ),
        (
            "signature v1 scheme",
            {**signed_headers(SIGNING_SECRET, body), "X-Slack-Signature": "v1=" + "0" * 64},
            body,
        ),
        (
            "truncated signature",
            {**signed_headers(SIGNING_SECRET, body), "X-Slack-Signature": "v0=abc"},
            body,
        ),
        (
            "non-numeric timestamp",
            {**signed_headers(SIGNING_SECRET, body), "X-Slack-Request-Timestamp": "soon"},
            body,
        ),
        ("empty body, no signature", {"Content-Type": FORM}, ""),
    ]


def malformed_bodies() -> list[tuple[str, str, str]]:
    """Return (what, content type, body) of correctly signed bodies that make no sense."""
    return [
        ("empty form", FORM, ""),
        ("garbage form", FORM, "%%%&&&===;;"),
        ("payload not JSON", FORM, "payload=%7Bnot-json"),
        ("payload a JSON list", FORM, urlencode({"payload": "[1, 2, 3]"})),
        ("payload a JSON string", FORM, urlencode({"payload": '"hello"'})),
        ("payload without type", FORM, interaction_body({"team": {"id": TEAM}, "user": {"id": "U1"}})),
        ("payload of unknown type", FORM, interaction_body({"type": "nonsense", "team": {"id": TEAM}})),
        (
            "block_actions without actions",
            FORM,
            interaction_body({"type": "block_actions", "team": {"id": TEAM}, "user": {"id": "U1"}}),
        ),
        (
            "view_submission without view",
            FORM,
            interaction_body({"type": "view_submission", "team": {"id": TEAM}, "user": {"id": "U1"}}),
        ),
        (
            "view_submission with null view",
            FORM,
            interaction_body({"type": "view_submission", "team": None, "user": None, "view": None}),
        ),
        (
            "command without team",
            FORM,
            urlencode({"command": "/scaleup", "text": "connect", "user_id": "U1"}),
        ),
        ("command with an unknown subcommand", FORM, good_command().replace("connect", "drop+tables")),
        ("JSON event not JSON", "application/json", '{"type": '),
        ("JSON event a list", "application/json", "[]"),
        (
            "event_callback without event",
            "application/json",
            json.dumps({"type": "event_callback", "team_id": TEAM}),
        ),
        ("url_verification without challenge", "application/json", json.dumps({"type": "url_verification"})),
        ("invalid UTF-8", FORM, "payload=%FF%FE%FD"),
        ("NUL bytes", FORM, "payload=" + "%00" * 16),
        (
            "a 200 KB body",
            FORM,
            urlencode({"payload": json.dumps({"type": "block_actions", "x": "a" * 200_000})}),
        ),
    ]


def test_forged_unsigned_and_replayed_slack_requests_get_401_and_store_nothing(app_server: AppServer) -> None:
    engine = app_server.services.engine
    before, calls_before = row_counts(engine), len(app_server.slack.calls())
    tried = count_into("forged Slack requests", "requests_tried")
    for what, headers, body in forged_requests():
        response = app_server.http.post(
            app_server.url + "/slack/events", content=body.encode(), headers=headers
        )
        assert response.status_code == 401, f"{what}: {response.status_code} {response.text[:200]}"
        tried()
    app_server.settle()
    assert row_counts(engine) == before, "a forged request stored something"
    assert app_server.slack.calls()[calls_before:] == [], "a forged request made the app call Slack"
    report("forged Slack requests", answered="401 each", stored=0, slack_calls=0)


def test_malformed_signed_slack_requests_get_400_or_are_ignored_never_500(app_server: AppServer) -> None:
    engine = app_server.services.engine
    before = row_counts(engine)
    tried = count_into("malformed Slack requests", "requests_tried")
    answers = {}
    for what, content_type, body in malformed_bodies():
        headers = signed_headers(SIGNING_SECRET, body, content_type=content_type)
        response = app_server.http.post(
            app_server.url + "/slack/events", content=body.encode(), headers=headers
        )
        answers[what] = response.status_code
        tried()
    app_server.settle()
    bad = {what: status for what, status in answers.items() if status >= 500}
    assert not bad, f"server errors: {bad}"
    odd = {what: status for what, status in answers.items() if status not in (200, 400, 404)}
    assert not odd, f"unexpected answers: {odd}"
    after = row_counts(engine)
    changed = {t: (before[t], after[t]) for t in after if after[t] != before[t] and t != "workspace"}
    assert not changed, f"a malformed request stored something: {changed}"
    report("malformed Slack requests", statuses=sorted(set(answers.values())), server_errors=0)


@pytest.fixture
def api(app_server: AppServer):
    """Return (base URL, a valid token) of the ingest API of the app under test."""
    with unit_of_work(app_server.sessions) as session:
        ensure_workspace(session, TEAM)
        token = ApiTokenRepository(session, TEAM).issue("reliability")[1]
    return app_server.url + "/api/v1", token


def test_ingest_api_refuses_bad_tokens_with_401_and_malformed_json_with_400(
    app_server: AppServer, api
) -> None:
    base, token = api
    engine = app_server.services.engine
    before = row_counts(engine)
    tried = count_into("ingest API bad requests", "requests_tried")
    body = {"source_id": "c1", "first_name": "Ada", "email": "ada@example.com"}
    bad_tokens = [
        None,
        "Bearer",
        token + "x",
        token[:-1],
        token.upper(),
        "scaleup_" + "0" * 40,
        "Basic " + token,
        "Bearer " + token + " extra",
        "Bearer " + "\u00e9" * 10,
    ]
    for value in bad_tokens:
        headers = (
            {}
            if value is None
            else {"Authorization": value if value.startswith(("Bearer", "Basic")) else f"Bearer {value}"}
        )
        try:
            response = httpx.post(f"{base}/searches/s1/candidates", json=body, headers=headers, timeout=10)
        except UnicodeEncodeError:
            response = httpx.post(
                f"{base}/searches/s1/candidates",
                json=body,
                headers={"Authorization": ("Bearer " + value).encode()},
                timeout=10,
            )
        assert response.status_code == 401, f"token {value!r}: {response.status_code} {response.text[:200]}"
        tried()
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for raw in [
        b"",
        b"{",
        b"[]",
        b"null",
        b'"x"',
        b'{"first_name": }',
        b"\xff\xfe",
        b'{"a": NaN}',
        b"1e999999",
        b"{" * 5000 + b"}" * 5000,
    ]:
        response = httpx.post(f"{base}/searches/s1/candidates", content=raw, headers=auth, timeout=10)
        assert response.status_code in (400, 413, 422), (
            f"{raw[:30]!r}: {response.status_code} {response.text[:200]}"
        )
        tried()
    after = row_counts(engine)
    changed = {t: (before[t], after[t]) for t in after if after[t] != before[t]}
    assert not changed, f"a refused request stored something: {changed}"
    report("ingest API bad requests", answered="401 / 400", stored=0)
