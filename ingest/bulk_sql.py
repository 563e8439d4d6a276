"""Plain SQL on a unit of work's own connection, for the import's set-based reads and writes.

The bulk path reads and writes tens of thousands of rows per chunk, where the ORM's per-object work would
cost more than the database's. Statements run on the driver's own cursor of that connection (a driver
error is raised as SQLAlchemy's `IntegrityError` / `OperationalError`, as its statements raise them),
written with the driver's `%s` / `?` markers. A chunk's keys are passed as one parameter, read as a table
the look-up joins: a PostgreSQL array (`unnest`) or, on SQLite, a JSON array (`json_each`), which has no
limit on its length where a list of markers has (32,766).
https://www.postgresql.org/docs/15/functions-array.html  https://www.sqlite.org/json1.html#jeach
https://www.sqlite.org/limits.html#max_variable_number

Rows are inserted with PostgreSQL's COPY (psycopg 3's `cursor.copy`) and with `executemany` on SQLite, in
the unit of work's transaction. https://www.psycopg.org/psycopg3/docs/basic/copy.html
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session


class BulkSql:
    """The session's connection, spoken to in its own dialect."""

    def __init__(self, session: Session) -> None:
        session.flush()  # what the ORM holds pending goes first: the statements below read and follow it
        self.connection = session.connection()
        self.dialect = self.connection.dialect
        self.postgres = self.dialect.name == "postgresql"
        self._error = self.dialect.loaded_dbapi.Error

    def sql(self, statement: str) -> str:
        """Return `statement` (written with %s markers) with the driver's markers."""
        return statement if self.postgres else statement.replace("%s", "?")

    def lookup(
        self, columns: str, table: str, key: str, values: Collection[Any], where: str = "", *params: Any
    ) -> list[tuple[Any, ...]]:
        """Return `columns` of the rows of `table` whose `key` is one of `values` (and `where` holds)."""
        statement, keys = self.lookup_statement(columns, table, key, values, where)
        return self.rows(statement, keys, *params)

    def lookup_statement(
        self, columns: str, table: str, key: str, values: Collection[Any], where: str = ""
    ) -> tuple[str, Any]:
        """Return `lookup`'s query and its first parameter (the keys).

        One index search per value, whatever the statistics say: PostgreSQL plans `key = ANY(10,000
        values)` as a scan of the whole table once it holds a million rows (150 ms where the searches take
        25 ms), and a join with the values as a hash join; a LATERAL subquery fenced by OFFSET 0 can only
        be run once per value, by the index. SQLite searches the index for each value of an IN list.
        https://www.postgresql.org/docs/15/queries-table-expressions.html#QUERIES-LATERAL
        """
        if self.postgres:
            kind = "bigint" if all(isinstance(v, int) for v in values) else "text"
            statement = (
                f"SELECT t.* FROM unnest(%s::{kind}[]) AS k(v) CROSS JOIN LATERAL "
                f"(SELECT {columns} FROM {table} WHERE {key} = k.v{where} OFFSET 0) AS t"
            )
            return statement, list(values)
        statement = f"SELECT {columns} FROM {table} WHERE {key} IN (SELECT value FROM json_each(%s)){where}"
        return statement, json.dumps(list(values))

    def rows(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        """Run a query; return its rows."""
        with self._cursor(statement, params) as (cursor, sql):
            cursor.execute(sql, params)
            return cursor.fetchall()

    def run(self, statement: str, *params: Any) -> None:
        """Run one statement."""
        with self._cursor(statement, params) as (cursor, sql):
            cursor.execute(sql, params)

    def run_many(self, statement: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """Run a statement once per row (one executemany: pipelined by psycopg, a loop in C by sqlite3)."""
        if rows:
            with self._cursor(statement, None) as (cursor, sql):
                cursor.executemany(sql, rows)

    @contextmanager
    def _cursor(self, statement: str, params: Any) -> Iterator[tuple[Any, str]]:
        """Yield a cursor of the driver's own (its rows are plain tuples, at no cost per row) and the
        statement with the driver's markers; a driver error is raised as SQLAlchemy's, as it would."""
        sql = self.sql(statement)
        cursor = self.connection.connection.driver_connection.cursor()
        try:
            yield cursor, sql
        except self._error as exc:
            raise DBAPIError.instance(sql, params, exc, self._error) from exc
        finally:
            cursor.close()

    def stored(self, table: Table, column: str, value: Any) -> Any:
        """Return `value` as SQLAlchemy would bind it for `table.column` (timestamps, flags on SQLite)."""
        process = table.c[column].type.dialect_impl(self.dialect).bind_processor(self.dialect)
        return process(value) if process is not None else value

    def insert(self, table: Table, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
        """Insert `rows` (values in `columns` order, already as bound by `stored`) into `table`."""
        names = ", ".join(columns)
        if not self.postgres:
            batch = list(rows)
            markers = ", ".join("?" for _ in columns)
            self.run_many(f"INSERT INTO {table.name} ({names}) VALUES ({markers})", batch)
            return
        with (
            self._cursor(f"COPY {table.name} ({names}) FROM STDIN", None) as (cursor, sql),
            cursor.copy(sql) as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def new_ids(self, table: Table, count: int) -> list[int]:
        """Return `count` unused ids of `table`, ascending, which its own inserts would have used next."""
        if count == 0:
            return []
        if self.postgres:
            taken = self.rows(
                f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) FROM generate_series(1, %s)",
                count,
            )
            return sorted(value for (value,) in taken)
        # SQLite gives a new row the largest id plus one; this unit of work holds the write lock (BEGIN
        # IMMEDIATE, `storage.db.WriterTurns`), so nobody else can take them meanwhile.
        (largest,) = self.rows(f"SELECT COALESCE(max(id), 0) FROM {table.name}")[0]
        return list(range(largest + 1, largest + 1 + count))


#: SQLite page cache of an import's connection, in KiB. A 5,000-row chunk dirties tens of megabytes of index
#: pages once the tables hold a million rows; in SQLite's default 2 MB they spill to the WAL before the
#: commit and are read back (`import_speed`, 1M rows: 35–56 s with the default cache, 33–40 s with 32 or
#: 64 MB; peak memory 127 → 163 MB with 32 MB). Set by the file import on its own connections only.
#: https://www.sqlite.org/pragma.html#pragma_cache_size
IMPORT_CACHE_KIB = 32_768


def import_cache(session: Session) -> None:
    """Give the unit of work's SQLite connection the import's page cache (PostgreSQL: nothing to do)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}")  # negative: KiB, not pages
