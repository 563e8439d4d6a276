"""One request budget per ATS connection, shared by every thread, worker and process that calls it.

Each budget implements `ats.base.RateBudget` on pyrate-limiter (a maintained limiter, not one of our own),
with the bucket chosen by where the app keeps its data:

- PostgreSQL: pyrate-limiter's `PostgresBucket`, one table per connection (`ratelimit___ats_connection_<id>`)
  in the app's database, checked and filled under a table lock and timed by the database clock, so any
  number of workers on any number of hosts together stay under the vendor's limit.
- SQLite: pyrate-limiter's `SQLiteBucket` in a file beside the database (`<db>.ratelimit`), so the one
  worker and the Slack server share it without ever waiting on the app's write lock.
- memory: pyrate-limiter's `InMemoryBucket`, when the process is the only one calling the ATS.

A 429 seen by anyone must slow everyone: `penalize(retry_after)` writes a "blocked until" row for the
connection (in the same place as the bucket), and every `acquire()` waits for it before taking a token.
The rows and bucket tables are the limiter's working state, created on first use and kept out of the
app's Alembic schema (they hold nothing worth migrating).
"""

from __future__ import annotations

import fcntl
import logging
import math
import os
import sqlite3
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from typing import Any, Protocol, Self

from pyrate_limiter import InMemoryBucket, Limiter, PostgresBucket, Rate, SQLiteBucket
from sqlalchemy import Engine, create_engine, text

from ats.base import RateBudget
from ats.ratelimit import VENDOR_LIMITS, VendorLimit
from ats.types import Vendor

log = logging.getLogger(__name__)

#: Prefix of every table the limiter owns (pyrate-limiter names its PostgreSQL tables `ratelimit___<t>`).
TABLE_PREFIX = "ratelimit___"
HOLD_TABLE = TABLE_PREFIX + "hold"
#: Like `ats.ratelimit.SlidingWindowBudget`: widen each window a little to absorb clock and network jitter.
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
    """Return `VENDOR_LIMITS` with `overrides` ({"lever": "8/1"}: 8 requests per 1 s) applied.

    Raises:
        ValueError: naming the vendor or value that cannot be read.
    """
    limits = dict(VENDOR_LIMITS)
    for name, value in overrides.items():
        try:
            vendor = Vendor(name.strip().lower())
        except ValueError:
            raise ValueError(f"unknown vendor {name!r}") from None
        count, sep, window = str(value).partition("/")
        try:
            limit = VendorLimit(limit=int(count), window=float(window) if sep else 1.0)
        except ValueError:
            limit = None
        if limit is None or limit.limit < 1 or limit.window <= 0:
            raise ValueError(
                f"{name} must be REQUESTS/SECONDS, e.g. 8/1, not {value!r}"
            )
        limits[vendor] = limit
    return limits


def sqlite_path_of(engine: Engine) -> str:
    """Return the limiter's SQLite file beside `engine`'s database file."""
    return f"{engine.url.database}.ratelimit"


def forget_spent_budgets(engine: Engine) -> None:
    """Empty the tokens taken and the 429 holds of every budget kept for `engine`'s database.

    Budgets are keyed by connection id, and SQLite hands out the id of a deleted newest row again: whoever
    deletes the app's rows but keeps the database (the test rig between tests) must empty these too, or the
    next connection under a recycled id starts with an old connection's spent window and holds. The tables
    stay, as budgets still open keep using them; an in-memory database has no shared budgets to forget.
    """
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(
                text(
                    "DO $$ DECLARE t text; BEGIN "
                    "FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                    f"AND starts_with(tablename, '{TABLE_PREFIX}') LOOP "
                    "EXECUTE format('DELETE FROM %I', t); END LOOP; END $$"
                )
            )
        return
    database = engine.url.database
    if not database or database == ":memory:" or not os.path.exists(sqlite_path_of(engine)):
        return
    conn = sqlite3.connect(sqlite_path_of(engine), isolation_level=None, timeout=30)
    try:
        tables = [
            name
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if name.startswith(TABLE_PREFIX)
        ]
        for name in tables:
            conn.execute(f'DELETE FROM "{name}"')
    finally:
        conn.close()


class Holds(Protocol):
    """The shared "blocked until" time per budget key."""

    def remaining(self, key: str) -> float:
        """Return the seconds until `key` may send again (0 when it is not held)."""
        ...

    def extend(self, key: str, seconds: float) -> None:
        """Hold `key` for `seconds` from now, unless it is already held longer."""
        ...


class MemoryHolds:
    """Holds of one process."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def remaining(self, key: str) -> float:
        """Return the seconds until `key` may send again."""
        with self._lock:
            return max(0.0, self._until.get(key, 0.0) - self._clock())

    def extend(self, key: str, seconds: float) -> None:
        """Hold `key` for `seconds` from now, unless already held longer."""
        with self._lock:
            self._until[key] = max(self._until.get(key, 0.0), self._clock() + seconds)


class PostgresHolds:
    """Holds in a table of the app's PostgreSQL database, timed by the database clock (hosts may differ)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        with engine.begin() as conn:
            # Concurrent CREATE TABLE IF NOT EXISTS can still collide in pg_type; serialise it like pyrate does.
            conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": zlib.crc32(HOLD_TABLE.encode())})
            conn.execute(
                text(
                    f"CREATE TABLE IF NOT EXISTS {HOLD_TABLE} "
                    "(key VARCHAR(128) PRIMARY KEY, blocked_until DOUBLE PRECISION NOT NULL)"
                )
            )

    def remaining(self, key: str) -> float:
        """Return the seconds until `key` may send again."""
        with self._engine.connect() as conn:
            value = conn.execute(
                text(
                    f"SELECT blocked_until - extract(epoch FROM clock_timestamp()) FROM {HOLD_TABLE} "
                    "WHERE key = :key"
                ),
                {"key": key},
            ).scalar()
        return max(0.0, float(value)) if value is not None else 0.0

    def extend(self, key: str, seconds: float) -> None:
        """Hold `key` for `seconds` from now, unless already held longer."""
        with self._engine.begin() as conn:
            conn.execute(
                text(
                    f"INSERT INTO {HOLD_TABLE} (key, blocked_until) "
                    "VALUES (:key, extract(epoch FROM clock_timestamp()) + :seconds) "
                    "ON CONFLICT (key) DO UPDATE "
                    f"SET blocked_until = GREATEST({HOLD_TABLE}.blocked_until, EXCLUDED.blocked_until)"
                ),
                {"key": key, "seconds": float(seconds)},
            )


def _tune_sqlite(conn: sqlite3.Connection) -> None:
    """Use WAL without a sync per commit: a token is taken per ATS request, and a lost token is harmless."""
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=30000")


class SQLiteHolds:
    """Holds in the limiter's SQLite file (one host, so the local clock is shared)."""

    def __init__(self, path: str, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        _tune_sqlite(self._conn)
        self._lock = threading.Lock()
        with self._lock:
            self._conn.execute(
                f"CREATE TABLE IF NOT EXISTS {HOLD_TABLE} (key TEXT PRIMARY KEY, blocked_until REAL NOT NULL)"
            )

    def remaining(self, key: str) -> float:
        """Return the seconds until `key` may send again."""
        with self._lock:
            row = self._conn.execute(
                f"SELECT blocked_until FROM {HOLD_TABLE} WHERE key = ?", (key,)
            ).fetchone()
        return max(0.0, row[0] - self._clock()) if row else 0.0

    def extend(self, key: str, seconds: float) -> None:
        """Hold `key` for `seconds` from now, unless already held longer."""
        with self._lock:
            self._conn.execute(
                f"INSERT INTO {HOLD_TABLE} (key, blocked_until) VALUES (?, ?) ON CONFLICT (key) DO UPDATE "
                "SET blocked_until = max(blocked_until, excluded.blocked_until)",
                (key, self._clock() + seconds),
            )

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._conn.close()


class _LimiterPool:
    """The slice of psycopg_pool's `ConnectionPool` that pyrate-limiter's PostgreSQL bucket and clock use.

    One per process, shared by every connection's bucket: a small SQLAlchemy pool of its own, tuned for a
    token taken before every ATS request: no ping on checkout (a dead connection is dropped when it fails
    instead), and commits that do not wait for the WAL flush (a token lost in a crash costs nothing). A
    block commits when it ends and rolls back when it raises, as `pool.connection()` does.
    """

    closed = False

    def __init__(self, engine: Engine) -> None:
        self._engine = create_engine(
            engine.url,
            pool_size=2,
            max_overflow=8,
            pool_pre_ping=False,
            connect_args={"options": "-c synchronous_commit=off"},
        )

    @contextmanager
    def connection(self) -> Iterator[Any]:
        raw = self._engine.raw_connection()
        conn = raw.driver_connection
        try:
            yield conn
            conn.commit()
        except BaseException:
            if conn.closed:  # broken: the server went away, so never hand this connection out again
                raw.invalidate()
            else:
                conn.rollback()
            raise
        finally:
            raw.close()

    def close(self) -> None:
        """Do nothing when one bucket closes: the pool is shared by every bucket (see `dispose`)."""

    def dispose(self) -> None:
        """Close the limiter's connections."""
        self._engine.dispose()


class _FileLock:
    """A re-entrant lock held across threads and processes (flock on a file beside the limiter's database).

    pyrate-limiter's SQLite bucket takes such a lock so that counting the window and adding an item is
    atomic for every process on the file; it suggests the `filelock` package, whose locks are per thread,
    while the limiter re-enters its lock from one thread and must exclude the others.
    """

    def __init__(self, path: str, *, poll: float = 0.002) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._local = threading.RLock()
        self._depth = 0
        self._poll = poll

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        deadline = None if timeout is None or timeout < 0 else time.monotonic() + timeout
        if not (self._local.acquire(blocking, -1 if deadline is None else max(0.0, timeout))):
            return False
        if self._depth == 0:
            while True:
                try:
                    fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if not blocking or (deadline is not None and time.monotonic() >= deadline):
                        self._local.release()
                        return False
                    time.sleep(self._poll)
        self._depth += 1
        return True

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._local.release()

    def close(self) -> None:
        """Close the lock file."""
        os.close(self._fd)

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


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
        self._limits = dict(limits or VENDOR_LIMITS)
        self.backend = self._resolve(Backend(backend), engine)
        self._slice = slice_seconds
        self._recheck = recheck_seconds
        self._budgets: dict[tuple[str, Vendor], SharedRateBudget] = {}
        self._files: list[_FileLock] = []
        self._lock = threading.Lock()
        self._holds: Holds
        self._pool: _LimiterPool | None = None
        if self.backend is Backend.POSTGRES:
            assert engine is not None
            self._holds = PostgresHolds(engine)
            self._pool = _LimiterPool(engine)
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

    def for_connection(self, connection_id: int, vendor: Vendor) -> RateBudget:
        """Return the budget of ATS connection `connection_id`, creating its bucket on first use."""
        return self.get(connection_key(connection_id), vendor)

    def get(self, key: str, vendor: Vendor) -> SharedRateBudget:
        """Return the budget for `key`, sized for `vendor` (the `ats.ratelimit.BudgetRegistry` signature).

        Kept per vendor too: a workspace that switches ATS keeps its connection id (and its bucket, whose
        tokens still count), and the new vendor's limits must apply from its first request.
        """
        vendor = Vendor(vendor)
        with self._lock:
            budget = self._budgets.get((key, vendor))
            if budget is None:
                # pyrate-limiter sleeps its computed wait plus `buffer_ms`; a short buffer retries sooner
                # when the PostgreSQL bucket's table lock was merely busy (it fails fast with NOWAIT).
                limiter = Limiter(self._bucket(key, self._limits[vendor]), buffer_ms=5)
                budget = self._budgets[(key, vendor)] = SharedRateBudget(
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
            _tune_sqlite(bucket.conn)
            # Rebuilt with a lock every process on the file shares (init_from_file's needs `filelock`).
            lock = _FileLock(self.sqlite_path + ".lock")
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
