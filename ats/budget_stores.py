"""Where the shared rate budgets keep their state: the 429 holds, the SQLite file lock, the PostgreSQL pool.

The tables here are the limiter's working state, created on first use and kept out of the app's Alembic
schema (they hold nothing worth migrating). `ats.budgets` builds budgets on them.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, Self

from sqlalchemy import Engine, create_engine, text

#: Prefix of every table the limiter owns (pyrate-limiter names its PostgreSQL tables `ratelimit___<t>`).
TABLE_PREFIX = "ratelimit___"
HOLD_TABLE = TABLE_PREFIX + "hold"


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


def tune_sqlite(conn: sqlite3.Connection) -> None:
    """Use WAL without a sync per commit: a token is taken per ATS request, and a lost token is harmless."""
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=30000")


class SQLiteHolds:
    """Holds in the limiter's SQLite file (one host, so the local clock is shared)."""

    def __init__(self, path: str, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        tune_sqlite(self._conn)
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


class LimiterPool:
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


class FileLock:
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
