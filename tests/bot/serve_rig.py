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

from slack_rig import SIGNING_SECRET

from devkit.slack.emulator import DEFAULT_TOKEN, SlackEmulator


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


@contextmanager
def serve_process(
    tmp_path: Path, slack: SlackEmulator, secret_key: str, **env: str
) -> Iterator[ServeProcess]:
    """Run `scaleup serve --port 0` until the block ends; `env` adds or overrides environment variables."""
    database = tmp_path / "serve.db"
    log = tmp_path / "serve.log"
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SCALEUP_", "DATABASE_"))},
        "DATABASE_URL": f"sqlite:///{database}",
        "SCALEUP_SECRET_KEY": secret_key,
        "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        **env,
    }
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--port", "0"],
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
