"""One request budget per ATS connection, shared by every thread, worker and process that calls it.

`SharedBudgets` is the one place budgets come from: build it once per process (`bot.wiring.Services.budgets`)
and ask it for a connection's budget. Each budget implements `ats.base.RateBudget` on pyrate-limiter (a
maintained limiter, not one of our own), with the bucket chosen by where the app keeps its data:

- PostgreSQL: pyrate-limiter's `PostgresBucket`, one table per connection (`ratelimit___ats_connection_<id>`)
  in the app's database, checked and filled under a table lock and timed by the database clock, so any
  number of workers on any number of hosts together stay under the vendor's limit.
- SQLite: pyrate-limiter's `SQLiteBucket` in a file beside the database (`<db>.ratelimit`), so the one
  worker and the Slack server share it without ever waiting on the app's write lock.
- memory: pyrate-limiter's `InMemoryBucket`, when the process is the only one calling the ATS.

A 429 seen by anyone must slow everyone: `penalize(retry_after)` writes a "blocked until" row for the
connection (in the same place as the bucket), and every `acquire()` waits for it before taking a token.
The holds and the limiter's files and pools are in `ats.budget_stores`.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any, Self

from pyrate_limiter import InMemoryBucket, Limiter, PostgresBucket, Rate, SQLiteBucket
from sqlalchemy import Engine

from ats.budget_stores import (
    TABLE_PREFIX,
    FileLock,
    Holds,
    LimiterPool,
    MemoryHolds,
    PostgresHolds,
    SQLiteHolds,
    sqlite_path_of,
    tune_sqlite,
)
from ats.registry import ADAPTERS
from ats.spec import VendorLimit
from core.vocabulary import Vendor

log = logging.getLogger(__name__)


#: Widen each window a little to absorb clock and network jitter between our clock and the vendor's.
WINDOW_MARGIN = 0.05


class Backend(StrEnum):
    """Where the budgets keep their state."""

    AUTO = "auto"  # PostgreSQL or SQLite, following the app's database
    POSTGRES = "postgres"
    SQLITE = "sqlite"
    MEMORY = "memory"


def connection_key(connection_id: int) -> str:
    """Return the budget key of an ATS connection (also the name of its bucket table)."""
    return f"ats_connection_{int(connection_id)}"


def parse_limits(overrides: Mapping[str, str]) -> dict[Vendor, VendorLimit]:
    """Return the specs' limits with `overrides` ({"lever": "8/1"}: 8 requests per 1 s) applied.

    Raises:
        ValueError: naming the vendor or value that cannot be read.
    """
    limits = default_limits()
    for name, value in overrides.items():
        try:
            vendor = Vendor(name.strip().lower())
        except ValueError:
            raise ValueError(f"unknown vendor {name!r}") from None
        limits[vendor] = parse_rate(value, name=name)
    return limits


def parse_rate(value: str, *, name: str) -> VendorLimit:
    """Return the budget `value` says: REQUESTS/SECONDS ("8/1"), or REQUESTS alone (per second).

    Raises:
        ValueError: naming `name` and the value.
    """
    count, sep, window = str(value).partition("/")
    try:
        limit = VendorLimit(limit=int(count), window=float(window) if sep else 1.0)
    except ValueError:
        limit = None
    if limit is None or limit.limit < 1 or limit.window <= 0:
        raise ValueError(f"{name} must be REQUESTS/SECONDS, e.g. 8/1, not {value!r}")
    return limit


def default_limits() -> dict[Vendor, VendorLimit]:
    """Return each vendor's budget as its spec declares it."""
    return {vendor: adapter.spec.rate_limit for vendor, adapter in ADAPTERS.items()}


class NullBudget:
    """A budget that never waits: one-off calls (a credential check) and tests that are not about pacing."""

    def acquire(self) -> None:
        """Return at once."""

    def penalize(self, retry_after: float) -> None:
        """Ignore the penalty; the HTTP layer still sleeps for `Retry-After` itself."""


class SharedRateBudget:
    """`ats.base.RateBudget` for one connection over a pyrate-limiter bucket and the shared holds.

    Args:
        key: the connection's budget key (`connection_key(id)`).
        limiter: a pyrate-limiter `Limiter` over this key's bucket.
        holds: where a 429's "blocked until" is shared.
        slice_seconds: how long one wait for a token lasts before the holds are read again, so a 429 seen
            elsewhere reaches a caller already waiting within this time.
        recheck_seconds: how long a hold read from the holds is trusted; a 429 seen by another process
            holds this one back at most this much later (its own 429s hold it back at once).
    """

    def __init__(
        self,
        key: str,
        limiter: Limiter,
        holds: Holds,
        *,
        slice_seconds: float = 1.0,
        recheck_seconds: float = 0.25,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.key = key
        self._limiter = limiter
        self._holds = holds
        self._slice = slice_seconds
        self._recheck = recheck_seconds
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._read_at = -math.inf
        self._held_until = -math.inf

    def _held(self) -> float:
        """Return the seconds left of the shared hold, reading the holds at most every `recheck_seconds`."""
        now = self._clock()
        with self._lock:
            if now - self._read_at >= self._recheck:
                self._held_until = max(self._held_until, now + self._holds.remaining(self.key))
                self._read_at = now
            return self._held_until - now

    def acquire(self) -> None:
        """Block until the connection's shared hold has passed and a token is free, then take it."""
        while True:
            held = self._held()
            if held > 0:
                self._sleep(min(held, self._slice))
                continue
            if self._limiter.try_acquire(self.key, blocking=True, timeout=self._slice):
                return

    def try_take(self, *, busy_seconds: float = 1.0) -> float:
        """Take a token without waiting for the budget: return 0.0, or the seconds until one is free (none
        was taken).

        A non-blocking acquire also fails while another thread or process merely holds the bucket's lock
        (every budget of a SQLite `.ratelimit` file shares one file lock), which is not an empty budget:
        only a bucket that says it must wait refuses at once; a busy one is waited for up to `busy_seconds`.
        """
        if self._limiter.try_acquire(self.key, blocking=False):
            return 0.0
        wait = self._waiting()
        if wait > 0:
            return wait
        # Busy, not empty: wait for the lock (and a token, should the budget run out meanwhile), bounded.
        if self._limiter.try_acquire(self.key, blocking=True, timeout=busy_seconds):
            return 0.0
        return max(self._waiting(), 0.001)

    def _waiting(self) -> float:
        """Return the seconds until the bucket has a token (0.0 when it has one now)."""
        factory = self._limiter.bucket_factory
        item = factory.wrap_item(self.key, 1)
        try:
            return max(0.0, float(factory.get(item).waiting(item)) / 1000)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - an estimate only: a whole window is always enough
            return max(rate.interval for rate in factory.get(item).rates) / 1000

    def penalize(self, retry_after: float) -> None:
        """Hold every user of this connection, in every process, for `retry_after` seconds."""
        seconds = max(0.0, float(retry_after))
        with self._lock:
            self._held_until = max(self._held_until, self._clock() + seconds)
        self._holds.extend(self.key, seconds)
        log.info("rate budget %s held for %.2fs after a 429", self.key, retry_after)

    def close(self) -> None:
        """Stop the limiter's leak thread (the database tables stay for the other processes)."""
        self._limiter.close()


class SharedBudgets:
    """Hand out one `SharedRateBudget` per ATS connection; build once per process and pass it down.

    Args:
        engine: the app's database engine (chooses the backend and holds the PostgreSQL tables).
        limits: requests per window per vendor (`parse_limits(settings.ats_rate_limits)`).
        backend: `auto` follows the database; `memory` when this process is the only caller.
        slice_seconds, recheck_seconds: see `SharedRateBudget`.
    """

    def __init__(
        self,
        engine: Engine | None,
        *,
        limits: Mapping[Vendor, VendorLimit] | None = None,
        backend: Backend | str = Backend.AUTO,
        slice_seconds: float = 1.0,
        recheck_seconds: float = 0.25,
    ) -> None:
        self._engine = engine
        self._limits = dict(limits or default_limits())
        self.backend = self._resolve(Backend(backend), engine)
        self._slice = slice_seconds
        self._recheck = recheck_seconds
        self._budgets: dict[tuple[str, str], SharedRateBudget] = {}
        self._files: list[FileLock] = []
        self._lock = threading.Lock()
        self._holds: Holds
        self._pool: LimiterPool | None = None
        if self.backend is Backend.POSTGRES:
            assert engine is not None
            self._holds = PostgresHolds(engine)
            self._pool = LimiterPool(engine)
        elif self.backend is Backend.SQLITE:
            self._holds = SQLiteHolds(self.sqlite_path)
        else:
            self._holds = MemoryHolds()

    @staticmethod
    def _resolve(backend: Backend, engine: Engine | None) -> Backend:
        if backend is not Backend.AUTO:
            if backend is not Backend.MEMORY and engine is None:
                raise ValueError(f"the {backend} rate budget backend needs the database engine")
            return backend
        if engine is None:
            return Backend.MEMORY
        if engine.dialect.name == "postgresql":
            return Backend.POSTGRES
        database = engine.url.database
        return Backend.SQLITE if database and database != ":memory:" else Backend.MEMORY

    @property
    def sqlite_path(self) -> str:
        """Return the limiter's SQLite file beside the app's database."""
        assert self._engine is not None
        return sqlite_path_of(self._engine)

    def limit_for(self, vendor: Vendor) -> VendorLimit:
        """Return the budget of `vendor`'s connections."""
        return self._limits[vendor]

    def for_connection(self, connection_id: int, vendor: Vendor) -> SharedRateBudget:
        """Return the budget of ATS connection `connection_id`, creating its bucket on first use."""
        return self.get(connection_key(connection_id), vendor)

    def get(self, key: str, vendor: Vendor) -> SharedRateBudget:
        """Return the budget for `key`, sized for `vendor` .

        Kept per vendor too: a workspace that switches ATS keeps its connection id (and its bucket, whose
        tokens still count), and the new vendor's limits must apply from its first request.
        """
        vendor = Vendor(vendor)
        return self.for_key(key, self._limits[vendor], variant=vendor.value)

    def for_key(self, key: str, limit: VendorLimit, *, variant: str = "") -> SharedRateBudget:
        """Return the budget for `key` with `limit` (anything with a request budget: ingest API tokens too).

        `key` names the bucket every process shares; `variant` tells budgets of one key apart in this
        process when the limit that applies to it changes (see `get`).
        """
        with self._lock:
            budget = self._budgets.get((key, variant))
            if budget is None:
                # pyrate-limiter sleeps its computed wait plus `buffer_ms`; a short buffer retries sooner
                # when the PostgreSQL bucket's table lock was merely busy (it fails fast with NOWAIT).
                limiter = Limiter(self._bucket(key, limit), buffer_ms=5)
                budget = self._budgets[(key, variant)] = SharedRateBudget(
                    key, limiter, self._holds, slice_seconds=self._slice, recheck_seconds=self._recheck
                )
            return budget

    def _bucket(self, key: str, limit: VendorLimit) -> Any:
        rates = [Rate(limit.limit, max(1, round(limit.window * (1 + WINDOW_MARGIN) * 1000)))]
        if self.backend is Backend.POSTGRES:
            assert self._pool is not None
            return PostgresBucket(self._pool, key, rates)
        if self.backend is Backend.SQLITE:
            bucket = SQLiteBucket.init_from_file(rates, table=TABLE_PREFIX + key, db_path=self.sqlite_path)
            tune_sqlite(bucket.conn)
            # Rebuilt with a lock every process on the file shares (init_from_file's needs `filelock`).
            lock = FileLock(self.sqlite_path + ".lock")
            self._files.append(lock)
            return SQLiteBucket(rates, bucket.conn, TABLE_PREFIX + key, lock=lock)
        return InMemoryBucket(rates)

    def close(self) -> None:
        """Stop every budget's background work and close the limiter's files."""
        with self._lock:
            for budget in self._budgets.values():
                budget.close()
            self._budgets.clear()
            for lock in self._files:
                lock.close()
            self._files.clear()
            if self._pool is not None:
                self._pool.dispose()
            if isinstance(self._holds, SQLiteHolds):
                self._holds.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
