"""An import keeps the planner's statistics of the tables it grows current by itself (issue 22): on PostgreSQL,
with autovacuum off, only the import's own ANALYZEs can give the tables their row counts; SQLite gets its
`sqlite_stat1` rows, without which it read a workspace's addresses once per chunk of 500 candidates."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from ingest.bulk_sql import BulkSql
from ingest.files import FileImport, import_candidates
from storage import migrate
from storage.db import make_engine, make_session_factory
from storage.statistics import IMPORT_TABLES


def estimated_rows(engine, table: str) -> float:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT reltuples FROM pg_class WHERE relname = :t"), {"t": table}
        ).scalar_one()


def test_an_import_analyzes_the_tables_it_grows(postgres_server, tmp_path: Path) -> None:
    engine = make_engine(postgres_server.new_database_url("scaleup_stats"))
    try:
        migrate.upgrade(engine)
        with engine.begin() as conn:
            for table in IMPORT_TABLES:  # nobody else analyzes them behind the test's back
                conn.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
        path = tmp_path / "people.csv"
        rows = [f"s-{n},Person{n},Bulk,p{n}@example.com" for n in range(2500)]
        path.write_text("source_id,first_name,last_name,email\n" + "\n".join(rows) + "\n")
        assert estimated_rows(engine, "candidate") <= 0, "a fresh table has no statistics"

        summary = import_candidates(
            FileImport(make_session_factory(engine), "T1", batch_size=500), path, "Stats"
        )

        assert summary.rows == 2500
        assert estimated_rows(engine, "candidate") >= 2000
        assert estimated_rows(engine, "candidate_email") >= 2000
        assert estimated_rows(engine, "search_candidate") >= 2000
    finally:
        engine.dispose()


def test_a_sqlite_import_gives_the_planner_its_statistics(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'stats.db'}")
    try:
        migrate.upgrade(engine)
        path = tmp_path / "people.csv"
        rows = [f"s-{n},Person{n},Bulk,p{n}@example.com" for n in range(1500)]
        path.write_text("source_id,first_name,last_name,email\n" + "\n".join(rows) + "\n")

        import_candidates(FileImport(make_session_factory(engine), "T1", batch_size=500), path, "Stats")

        ids = ",".join(str(n) for n in range(1, 21))
        query = f"SELECT address FROM candidate_email WHERE team_id = 'T1' AND candidate_id IN ({ids})"
        with engine.connect() as conn:
            analyzed = set(conn.execute(text("SELECT tbl FROM sqlite_stat1")).scalars())
            plan = " ".join(str(row) for row in conn.execute(text("EXPLAIN QUERY PLAN " + query)))
        assert {"candidate", "candidate_email", "search_candidate"} <= analyzed
        assert "candidate_id" in plan, (
            f"a chunk of candidates is read by candidate, not by scanning the workspace: {plan}"
        )
    finally:
        engine.dispose()


LOOKUPS = [  # what `ingest.matching` asks of a chunk: (columns, table, key, extra condition)
    ("id, source_id", "candidate", "source_id", " AND team_id = %s"),
    ("candidate_id", "candidate_email", "address", " AND team_id = %s"),
    ("id, source_id", "candidate", "linkedin_url", " AND team_id = %s"),
    ("id, candidate_id, address", "candidate_email", "candidate_id", ""),
]


def test_the_import_looks_candidates_up_by_index_whatever_the_statistics(postgres_server) -> None:
    """Statistics taken while the tables were empty say they still are: a chunk's 5,000 keys are still
    looked up one index search each, never by reading the whole table (issue 22)."""
    engine = make_engine(postgres_server.new_database_url("scaleup_plans"))
    try:
        migrate.upgrade(engine)
        with engine.begin() as conn:
            for table in IMPORT_TABLES:
                conn.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
            conn.execute(text("ANALYZE candidate, candidate_email"))  # empty now, and never again
            conn.execute(
                text("INSERT INTO workspace (team_id, created_at, updated_at) VALUES ('T1', now(), now())")
            )
            conn.execute(
                text(
                    "INSERT INTO candidate (team_id, source_id, first_name, last_name, linkedin_url, created_at, "
                    "updated_at) SELECT 'T1', 's-' || n, 'A', 'B', 'https://www.linkedin.com/in/p' || n, now(), "
                    "now() FROM generate_series(1, 60000) AS n"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO candidate_email (team_id, candidate_id, address, type, valid, created_at, "
                    "updated_at) SELECT 'T1', id, source_id || '@example.com', 'primary', true, now(), now() "
                    "FROM candidate"
                )
            )
        keys = {
            "source_id": [f"s-{n}" for n in range(0, 60000, 12)],
            "address": [f"s-{n}@example.com" for n in range(0, 60000, 12)],
            "linkedin_url": [f"https://www.linkedin.com/in/p{n}" for n in range(0, 60000, 12)],
            "candidate_id": list(range(1, 60000, 12)),
        }
        with make_session_factory(engine)() as session:
            sql = BulkSql(session)
            for columns, table, key, where in LOOKUPS:
                statement, values = sql.lookup_statement(columns, table, key, keys[key], where)
                params = (values, "T1") if where else (values,)
                plan = "\n".join(
                    r[0] for r in session.connection().exec_driver_sql("EXPLAIN " + statement, params)
                )
                assert f"Seq Scan on {table}" not in plan and "Index" in plan, plan
    finally:
        engine.dispose()
