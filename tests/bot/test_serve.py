"""`scaleup serve` as a process, and the app in Socket Mode."""

from __future__ import annotations

from pathlib import Path

import httpx
from serve_rig import serve_process
from slack_bolt.request import BoltRequest
from slack_rig import ADMIN, SIGNING_SECRET, TEAM, make_settings
from sqlalchemy import inspect

from bot.app import create_app
from bot.deps import build_deps
from bot.wiring import Services
from devkit.slack.emulator import SlackEmulator
from devkit.slack.signing import command_body, signed_headers
from storage.db import make_engine


def test_serve_upgrades_sqlite_and_answers_slack_and_health(
    tmp_path: Path, slack: SlackEmulator, secret_key: str
) -> None:
    with serve_process(tmp_path, slack, secret_key) as served:
        assert httpx.get(served.url + "/healthz").json() == {"ok": True}
        body = command_body(
            text="help", team_id=TEAM, user_id=ADMIN, trigger_id="1.2.3", response_url=slack.webhook_url()
        )
        answer = httpx.post(
            served.url + "/slack/events", content=body, headers=signed_headers(SIGNING_SECRET, body)
        )
        assert answer.status_code == 200 and "/scaleup link" in answer.text
    engine = make_engine(f"sqlite:///{served.database}")
    assert {"link", "slack_installations", "slack_oauth_states"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_socket_mode_needs_no_signing_secret(
    db_engine, sessions, database_url: str, slack: SlackEmulator, secret_key: str
) -> None:
    settings = make_settings(
        database_url, slack, secret_key, SLACK_SIGNING_SECRET=None, SLACK_APP_TOKEN="xapp-1"
    )
    services = Services(settings=settings, engine=db_engine, sessions=sessions)
    deps = build_deps(services, background_threads=2)
    try:
        app = create_app(services, deps, socket_mode=True)
        body = {
            "command": "/scaleup",
            "text": "help",
            "team_id": TEAM,
            "user_id": ADMIN,
            "trigger_id": "1.2.3",
            "response_url": slack.webhook_url(),
        }
        response = app.dispatch(BoltRequest(body=body, mode="socket_mode"))
        assert response.status == 200 and "/scaleup link" in response.body
    finally:
        deps.close()
        services.close()
