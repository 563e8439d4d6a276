"""A database that cannot be used is one line naming the problem and its fix, exit 2, never a traceback:
the real `scaleup` process with a missing folder, a closed port, a missing database, a host that does not
resolve, and a PostgreSQL schema never upgraded (which `serve` and `worker` refuse to start on)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from serve_rig import run_scaleup, scaleup_env

from storage import migrate


def scaleup(tmp_path: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = scaleup_env(
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="s",
        SCALEUP_SECRET_KEY="8z3Ay6lzdjCdUyVl6Q1K3YdGJ3ufXrmT0Bn7x2b5FZ8=",
    )
    return run_scaleup(tmp_path, env, *args, timeout=60)


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("sqlite:///{tmp}/missing/folder/app.db", "the folder {tmp}/missing/folder does not exist"),
        ("postgresql://postgres@127.0.0.1:1/app", "nothing answers at 127.0.0.1:1"),
        (
            "postgresql://postgres@127.0.0.1:5432/no_such_database_here",
            "has no database 'no_such_database_here'",
        ),
        ("postgresql://postgres@nohost.invalid:5432/app", "the host nohost.invalid does not resolve"),
        # What hosting platforms hand out: read as PostgreSQL through the app's driver, not refused.
        (
            "postgres://postgres@127.0.0.1:5432/no_such_database_here",
            "has no database 'no_such_database_here'",
        ),
    ],
    ids=["sqlite-folder", "closed-port", "no-database", "unresolvable-host", "postgres-scheme"],
)
def test_an_unusable_database_is_one_line_and_exit_2(tmp_path: Path, url: str, said: str) -> None:
    for command in (["status"], ["db", "status"], ["tokens", "list", "--team", "T1"]):
        done = scaleup(tmp_path, url.format(tmp=tmp_path), *command)
        assert done.returncode == 2, (command, done.stderr)
        assert said.format(tmp=tmp_path) in done.stderr
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_serve_and_worker_refuse_a_postgresql_schema_never_upgraded(tmp_path: Path, postgres_server) -> None:
    url = postgres_server.new_database_url("scaleup_empty")
    for command in (["serve", "--port", "0"], ["worker", "--once"], ["status"]):
        done = scaleup(tmp_path, url, *command)
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert "the database schema is empty (never upgraded); this version of ScaleUp needs" in done.stderr
        assert "Run `scaleup db upgrade`" in done.stderr and "Traceback" not in done.stderr
    upgraded = scaleup(tmp_path, url, "db", "upgrade")
    assert upgraded.returncode == 0 and migrate.head_revision() in upgraded.stdout
    assert scaleup(tmp_path, url, "status").returncode == 0
