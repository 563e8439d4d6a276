"""Units of work: read-only ones never queue behind SQLite's writer, and cannot write there."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from storage.db import make_engine, make_session_factory, unit_of_work
from storage.models import Workspace
from storage.repositories import ensure_workspace


def test_a_read_only_unit_reads_while_a_writer_holds_the_write_lock(
    sessions: sessionmaker[Session], db_engine: Engine
) -> None:
    with unit_of_work(sessions) as session:
        ensure_workspace(session, "T1", "one")
    reading = make_session_factory(db_engine, read_only=True)
    with unit_of_work(sessions) as writer:
        writer.get(Workspace, "T1").name = "renamed"
        writer.flush()  # on SQLite this transaction holds the one write lock until it commits
        with unit_of_work(reading) as reader:
            assert reader.get(Workspace, "T1").name == "one"  # at once, and what was committed
    with unit_of_work(reading) as reader:
        assert reader.get(Workspace, "T1").name == "renamed"


def test_sqlite_refuses_writes_in_a_read_only_unit_and_the_connection_writes_again_after(
    sessions: sessionmaker[Session], db_engine: Engine
) -> None:
    if db_engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL readers never wait for writers; read-only sessions are ordinary there")
    reading = make_session_factory(db_engine, read_only=True)
    with pytest.raises(OperationalError, match="readonly"), unit_of_work(reading) as session:
        ensure_workspace(session, "T2")
    with unit_of_work(sessions) as session:  # the pooled connection is a writer's again
        ensure_workspace(session, "T2")
    with unit_of_work(reading) as session:
        assert session.get(Workspace, "T2") is not None


def test_sqlite_sets_query_only_only_when_a_connection_changes_between_reading_and_writing(
    sessions: sessionmaker[Session], db_engine: Engine
) -> None:
    if db_engine.dialect.name != "sqlite":
        pytest.skip("query_only is SQLite's")
    engine = make_engine(db_engine.url.render_as_string(hide_password=False))  # one connection, used in turn
    writing, reading = make_session_factory(engine), make_session_factory(engine, read_only=True)
    pragmas: list[str] = []
    event.listen(
        engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_: pragmas.append(statement) if "query_only" in statement else None,
    )
    try:
        for factory in (reading, reading, writing, writing, reading):
            with unit_of_work(factory) as session:
                session.get(Workspace, "T3")
        assert pragmas == ["PRAGMA query_only = ON", "PRAGMA query_only = OFF", "PRAGMA query_only = ON"]
        with pytest.raises(OperationalError, match="readonly"), unit_of_work(reading) as session:
            ensure_workspace(session, "T3")  # still refused, with no pragma sent
        with unit_of_work(writing) as session:
            ensure_workspace(session, "T3")
        with unit_of_work(reading) as session:
            assert session.get(Workspace, "T3") is not None
    finally:
        engine.dispose()


def test_every_way_a_sqlite_writer_ends_passes_the_turn_on(db_engine: Engine) -> None:
    if db_engine.dialect.name != "sqlite":
        pytest.skip("the writers' turns are SQLite's (PostgreSQL has row locks)")
    sessions = make_session_factory(db_engine)
    # Each of these ends a writing transaction differently; a turn left held would make the next writer
    # wait SQLITE_WAIT_SECONDS and fail, so the test would not pass at all.
    with pytest.raises(RuntimeError), unit_of_work(sessions) as session:
        ensure_workspace(session, "T3")
        raise RuntimeError("the unit of work rolls back")
    with db_engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")  # closed without commit or rollback
    with db_engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
        conn.invalidate()  # a broken connection
        conn.rollback()
    with unit_of_work(sessions) as session:
        ensure_workspace(session, "T3")
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(10):
                with unit_of_work(sessions) as session:
                    ensure_workspace(session, f"T{n}-{i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with unit_of_work(make_session_factory(db_engine, read_only=True)) as session:
        assert session.query(Workspace).count() == 1 + 8 * 10
