"""What every benchmark shares: throw-away databases, a connected workspace, bulk seeding and reporting.

Benchmarks build everything they use here and tear it down after (SQLite files in a temporary directory,
PostgreSQL databases created on the server at `BENCH_POSTGRES_URL` and dropped with `WITH (FORCE)`).
Nothing here imports from `tests/`.
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from core.vocabulary import Vendor
from devkit.ats.base import Emulator
from devkit.ats.registry import create_emulator, load_seed
from devkit.slack.emulator import DEFAULT_TOKEN
from storage import migrate
from storage.crypto import SecretBox
from storage.db import make_engine, make_session_factory, unit_of_work
from storage.enums import Audience, ExportAs, LinkMode
from storage.models import Link
from storage.repositories import ConnectionRepository, ensure_workspace

#: The PostgreSQL server benchmarks create their databases on (trust auth on loopback).
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
RESULTS = Path(__file__).parent / "results"
TEAM = "T0BENCH"

#: An open job of each exporting vendor's packaged seed, which benchmark links point at.
OPEN_JOBS: dict[Vendor, str] = {
    Vendor.GREENHOUSE: "4001",
    Vendor.LEVER: "a1b2c3d4-0000-4000-8000-000000000001",
    Vendor.ASHBY: "fe44a7d3-3d51-5f03-9423-c02b9707a62b",
    Vendor.WORKABLE: "A1B2C3D4E5",
}

#: The kind of created record that is "a person in the ATS" (`Emulator.created`).
RECORD_KIND: dict[Vendor, str] = {
    Vendor.GREENHOUSE: "candidate",
    Vendor.LEVER: "opportunity",
    Vendor.ASHBY: "candidate",
    Vendor.WORKABLE: "candidate",
}


def machine() -> dict[str, Any]:
    """Return what the figures depend on: cores, memory, Python, platform and the UTC date."""
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        # Other processes on the machine slow every figure down; the load says how busy it was.
        "load": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


def describe_machine() -> str:
    """Return the machine as one line."""
    m = machine()
    return (
        f"{m['nproc']} cores, {m['memory_gb']} GB, Python {m['python']}, {m['platform']}, {m['date']}, "
        f"load average {m['load']}"
    )


def save_results(name: str, data: Mapping[str, Any]) -> Path:
    """Write a run's figures to bench/results/<name>-<time>.json (git-ignored) and return the path."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps({"machine": machine(), **data}, indent=2, default=str))
    return path


def percentile(values: Sequence[float], pct: float) -> float:
    """Return the `pct` percentile (nearest rank) of `values`."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median(values: Sequence[float]) -> float:
    """Return the median of `values`."""
    return statistics.median(values) if values else float("nan")


def say(*parts: object) -> None:
    """Print a line at once (benchmarks run for minutes; show progress)."""
    print(*parts, flush=True)


# --- databases -----------------------------------------------------------------------------------------


def postgres_available() -> bool:
    """Return True when the benchmark PostgreSQL server answers."""
    try:
        engine = create_engine(POSTGRES_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not there"
        return False


@contextmanager
def temp_database(kind: str, prefix: str = "bench") -> Iterator[str]:
    """Yield the URL of a new, empty database of `kind` ("sqlite" or "postgresql"); drop it afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix=f"{prefix}-") as folder:
            yield f"sqlite:///{folder}/scaleup.db"
        return
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def migrated(url: str, *, pool_size: int = 10) -> tuple[Engine, sessionmaker[Session]]:
    """Return an engine and session factory on `url`, upgraded to the newest schema."""
    engine = make_engine(url, pool_size=pool_size)
    migrate.upgrade(engine)
    return engine, make_session_factory(engine)


# --- emulators and the workspace -----------------------------------------------------------------------


def start_emulator(vendor: Vendor, **kwargs: Any) -> Emulator:
    """Start `vendor`'s emulator with its packaged seed; kwargs go to `Emulator.__init__`."""
    seed = load_seed(vendor)
    return create_emulator(vendor, seed=seed, **kwargs).start()


def connect_workspace(
    sessions: sessionmaker[Session], box: SecretBox, emulator: Emulator, team_id: str = TEAM
) -> int:
    """Create the workspace and its ATS connection pointing at `emulator`; return the connection id."""
    config = emulator.connection_config()
    with unit_of_work(sessions) as session:
        ensure_workspace(session, team_id, "Benchmarks")
        connection = ConnectionRepository(session, team_id).save(
            box,
            vendor=emulator.vendor,
            secrets=config.secrets,
            fields=config.fields,
            base_url=config.base_url,
        )
        return connection.id


def count_429s(emulator: Emulator) -> list[int]:
    """Count the requests the emulator refuses with 429 from now on; return the live one-item counter."""
    counter = [0]
    check = emulator.limiter.check

    def counting_check():
        result = check()
        if result is not None and not result.allowed:
            counter[0] += 1
        return result

    emulator.limiter.check = counting_check  # type: ignore[method-assign]
    return counter


def busiest_window(times: Sequence[float], window: float) -> int:
    """Return the most requests any sliding `window` seconds held (an upper bound of any fixed window)."""
    ordered = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(ordered):
        while at - ordered[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def app_environment(
    url: str, key: str, *, slack_api_url: str | None = None, signing_secret: str | None = None, **extra: str
) -> dict[str, str]:
    """Return the environment of a `scaleup` child process: this one plus the app's settings, and Slack's
    (the Web API stand-in at `slack_api_url`, a signing secret) when it serves Slack."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SCALEUP_SECRET_KEY": key,
        "SCALEUP_ATS_PRIVATE_URLS": "1",  # the ATS emulators listen on loopback
        "LOG_LEVEL": "warning",
    }
    if slack_api_url is not None:
        env |= {
            "SLACK_SIGNING_SECRET": signing_secret or secrets.token_hex(16),
            "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
            "SLACK_API_URL": slack_api_url,
        }
    return env | extra


def python() -> str:
    """Return the interpreter running the benchmarks (the project's venv when run from it)."""
    return sys.executable


def wait_until(at: float) -> None:
    """Sleep until the wall clock reaches `at`."""
    delay = at - time.time()
    if delay > 0:
        time.sleep(delay)


# --- bulk seeding --------------------------------------------------------------------------------------


def insert_rows(engine: Engine, table: str, columns: Sequence[str], rows: Iterator[Sequence[Any]]) -> int:
    """Insert `rows` into `table` fast: COPY on PostgreSQL, batched executemany on SQLite; return the count.

    Values must be complete (no defaults are applied): ids, timestamps and flags included.
    """
    count = 0
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            cursor = raw.driver_connection.cursor()
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            raw.driver_connection.commit()
        finally:
            raw.close()
        return count
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    raw = engine.raw_connection()
    try:
        cursor = raw.driver_connection.cursor()
        # A big page cache keeps the indexes' B-trees in memory while millions of rows go in.
        cursor.execute("PRAGMA cache_size=-262144")
        cursor.execute("BEGIN")
        batch: list[Sequence[Any]] = []
        for row in rows:
            batch.append(tuple(_sqlite_value(v) for v in row))
            if len(batch) >= 10_000:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch.clear()
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
        cursor.execute("COMMIT")
    finally:
        raw.close()
    return count


def _sqlite_value(value: Any) -> Any:
    # The app stores UTC datetimes as ISO text through its UTCDateTime type; match what it writes.
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def fix_sequences(engine: Engine, tables: Sequence[str]) -> None:
    """Move PostgreSQL id sequences past ids inserted explicitly, so the app's own inserts do not collide."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        for table in tables:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
                )
            )


def next_id(engine: Engine, table: str) -> int:
    """Return one more than the largest id of `table`."""
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT COALESCE(max(id), 0) FROM {table}")).scalar_one()) + 1


def seed_candidates(
    engine: Engine,
    team_id: str,
    search_of: Sequence[int],
    *,
    email: str = "person{i}@bench.example.org",
    start: int | None = None,
) -> list[int]:
    """Bulk-insert one candidate per item of `search_of` (its search id), each with one valid primary email.

    Returns:
        The new candidate ids, in order.
    """
    first = start if start is not None else next_id(engine, "candidate")
    now = datetime.now(UTC)
    ids = list(range(first, first + len(search_of)))
    insert_rows(
        engine,
        "candidate",
        ("id", "team_id", "source_id", "first_name", "last_name", "created_at", "updated_at"),
        ((cid, team_id, f"src-{cid}", "Bench", f"Person {cid}", now, now) for cid in ids),
    )
    email_start = next_id(engine, "candidate_email")
    insert_rows(
        engine,
        "candidate_email",
        ("id", "team_id", "candidate_id", "address", "type", "valid", "created_at", "updated_at"),
        (
            (email_start + n, team_id, cid, email.format(i=cid), "primary", True, now, now)
            for n, cid in enumerate(ids)
        ),
    )
    member_start = next_id(engine, "search_candidate")
    insert_rows(
        engine,
        "search_candidate",
        ("id", "team_id", "search_id", "candidate_id", "added_at"),
        ((member_start + n, team_id, sid, cid, now) for n, (cid, sid) in enumerate(zip(ids, search_of))),
    )
    fix_sequences(engine, ("candidate", "candidate_email", "search_candidate"))
    return ids


def wipe(engine: Engine) -> None:
    """Empty every table of the app and drop the rate limiter's working tables, so a database can be reused.

    Ids restart too, so the limiter's state (keyed by connection id) must go with the rows: its PostgreSQL
    tables are dropped here and its SQLite files beside the database are deleted.
    """
    from storage.base import Base

    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(
                text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
            )
            limiter = conn.execute(
                text("SELECT tablename FROM pg_tables WHERE tablename LIKE 'ratelimit\\_\\_\\_%'")
            ).scalars()
            for name in list(limiter):
                conn.execute(text(f'DROP TABLE IF EXISTS "{name}"'))
        return
    with engine.begin() as conn:
        for table in tables:
            conn.execute(text(f'DELETE FROM "{table}"'))
        conn.execute(text("DELETE FROM sqlite_sequence")) if _has_sqlite_sequence(conn) else None
    database = engine.url.database or ""
    for suffix in (".ratelimit", ".ratelimit-wal", ".ratelimit-shm", ".ratelimit.lock"):
        Path(database + suffix).unlink(missing_ok=True)


def _has_sqlite_sequence(conn: Any) -> bool:
    return bool(
        conn.execute(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'")).scalar()
    )


def bench_link(team_id: str, search_id: int, connection_id: int, job_id: str, **options: Any) -> Link:
    """Return an automatic link of the search to `job_id` exporting applicants (options override)."""
    values: dict[str, Any] = {
        "job_name": "Bench job",
        "export_as": ExportAs.APPLICANT,
        "mode": LinkMode.AUTOMATIC,
        "audience": Audience.ALL,
        "email_types": [],
        "include_ats_candidates": False,
    }
    return Link(
        team_id=team_id, search_id=search_id, connection_id=connection_id, job_id=job_id, **(values | options)
    )


def stop_process(proc: subprocess.Popen[Any] | None, timeout: float = 20.0) -> None:
    """Ask a child process to stop (SIGTERM), and kill it if it has not within `timeout` seconds."""
    if proc is None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
