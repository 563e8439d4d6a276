"""PostgreSQL connections the server closed are replaced at checkout, so the next unit of work succeeds.

The pool no longer pings before every checkout (`storage.db.ServerClosedCheck`): these tests terminate
every connection of a database of their own with `pg_terminate_backend`, as a restart of the server does,
and use the engine again at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import Engine, create_engine, text

from storage import migrate
from storage.db import make_engine, make_session_factory, unit_of_work
from storage.models import Workspace
from storage.repositories import ensure_workspace

POOL = 3


@pytest.fixture
def own_database(postgres_server) -> Iterator[tuple[Engine, Engine]]:
    """Return (the app's engine, an admin engine) on a new migrated database only this test uses."""
    url = postgres_server.new_database_url("scaleup_reconnect")
    engine = make_engine(url, pool_size=POOL)
    migrate.upgrade(engine)
    admin = create_engine(postgres_server.admin.url, isolation_level="AUTOCOMMIT")
    yield engine, admin
    engine.dispose()
    admin.dispose()


def backends(engine: Engine) -> set[int]:
    """Return the process ids of `POOL` connections held at once, so the pool holds that many after."""
    held = [engine.connect() for _ in range(POOL)]
    try:
        return {conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one() for conn in held}
    finally:
        for conn in held:
            conn.close()


def terminate_all(admin: Engine, database: str) -> int:
    """Terminate every connection to `database`, wait until their processes are gone; return how many."""
    with admin.connect() as conn:
        killed = conn.execute(
            text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :db"),
            {"db": database},
        ).scalar_one()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            left = conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE datname = :db"), {"db": database}
            ).scalar_one()
            if left == 0:
                return killed
            time.sleep(0.05)
    raise AssertionError(f"{database} still has connections 10 s after pg_terminate_backend")


def test_units_of_work_succeed_right_after_every_connection_was_terminated(
    own_database: tuple[Engine, Engine],
) -> None:
    engine, admin = own_database
    before = backends(engine)
    assert terminate_all(admin, engine.url.database or "") == POOL

    # The pool holds POOL dead connections: a writer and a reader in turn, then POOL units at once.
    with unit_of_work(make_session_factory(engine)) as session:
        ensure_workspace(session, "T1", "one")
    with unit_of_work(make_session_factory(engine, read_only=True)) as session:
        assert session.get(Workspace, "T1") is not None
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            with unit_of_work(make_session_factory(engine)) as session:
                ensure_workspace(session, f"T{n + 2}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(POOL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert backends(engine).isdisjoint(before)  # every dead connection was replaced


def test_a_read_only_unit_on_postgresql_opens_no_transaction(own_database: tuple[Engine, Engine]) -> None:
    """Read-only units run in autocommit (no BEGIN, no COMMIT); a writer on the same connection does not."""
    engine, _ = own_database
    with unit_of_work(make_session_factory(engine)) as session:
        ensure_workspace(session, "T1", "one")
    for _ in range(2):  # the pool hands the same connection to the reader, then the writer, then again
        with unit_of_work(make_session_factory(engine, read_only=True)) as session:
            assert session.get(Workspace, "T1").name == "one"
            status = session.connection().connection.dbapi_connection.info.transaction_status
            assert status == TransactionStatus.IDLE
        with unit_of_work(make_session_factory(engine)) as session:
            session.get(Workspace, "T1").name = "two"
            session.flush()
            status = session.connection().connection.dbapi_connection.info.transaction_status
            assert status == TransactionStatus.INTRANS
            session.rollback()
