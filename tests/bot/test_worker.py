"""`scaleup worker` processes against the Lever emulator over real HTTP: many on PostgreSQL, one on SQLite.

The workers are real processes (the `scaleup` command) sharing a fresh database; the emulator runs in the
test process and tells how many records each email got.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from scheduling_rig import (
    SCALEUP,
    add_link,
    add_links,
    connect,
    created_per_email,
    reaped,
    run_worker_once,
    running_emulator,
    start_worker,
    states,
    worker_env,
)
from slack_rig import SIGNING_SECRET
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from devkit.ats.base import Emulator
from devkit.slack.emulator import DEFAULT_TOKEN, SlackEmulator
from storage import migrate
from storage.crypto import SecretBox
from storage.db import make_engine, make_session_factory, unit_of_work
from storage.models import Export, Link, WorkerLock
from storage.states import ExportState

FINAL = {ExportState.EXPORTED, ExportState.DUPLICATE}


def wait_for(condition: Callable[[], object], timeout: float, what: str, every: float = 0.05) -> object:
    """Poll `condition` until it is truthy; fail naming `what` after `timeout` seconds.

    Timeouts are generous guards against a hang, not speed checks: the same run takes several times longer
    on a loaded machine.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """Yield a started Lever emulator with a generous rate limit."""
    with running_emulator() as emu:
        yield emu


@pytest.fixture
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[str], tuple]]:
    """Return a factory of brand-new migrated databases: (url, sessions) for "postgresql" or "sqlite"."""
    engines = []

    def make(kind: str) -> tuple[str, sessionmaker[Session]]:
        if kind == "postgresql":
            url = request.getfixturevalue("postgres_server").new_database_url("scaleup_worker")
        else:
            url = f"sqlite:///{tmp_path / 'worker.db'}"
        engine = make_engine(url)
        engines.append(engine)
        migrate.upgrade(engine)
        return url, make_session_factory(engine)

    yield make
    for engine in engines:
        engine.dispose()


def claims_of(sessions: sessionmaker[Session], pid: int) -> int:
    """Return how many candidates the worker process `pid` holds claimed (`exporting` under its lease)."""
    with unit_of_work(sessions) as session:
        return session.scalar(
            select(func.count())
            .select_from(Export)
            .where(Export.state == ExportState.EXPORTING, Export.lease_owner.like(f"%:{pid}:%"))
        )


def all_settled(sessions: sessionmaker[Session], total: int) -> bool:
    """Return True once every candidate is exported (or linked) and nothing is pending or claimed."""
    counts = states(sessions)
    return sum(counts[s] for s in FINAL) == total and sum(counts.values()) == total


def stop_gracefully(process, timeout: float = 60) -> int:
    """Send SIGTERM and return the exit code."""
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout)


def assert_each_exported_once(emulator: Emulator, emails: set[str]) -> None:
    created = created_per_email(emulator)
    assert set(created) == emails, "some candidates were not exported, or unknown ones were"
    assert set(created.values()) == {1}, "a candidate got two ATS records"


pytestmark = pytest.mark.slow


@pytest.mark.timeout(900)
def test_three_worker_processes_export_everything_once_and_take_over_a_killed_one(
    fresh_database, emulator, secret_key: str, tmp_path: Path
) -> None:
    url, sessions = fresh_database("postgresql")
    emails = add_links(sessions, connect(sessions, SecretBox(secret_key), emulator), "s", 20, 100)
    total, env = len(emails), worker_env(url, secret_key)
    logs = [tmp_path / f"worker{i}.log" for i in range(3)]
    workers = [start_worker(env, log) for log in logs]
    victim, survivors = workers[0], workers[1:]
    with reaped(*workers):
        # Kill the first worker while it holds claimed candidates: mid-pass, no chance to release them.
        wait_for(
            lambda: claims_of(sessions, victim.pid) > 0, 60, "the first worker to claim candidates", 0.005
        )
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        orphaned = claims_of(sessions, victim.pid)
        assert orphaned > 0, "the killed worker left no claims behind; the takeover was not exercised"

        wait_for(lambda: all_settled(sessions, total), 600, "every candidate to be exported", 0.5)
        assert [stop_gracefully(worker) for worker in survivors] == [0, 0]

    assert claims_of(sessions, victim.pid) == 0
    assert_each_exported_once(emulator, emails)
    with unit_of_work(sessions) as session:
        assert (
            session.scalar(select(func.count()).select_from(Link).where(Link.lease_owner.is_not(None))) == 0
        )
    for log in logs[1:]:
        assert "Export pass:" in log.read_text(), (
            "a surviving worker did no export pass: the load was not shared"
        )


@pytest.mark.timeout(600)
def test_one_worker_on_sqlite_exports_everything_a_second_refuses_and_sigterm_leaves_nothing_half_done(
    fresh_database, emulator, secret_key: str, tmp_path: Path
) -> None:
    url, sessions = fresh_database("sqlite")
    emails = add_links(sessions, connect(sessions, SecretBox(secret_key), emulator), "q", 10, 40)
    total, env = len(emails), worker_env(url, secret_key)
    emulator.faults.set_latency(0.01)  # slow enough that a SIGTERM lands mid-pass
    log = tmp_path / "worker.log"
    worker = start_worker(env, log)
    with reaped(worker):
        wait_for(lambda: states(sessions)[ExportState.EXPORTED] > 0, 60, "the worker to export")
        with unit_of_work(sessions) as session:
            assert session.scalar(select(WorkerLock.owner)).split(":")[1] == str(worker.pid)

        second = run_worker_once(env)
        assert second.returncode == 2
        assert "another export worker" in second.stderr and "SQLite allows only one worker" in second.stderr

        assert stop_gracefully(worker) == 0

    # Stopped mid-way: what was claimed was finished or released, the link leases and the lock given back.
    counts = states(sessions)
    assert counts[ExportState.EXPORTING] == 0 and 0 < counts[ExportState.EXPORTED] < total
    with unit_of_work(sessions) as session:
        assert (
            session.scalar(select(func.count()).select_from(Link).where(Link.lease_owner.is_not(None))) == 0
        )
        assert session.scalar(select(func.count()).select_from(WorkerLock)) == 0
    exported_so_far = created_per_email(emulator)
    assert sum(exported_so_far.values()) == counts[ExportState.EXPORTED]

    # A new worker finishes the rest, each candidate still exported once.
    emulator.faults.set_latency(0)
    worker = start_worker(env, log)
    with reaped(worker):
        wait_for(lambda: all_settled(sessions, total), 300, "every candidate to be exported", 0.5)
        assert stop_gracefully(worker) == 0
    assert_each_exported_once(emulator, emails)


def test_worker_once_exports_due_links_and_exits(fresh_database, emulator, secret_key: str) -> None:
    url, sessions = fresh_database("sqlite")
    connection = connect(sessions, SecretBox(secret_key), emulator)
    add_link(sessions, connection, "once", 5)

    done = run_worker_once(worker_env(url, secret_key))

    assert done.returncode == 0, done.stderr
    assert "exported 5" in done.stdout
    assert states(sessions) == {ExportState.EXPORTED: 5}
    assert os.path.exists(url.removeprefix("sqlite:///") + ".ratelimit")  # the budget shared with `serve`


def test_serve_with_worker_exports_in_the_same_process_and_holds_the_sqlite_lock(
    fresh_database, emulator, slack: SlackEmulator, secret_key: str, tmp_path: Path
) -> None:
    url, sessions = fresh_database("sqlite")
    emails = add_links(sessions, connect(sessions, SecretBox(secret_key), emulator), "srv", 2, 5)
    slack_env = {
        "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
    }
    env = worker_env(url, secret_key, **slack_env)
    with (tmp_path / "serve.log").open("w") as out:
        server = subprocess.Popen(
            [SCALEUP, "serve", "--port", "0", "--with-worker"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    with reaped(server):
        wait_for(lambda: all_settled(sessions, len(emails)), 60, "the server's worker to export")
        refused = run_worker_once(env)
        assert refused.returncode == 2 and "SQLite allows only one worker" in refused.stderr
        server.send_signal(signal.SIGINT)
        assert server.wait(30) == 0, (tmp_path / "serve.log").read_text()
    assert_each_exported_once(emulator, emails)
    with unit_of_work(sessions) as session:
        assert session.scalar(select(func.count()).select_from(WorkerLock)) == 0


def test_sigterm_to_serve_with_worker_stops_its_worker_gracefully_and_frees_the_sqlite_lock(
    fresh_database, emulator, slack: SlackEmulator, secret_key: str, tmp_path: Path
) -> None:
    url, sessions = fresh_database("sqlite")
    emails = add_links(sessions, connect(sessions, SecretBox(secret_key), emulator), "term", 10, 40)
    env = worker_env(
        url,
        secret_key,
        SLACK_BOT_TOKEN=DEFAULT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.api_url,
    )
    emulator.faults.set_latency(0.01)  # slow enough that the SIGTERM lands mid-pass
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [SCALEUP, "serve", "--port", "0", "--with-worker"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    with reaped(server):
        wait_for(lambda: states(sessions)[ExportState.EXPORTED] > 0, 60, "the server's worker to export")
        assert stop_gracefully(server) == 0, log.read_text()[-3000:]

    # As `scaleup worker` does on SIGTERM: nothing left claimed, leases and the lock given back.
    counts = states(sessions)
    assert counts[ExportState.EXPORTING] == 0 and 0 < counts[ExportState.EXPORTED] < len(emails)
    with unit_of_work(sessions) as session:
        assert session.scalar(select(func.count()).select_from(WorkerLock)) == 0
        assert (
            session.scalar(select(func.count()).select_from(Link).where(Link.lease_owner.is_not(None))) == 0
        )
    assert "received SIGTERM" in log.read_text() and "export worker" in log.read_text()

    emulator.faults.set_latency(0)
    done = run_worker_once(env)  # the next start is not refused
    assert done.returncode == 0, done.stderr
    assert all_settled(sessions, len(emails))
    assert_each_exported_once(emulator, emails)


def test_a_lock_held_by_a_dead_process_of_this_host_is_taken_over_at_once(
    fresh_database, emulator, secret_key: str, tmp_path: Path
) -> None:
    url, sessions = fresh_database("sqlite")
    add_link(sessions, connect(sessions, SecretBox(secret_key), emulator), "dead", 3)
    env = worker_env(url, secret_key)
    worker = start_worker(env, tmp_path / "worker.log")
    with reaped(worker):
        wait_for(lambda: all_settled(sessions, 3), 60, "the worker to export")
        worker.kill()  # SIGKILL: no chance to release the lock
        worker.wait()
    with unit_of_work(sessions) as session:
        owner = session.scalar(select(WorkerLock.owner))
    assert owner is not None and owner.split(":")[1] == str(worker.pid), "the killed worker left its lock"

    done = run_worker_once(env)  # well within three heartbeats of the last one

    assert done.returncode == 0, done.stderr
    assert f"taking over the worker lock of {owner}: its process no longer runs on this host" in done.stderr
