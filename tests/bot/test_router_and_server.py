"""The server's routes, request signatures, and `/scaleup` routing of help, unknown and later subcommands."""

from __future__ import annotations

import socket
import time

from slack_rig import ADMIN, TEAM, AppServer, json_body, new_trigger
from sqlalchemy import func, select

from devkit.slack.signing import command_body
from storage.db import unit_of_work
from storage.models import Workspace


def workspace_count(server: AppServer) -> int:
    with unit_of_work(server.sessions) as session:
        return session.scalar(select(func.count()).select_from(Workspace)) or 0


def test_healthz_answers_when_the_database_does(app_server: AppServer) -> None:
    response = app_server.http.get(app_server.url + "/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert app_server.http.get(app_server.url + "/nowhere").status_code == 404


def test_head_healthz_sends_no_body_so_the_next_answer_on_the_connection_is_whole(
    app_server: AppServer,
) -> None:
    """A load balancer's HEAD probe and a GET on one kept-alive connection (raw socket: a client library
    would hide a stray body)."""
    host, port = app_server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(
            b"HEAD /healthz HTTP/1.1\r\nHost: app\r\n\r\n"
            b"GET /healthz HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n"
        )
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    head, rest = received.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200") and b"Content-Length" in head
    assert rest.startswith(b"HTTP/1.1 200"), rest[:80]
    assert rest.endswith(b'{"ok": true}')


def test_help_lists_every_subcommand(app_server: AppServer) -> None:
    answer = json_body(app_server.command("help"))
    text = answer["text"]
    for word in ("link", "export", "status", "connect", "admins add"):
        assert f"/scaleup {word}" in text
    assert answer["blocks"], "usage comes as blocks too"


def test_unknown_subcommand_answers_with_usage(app_server: AppServer) -> None:
    answer = json_body(app_server.command("frobnicate now"))
    assert "I don't know `frobnicate`" in answer["text"]
    assert "/scaleup link" in answer["text"]


def test_bad_or_stale_signature_is_refused_and_nothing_is_stored(app_server: AppServer) -> None:
    body = command_body(
        text="connect",
        team_id=TEAM,
        user_id=ADMIN,
        trigger_id=new_trigger(),
        response_url=app_server.slack.webhook_url(),
    )
    bad = app_server.post(body, secret="not-the-signing-secret")
    stale = app_server.post(body, timestamp=int(time.time()) - 10 * 60)
    assert bad.status_code == 401
    assert stale.status_code == 401
    assert workspace_count(app_server) == 0
    assert app_server.slack.calls("views.open") == []
    assert app_server.slack.calls("users.info") == []


def test_app_home_is_published_when_opened(app_server: AppServer) -> None:
    response = app_server.event({"type": "app_home_opened", "user": ADMIN, "channel": "D1", "tab": "home"})
    assert response.status_code == 200
    (published,) = app_server.slack.calls("views.publish")
    assert published.payload["user_id"] == ADMIN
    assert published.payload["view"]["type"] == "home"


def test_ingest_api_is_mounted_under_api_v1(app_server: AppServer) -> None:
    response = app_server.http.get(app_server.url + "/api/v1/openapi.json")
    assert response.status_code != 404
    unauthenticated = app_server.http.get(app_server.url + "/api/v1/searches/s-1")
    assert unauthenticated.status_code == 401
