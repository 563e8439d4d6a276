"""Engine and session factories, and the unit of work that commits."""

from __future__ import annotations

import select
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> Engine:
    """Create an engine for `url`, tuned for the app's concurrent use of SQLite or PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # Threads share the file: allow cross-thread use and wait on locks instead of failing at once.
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": SQLITE_WAIT_SECONDS}
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        turns = WriterTurns()
        event.listen(engine, "begin", turns.begin)
        event.listen(engine, "commit", turns.commit)
        event.listen(engine, "rollback", turns.rollback)
        for pool_event in ("checkin", "invalidate", "close"):
            event.listen(engine.pool, pool_event, turns.release_if_held)
        return engine
    engine = create_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size)
    event.listen(engine.pool, "checkout", ServerClosedCheck(engine.dialect.do_ping))
    return engine


class ServerClosedCheck:
    """Hands out a pooled PostgreSQL connection only if the server has not closed it, without a round trip.

    `pool_pre_ping` sent `SELECT 1` at every checkout, and a Slack request checks a connection out once
    per transaction (one to three before its acknowledgement): a round trip each, where the statements
    themselves take three to six (`devkit/bench/README.md`, acknowledgement latency). An idle
    connection in the pool has nothing to read unless the server spoke: when PostgreSQL stops or
    restarts, or a backend is terminated (`pg_terminate_backend`), it sends an error and closes the
    socket. So the socket is polled (a system call, no round trip) and only a connection with something
    to read pays for a real ping; a ping that fails raises DisconnectionError, on which the pool discards
    the connection and checks out a fresh one ("If you raise a DisconnectionError, the current connection
    will be disposed and a fresh connection retrieved",
    https://docs.sqlalchemy.org/en/21/core/events.html#sqlalchemy.events.PoolEvents.checkout).
    A connection that breaks silently (a network path dropped without a FIN) still fails its first
    statement; SQLAlchemy then invalidates the whole pool ("Disconnect Handling - Optimistic",
    https://docs.sqlalchemy.org/en/21/core/pooling.html#disconnect-handling-optimistic), so one unit
    of work fails rather than every pooled connection in turn.
    """

    def __init__(self, ping: Callable[[Any], object]) -> None:
        self._ping = ping

    def __call__(self, dbapi_connection: Any, _record: object, _proxy: object) -> None:
        """Raise DisconnectionError when the psycopg connection is closed or the server closed it."""
        if dbapi_connection.closed or dbapi_connection.broken:
            raise DisconnectionError("the connection was closed")
        if not _readable(dbapi_connection.pgconn.socket):
            return
        try:  # a notice or a changed server parameter may be what is waiting: ask before discarding
            self._ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("the server closed the connection") from exc


def _readable(fd: int) -> bool:
    """Return True when socket `fd` has something to read now (poll: select() cannot watch fd >= 1024)."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
        return bool(poller.poll(0))
    return bool(select.select([fd], [], [], 0)[0])


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # transactions begin as WriterTurns.begin says
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_WAIT_SECONDS * 1000)}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


#: Execution option of the engine behind read-only sessions (`make_session_factory(read_only=True)`).
READ_ONLY = "scaleup_read_only"
#: How long a SQLite writer waits for the write lock before "database is locked".
SQLITE_WAIT_SECONDS = 30.0
_TURN = "scaleup_writer_turn"
_QUERY_ONLY = "scaleup_query_only"


class WriterTurns:
    """Gives this process's SQLite writers the database's one write lock in turn, without polling.

    pysqlite defers BEGIN until the first write, so a transaction that reads then writes can fail with
    "database is locked" when another writer got in between (busy_timeout cannot help a lock upgrade).
    Every writing unit therefore takes the write lock at BEGIN (IMMEDIATE), and WAL keeps readers free.
    https://docs.sqlalchemy.org/en/21/dialects/sqlite.html#serializable-isolation-savepoints-transactional-ddl
    Writers that find the lock taken would wait in SQLite's busy handler, which sleeps in steps of up to
    100 ms and favours whoever arrives last: under load some writers waited seconds behind newcomers. The
    threads of one process queue on a Python lock instead (woken as soon as it is free); only writers of
    other processes (`scaleup worker` beside the server) still meet in the busy handler.

    A unit that only reads (`make_session_factory(read_only=True)`) must not queue at all (a modal being
    opened would wait for every writer): it begins deferred and takes no turn, and SQLite itself refuses it
    any write (query_only), so a write in a unit declared read-only fails at once, in tests, instead of
    racing in production. https://www.sqlite.org/pragma.html#pragma_query_only
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def begin(self, conn: Connection) -> None:
        """Start the transaction: deferred for readers; for writers, once it is their turn, IMMEDIATE."""
        read_only = bool(conn.get_execution_options().get(READ_ONLY))
        # The pragma stays set on the connection until changed, so it is sent only when this unit needs
        # the other setting than the connection's last unit: `conn.info` "is persistent for the lifespan
        # of the DBAPI connection itself, including across pool checkins and checkouts", and cleared when
        # it is replaced (https://docs.sqlalchemy.org/en/21/core/pooling.html#sqlalchemy.pool.PoolProxiedConnection.info).
        if conn.info.get(_QUERY_ONLY) is not read_only:
            conn.exec_driver_sql(f"PRAGMA query_only = {'ON' if read_only else 'OFF'}")
            conn.info[_QUERY_ONLY] = read_only
        if read_only:
            conn.exec_driver_sql("BEGIN")
            return
        if not self._lock.acquire(timeout=SQLITE_WAIT_SECONDS):
            raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise
        conn.info[_TURN] = True

    def commit(self, conn: Connection) -> None:
        """Commit now (SQLAlchemy's own commit that follows finds nothing to do), then pass the turn on."""
        self._end(conn, "commit")

    def rollback(self, conn: Connection) -> None:
        """Roll back now, then pass the turn on (a broken connection's went with it: `release_if_held`)."""
        self._end(conn, "rollback")

    def _end(self, conn: Connection, how: str) -> None:
        # The events fire before SQLAlchemy ends the transaction; the turn may pass only once it has ended.
        if not conn.invalidated and conn.info.pop(_TURN, False):
            try:
                getattr(conn.connection.dbapi_connection, how)()
            finally:
                self._lock.release()

    def release_if_held(self, _dbapi_connection: object, record: Any, *_: object) -> None:
        """Pass the turn on when a connection went back to the pool, broke or closed mid-transaction."""
        if record is not None and record.info.pop(_TURN, False):
            self._lock.release()


def make_session_factory(engine: Engine, *, read_only: bool = False) -> sessionmaker[Session]:
    """Return the session factory units of work open their sessions from.

    Args:
        read_only: for units that only read (opening a modal, answering options). On SQLite they never
            wait for the write lock and may not write. On PostgreSQL, whose readers never wait, they run
            in autocommit: psycopg sends no BEGIN before their first statement and no COMMIT after
            their last (two round trips of each unit, https://www.psycopg.org/psycopg3/docs/basic/transactions.html),
            and each statement reads what was committed before it started, as it already did at the
            default READ COMMITTED level
            (https://www.postgresql.org/docs/current/transaction-iso.html#XACT-READ-COMMITTED). A write
            there would commit at once instead of with the unit: SQLite's `query_only` refuses it, and
            every unit is tested on both databases.
    """
    if not read_only:
        return sessionmaker(engine, expire_on_commit=False)
    options: dict[str, Any] = {READ_ONLY: True}
    if is_postgres(engine):
        options["isolation_level"] = "AUTOCOMMIT"
    return sessionmaker(engine.execution_options(**options), expire_on_commit=False)


@contextmanager
def unit_of_work(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """Open a session, commit it when the block succeeds and roll it back when it raises."""
    session = sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def is_postgres(engine: Engine) -> bool:
    """Return True when `engine` talks to PostgreSQL."""
    return engine.dialect.name == "postgresql"
