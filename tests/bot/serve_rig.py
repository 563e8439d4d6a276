"""`scaleup serve` as a real process: started on a free port against a SQLite file and the Slack stand-in,
its log (stderr) kept in a file the tests can search, stopped with Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from slack_rig import ADMIN, SIGNING_SECRET, TEAM

from devkit.slack.driver import new_trigger
from devkit.slack.emulator import DEFAULT_TOKEN, SlackEmulator
from devkit.slack.signing import command_body, interaction_body, signed_headers


def scaleup_env(**values: str | None) -> dict[str, str]:
    """Return this process's environment without the app's settings, plus `values` (None removes one)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SCALEUP_", "DATABASE_"))}
    return {k: v for k, v in {**env, **values}.items() if v is not None}


def run_scaleup(
    cwd: Path, env: dict[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the real `scaleup` command to its end and return what it printed and its exit code."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class ServeProcess:
    """A running `scaleup serve`: its root URL, process, database file and log file."""

    url: str
    process: subprocess.Popen[str]
    database: Path
    log: Path

    @property
    def host_port(self) -> tuple[str, int]:
        host, port = self.url.removeprefix("http://").split(":")
        return host, int(port)

    def rss_bytes(self) -> int:
        """Return the process's resident memory now (Linux /proc)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS line")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def post_signed(self, body: str) -> httpx.Response:
        """POST `body` to /slack/events signed as Slack signs it."""
        return httpx.post(
            self.url + "/slack/events", content=body.encode(), headers=signed_headers(SIGNING_SECRET, body)
        )

    def command(self, slack: SlackEmulator, text: str, *, user: str = ADMIN) -> httpx.Response:
        """Send `/scaleup <text>` as `user`."""
        trigger = new_trigger()
        body = command_body(
            text=text, team_id=TEAM, user_id=user, trigger_id=trigger, response_url=slack.webhook_url()
        )
        return self.post_signed(body)

    def interact(self, payload: dict[str, Any]) -> httpx.Response:
        """Send an interaction payload (block actions, submissions…)."""
        return self.post_signed(interaction_body(payload))


@contextmanager
def serve_process(
    tmp_path: Path,
    slack: SlackEmulator,
    secret_key: str,
    *,
    name: str = "serve",
    args: tuple[str, ...] = (),
    **env: str | None,
) -> Iterator[ServeProcess]:
    """Run `scaleup serve --port 0 ARGS` until the block ends; `env` adds, overrides or (None) removes
    variables.

    Processes started with the same `tmp_path` share its database (`serve.db`); `name` names the log.
    """
    database = tmp_path / "serve.db"
    log = tmp_path / f"{name}.log"
    defaults = {
        "DATABASE_URL": f"sqlite:///{database}",
        "SCALEUP_SECRET_KEY": secret_key,
        "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "SCALEUP_ATS_PRIVATE_URLS": "1",  # the ATS emulators listen on loopback
    }
    environment = scaleup_env(**{**defaults, **env})
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--port", "0", *args],
            env=environment,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        try:
            line = process.stdout.readline()  # type: ignore[union-attr]
            match = re.search(r"(http://[\d.]+:\d+)/slack/events", line)
            assert match, (line, log.read_text())
            yield ServeProcess(match.group(1), process, database, log)
        finally:
            process.send_signal(signal.SIGINT)
            code = process.wait(timeout=30)
            assert code == 0, log.read_text()[-3000:]
