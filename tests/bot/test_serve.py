"""`scaleup serve` as a process, and the app in Socket Mode."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from slack_bolt.request import BoltRequest
from slack_rig import ADMIN, SIGNING_SECRET, TEAM, make_settings
from sqlalchemy import inspect

from bot.app import create_app
from bot.deps import build_deps
from bot.wiring import Services
from devkit.slack.emulator import DEFAULT_TOKEN, SlackEmulator
from devkit.slack.signing import command_body, signed_headers
from storage.db import make_engine


def test_serve_upgrades_sqlite_and_answers_slack_and_health(
    tmp_path: Path, slack: SlackEmulator, secret_key: str
) -> None:
    database = tmp_path / "serve.db"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SCALEUP_", "DATABASE_"))},
        "DATABASE_URL": f"sqlite:///{database}",
        "SCALEUP_SECRET_KEY": secret_key,
        "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", "0"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()  # type: ignore[union-attr]
        match = re.search(r"(http://[\d.]+:\d+)/slack/events", line)
        assert match, (line, process.stderr.read() if process.poll() is not None else "")  # type: ignore[union-attr]
        url = match.group(1)
        assert httpx.get(url + "/healthz").json() == {"ok": True}
        body = command_body(
            text="help", team_id=TEAM, user_id=ADMIN, trigger_id="1.2.3", response_url=slack.webhook_url()
        )
        answer = httpx.post(url + "/slack/events", content=body, headers=signed_headers(SIGNING_SECRET, body))
        assert answer.status_code == 200 and "/scaleup link" in answer.text
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=20)
        assert code == 0, process.stderr.read()  # type: ignore[union-attr]
    engine = make_engine(f"sqlite:///{database}")
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
