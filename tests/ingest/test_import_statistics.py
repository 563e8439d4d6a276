"""An import keeps the planner's statistics of the tables it grows current by itself (issue 22): on PostgreSQL,
with autovacuum off, only the import's own ANALYZEs can give the tables their row counts; SQLite gets its
`sqlite_stat1` rows, without which it read a workspace's addresses once per chunk of 500 candidates."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

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
