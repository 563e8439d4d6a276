"""The shared rate budget: one bucket per connection for every thread and process, and a shared 429 hold."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid

import pytest
from alembic import command
from sqlalchemy import inspect

from ats.budget_stores import TABLE_PREFIX, forget_spent_budgets
from ats.budgets import Backend, SharedBudgets, connection_key, parse_limits
from ats.registry import spec_of
from ats.spec import VendorLimit
from core.vocabulary import Vendor
from storage import migrate
from storage.db import make_engine

LIMIT = 5
WINDOW = 1.0
# Stamps are taken just after `acquire()` returns, so scheduling jitter can only spread them out or pull
# two together by the jitter; checking a slightly narrower window keeps the check exact yet not flaky.
CHECK_WINDOW = 0.85


def busiest_window(stamps: list[float], window: float = CHECK_WINDOW) -> int:
    """Return the most stamps that fall in any interval of `window` seconds."""
    stamps = sorted(stamps)
    best = 0
    for i, start in enumerate(stamps):
        best = max(best, sum(1 for t in stamps[i:] if t < start + window))
    return best


def test_parse_limits_overrides_one_vendor_and_names_bad_values() -> None:
    limits = parse_limits({"Lever": "100/2"})
    assert limits[Vendor.LEVER] == VendorLimit(limit=100, window=2.0)
    assert limits[Vendor.ASHBY] == spec_of(Vendor.ASHBY).rate_limit
    with pytest.raises(ValueError, match="unknown vendor 'nope'"):
        parse_limits({"nope": "1/1"})
    with pytest.raises(ValueError, match="lever must be REQUESTS/SECONDS"):
        parse_limits({"lever": "fast"})


@pytest.fixture(params=["memory", "database"])
def budgets(request: pytest.FixtureRequest, database_url: str):
    """Return budgets of each backend: in memory, and in the test database (PostgreSQL or SQLite file)."""
    engine = make_engine(database_url)
    backend = Backend.MEMORY if request.param == "memory" else Backend.AUTO
    shared = SharedBudgets(engine, limits={Vendor.LEVER: VendorLimit(LIMIT, WINDOW)}, backend=backend)
    yield shared
    shared.close()
    engine.dispose()


def test_threads_sharing_a_budget_never_exceed_its_limit(budgets: SharedBudgets) -> None:
    budget = budgets.get(f"test_{uuid.uuid4().hex[:12]}", Vendor.LEVER)
    stamps: list[float] = []
    lock = threading.Lock()

    def take(n: int) -> None:
        for _ in range(n):
            budget.acquire()
            with lock:
                stamps.append(time.time())

    threads = [threading.Thread(target=take, args=(4,)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(stamps) == 12
    assert busiest_window(stamps) <= LIMIT


def test_budgets_are_one_per_connection(budgets: SharedBudgets) -> None:
    assert budgets.for_connection(7, Vendor.LEVER) is budgets.for_connection(7, Vendor.LEVER)
    assert budgets.for_connection(7, Vendor.LEVER) is not budgets.for_connection(8, Vendor.LEVER)


def test_a_connection_switched_to_another_ats_gets_that_vendors_limit() -> None:
    # The workspace's connection keeps its id when it moves from Lever to Ashby.
    limits = {Vendor.LEVER: VendorLimit(1, 600.0), Vendor.ASHBY: VendorLimit(5, 600.0)}
    shared = SharedBudgets(None, limits=limits, backend=Backend.MEMORY)
    try:
        shared.for_connection(9, Vendor.LEVER).acquire()
        ashby = shared.for_connection(9, Vendor.ASHBY)
        # Under Lever's limit of one the next token would be ten minutes away.
        assert all(ashby._limiter.try_acquire(connection_key(9), blocking=False) for _ in range(4))
    finally:
        shared.close()


def test_a_429_seen_by_one_user_holds_back_the_others(database_url: str) -> None:
    # Two SharedBudgets on two engines behave like two worker processes.
    engines = [make_engine(database_url) for _ in range(2)]
    first, second = (
        SharedBudgets(e, limits={Vendor.LEVER: VendorLimit(100, 1.0)}, recheck_seconds=0) for e in engines
    )
    try:
        key = f"test_{uuid.uuid4().hex[:12]}"
        seen = second.get(key, Vendor.LEVER)
        seen.acquire()
        slept: list[float] = []
        seen._sleep = lambda seconds: (slept.append(seconds), time.sleep(seconds))  # observe, still wait

        first.get(key, Vendor.LEVER).penalize(0.4)
        seen.acquire()

        assert slept, "the second worker sent without waiting for the first one's 429"
        assert second._holds.remaining(key) == 0
    finally:
        for shared in (first, second):
            shared.close()
        for engine in engines:
            engine.dispose()


def test_forgetting_spent_budgets_gives_a_recycled_connection_id_a_fresh_budget(database_url: str) -> None:
    # SQLite reuses the id of a deleted newest row; the budget and hold kept under it must not carry over.
    engine = make_engine(database_url)
    limits = {Vendor.LEVER: VendorLimit(1, 600.0)}
    key = f"test_{uuid.uuid4().hex[:12]}"
    spender, watcher, fresh = (SharedBudgets(engine, limits=limits) for _ in range(3))
    try:
        spent, watched, renewed = (shared.get(key, Vendor.LEVER) for shared in (spender, watcher, fresh))
        spent.acquire()
        spent.penalize(600)
        assert watcher._holds.remaining(key) > 0
        # Blocking with a timeout, not blocking=False: a non-blocking try also fails when another budget on
        # the same limiter file holds its lock for a moment (a leaker thread of an earlier test's app).
        assert not watched._limiter.try_acquire(
            key, blocking=True, timeout=1
        )  # another process sees it spent

        forget_spent_budgets(engine)

        assert fresh._holds.remaining(key) == 0
        assert renewed._limiter.try_acquire(key, blocking=True, timeout=1)
    finally:
        for shared in (spender, watcher, fresh):
            shared.close()
        engine.dispose()


CLIENT = """
import json, sys, time
from ats.spec import VendorLimit
from core.vocabulary import Vendor
from ats.budgets import SharedBudgets
from storage.db import make_engine
url, key, n, limit, window = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
engine = make_engine(url)
budgets = SharedBudgets(engine, limits={Vendor.LEVER: VendorLimit(limit, window)})
budget = budgets.get(key, Vendor.LEVER)
print("ready", flush=True)
sys.stdin.readline()
stamps = []
for _ in range(n):
    budget.acquire()
    stamps.append(time.time())
budgets.close()
print(json.dumps(stamps), flush=True)
"""


def test_processes_sharing_a_connection_stay_under_its_limit_together(database_url: str) -> None:
    key = f"test_{uuid.uuid4().hex[:12]}"
    args = [sys.executable, "-c", CLIENT, database_url, key, "5", str(LIMIT), str(WINDOW)]
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    procs = [
        subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        for _ in range(3)
    ]
    try:
        for proc in procs:  # every process has its bucket before any sends: they start together
            assert proc.stdout.readline().strip() == "ready"
        for proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        stamps = []
        for proc in procs:
            out, _ = proc.communicate(timeout=60)
            assert proc.returncode == 0
            stamps += json.loads(out.strip().splitlines()[-1])
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    assert len(stamps) == 15
    assert busiest_window(stamps) <= LIMIT


def test_the_limiter_tables_stay_out_of_the_migrations(postgres_server) -> None:
    engine = make_engine(postgres_server.new_database_url("scaleup_limiter"))
    try:
        migrate.upgrade(engine)
        budgets = SharedBudgets(engine, limits={Vendor.LEVER: VendorLimit(LIMIT, WINDOW)})
        budgets.for_connection(1, Vendor.LEVER).acquire()  # creates the bucket and hold tables
        budgets.close()
        assert any(name.startswith(TABLE_PREFIX) for name in inspect(engine).get_table_names())

        command.check(migrate.alembic_config(engine))  # autogenerate finds nothing to add or drop
    finally:
        engine.dispose()


def test_a_budget_busy_elsewhere_is_not_an_empty_one(database_url: str) -> None:
    """The ingest API's per-token budget refuses only when the bucket says wait, never because another
    bucket of the same file (an export's, on another thread) held the shared lock at that instant."""
    engine = make_engine(database_url)
    budgets = SharedBudgets(engine)
    roomy = VendorLimit(100_000, 60.0)
    stop = threading.Event()

    def busy_elsewhere() -> None:
        other = budgets.for_key(f"test_other_{uuid.uuid4().hex[:8]}", roomy)
        while not stop.is_set():
            other.try_take()

    threads = [threading.Thread(target=busy_elsewhere) for _ in range(3)]
    try:
        for thread in threads:
            thread.start()
        mine = budgets.for_key(f"test_api_{uuid.uuid4().hex[:8]}", roomy)
        refused = sum(mine.try_take() > 0 for _ in range(300))
        tight = budgets.for_key(f"test_tight_{uuid.uuid4().hex[:8]}", VendorLimit(2, 60.0))
        answers = [tight.try_take() for _ in range(3)]
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        budgets.close()
        engine.dispose()
    assert refused == 0
    assert answers[:2] == [0.0, 0.0] and answers[2] > 1, "an empty budget still says how long to wait"
