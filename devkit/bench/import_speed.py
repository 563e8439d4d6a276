"""Import speed: `scaleup import candidates` of 100k and 1M rows on SQLite and PostgreSQL, first and again.

Each database kind gets a fresh database (a SQLite file; a PostgreSQL database created on
`BENCH_POSTGRES_URL` and dropped after). A generated CSV of N candidates (source id, names, email, LinkedIn
URL, title, company: the columns a sourcing tool exports) is imported by `scaleup import candidates` run
as its own process, as a user runs it, twice: into the empty database (every row created) and again
(every row unchanged). Its time is the command's wall clock, start-up included; its peak memory is the
kernel's high-water mark of that process (`os.wait4` → `ru_maxrss`).

The baseline, measured in the same run on the same database: the same file through the database's own
bulk path into a bare table (7 text columns, no index): PostgreSQL's `COPY … FROM STDIN (FORMAT csv)` fed
the file's bytes; SQLite's `executemany` of the rows `csv.reader` reads, 10,000 a statement, in one
transaction. That is the floor: no validation, no matching, no indexes.

    ratio = our rows/s ÷ the baseline's rows/s, the worst of (database × first, again) at the largest size

Also printed: rows/s against the issue's target (1M rows in 60 s: 17,000 rows/s) and each run's peak
memory against 250 MB (and its growth from the smallest size to the largest: flat is ≈ 1.0).

    python -m devkit.bench.import_speed [--quick] [--sizes 100000 1000000] [--database sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from devkit.bench import rig
from storage.crypto import generate_key
from storage.db import make_engine

TARGET_ROWS_PER_SECOND = 17_000  # 1M rows in 60 s (issue 22)
LIMIT_MB = 250.0
COLUMNS = ("source_id", "first_name", "last_name", "email", "linkedin_url", "title", "company")
#: Work domains the generated addresses spread over (files mix many companies' domains).
DOMAINS = 997
_SUMMARY = re.compile(r"(\d[\d,]*) created, (\d[\d,]*) updated, (\d[\d,]*) unchanged, (\d[\d,]*) bad")


@dataclass
class Run:
    """One measured load of the file: ours (first or again) or the baseline."""

    database: str
    size: int
    what: str  # "baseline", "floor", "first", "again"
    seconds: float = 0.0
    peak_mb: float = 0.0
    counts: tuple[int, int, int, int] | None = None  # created, updated, unchanged, bad
    exit_code: int = 0
    output: str = ""

    @property
    def rows_per_second(self) -> float:
        """Return the rows loaded per second."""
        return self.size / self.seconds if self.seconds else float("nan")

    def expected(self) -> bool:
        """Return True when the import did what it should: every row created, then every row unchanged."""
        if self.what in ("baseline", "floor"):
            return True
        want = (self.size, 0, 0, 0) if self.what == "first" else (0, 0, self.size, 0)
        return self.exit_code == 0 and self.counts == want


@dataclass
class Results:
    """Every run of the benchmark."""

    runs: list[Run] = field(default_factory=list)

    def find(self, database: str, size: int, what: str) -> Run | None:
        """Return the run of `what` for this database and size."""
        return next((r for r in self.runs if (r.database, r.size, r.what) == (database, size, what)), None)


def write_csv(path: Path, rows: int) -> None:
    """Write `rows` distinct candidates as a sourcing tool's CSV export."""
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(COLUMNS)
        for n in range(rows):
            out.writerow(
                (
                    f"src-{n}",
                    "Bench",
                    f"Person {n}",
                    f"person{n}@company{n % DOMAINS}.example.org",
                    f"https://www.linkedin.com/in/bench-person-{n}",
                    "Engineer",
                    f"Company {n % DOMAINS}",
                )
            )


def baseline(url: str, path: Path, size: int, kind: str) -> Run:
    """Load the file into a bare table through the database's bulk path; time it."""
    engine = make_engine(url)
    columns = ", ".join(f"{name} text" for name in COLUMNS)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE bench_bare ({columns})"))
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        started = time.perf_counter()
        if kind == "postgresql":
            statement = "COPY bench_bare FROM STDIN (FORMAT csv, HEADER true)"
            with driver.cursor() as cursor, path.open("rb") as source, cursor.copy(statement) as copy:
                while block := source.read(1 << 20):
                    copy.write(block)
            driver.commit()
        else:
            cursor = driver.cursor()
            insert = f"INSERT INTO bench_bare VALUES ({', '.join('?' for _ in COLUMNS)})"
            cursor.execute("BEGIN IMMEDIATE")
            with path.open(newline="") as source:
                reader = csv.reader(source)
                next(reader)
                batch: list[list[str]] = []
                for row in reader:
                    batch.append(row)
                    if len(batch) == 10_000:
                        cursor.executemany(insert, batch)
                        batch.clear()
                cursor.executemany(insert, batch)
            cursor.execute("COMMIT")
        seconds = time.perf_counter() - started
    finally:
        raw.close()
    with engine.begin() as conn:
        loaded = conn.execute(text("SELECT count(*) FROM bench_bare")).scalar_one()
        conn.execute(text("DROP TABLE bench_bare"))
    engine.dispose()
    run = Run(kind, size, "baseline", seconds=seconds)
    run.output = f"{loaded:,} rows in the bare table"
    return run


def schema_floor(path: Path, size: int, kind: str) -> Run:
    """Bulk-load the same rows straight into the tables the import fills, on a fresh database; time it.

    Each row becomes a candidate, its email and its membership of the search (ids given), through the same
    bulk path as the baseline, but into the app's tables with their indexes and foreign keys: what storing
    these rows costs this schema on this database before any reading, checking or matching.
    """
    with rig.temp_database(kind, "bench_floor") as url:
        engine, _ = rig.migrated(url)
        now = datetime.now(UTC)
        stamp: object = now if kind == "postgresql" else now.strftime("%Y-%m-%d %H:%M:%S.%f")
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO workspace (team_id, created_at, updated_at) VALUES (:t, :n, :n)"),
                {"t": rig.TEAM, "n": stamp},
            )
            conn.execute(
                text(
                    "INSERT INTO search (id, team_id, name, created_at, updated_at) VALUES (1, :t, 'S', :n, :n)"
                ),
                {"t": rig.TEAM, "n": stamp},
            )

        def rows(table: str):
            with path.open(newline="") as source:
                reader = csv.reader(source)
                next(reader)
                for n, (source_id, first, last, email, url_, title, company) in enumerate(reader, start=1):
                    if table == "candidate":
                        yield (n, rig.TEAM, source_id, first, last, url_, title, company, stamp, stamp)
                    elif table == "candidate_email":
                        yield (n, rig.TEAM, n, email, "primary", True, stamp, stamp)
                    else:
                        yield (n, rig.TEAM, 1, n, stamp)

        tables = {
            "candidate": "id, team_id, source_id, first_name, last_name, linkedin_url, title, company, "
            "created_at, updated_at",
            "candidate_email": "id, team_id, candidate_id, address, type, valid, created_at, updated_at",
            "search_candidate": "id, team_id, search_id, candidate_id, added_at",
        }
        raw = engine.raw_connection()
        try:
            driver = raw.driver_connection
            cursor = driver.cursor()
            started = time.perf_counter()
            if kind == "sqlite":
                cursor.execute("BEGIN IMMEDIATE")
            for table, columns in tables.items():
                if kind == "postgresql":
                    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                        for row in rows(table):
                            copy.write_row(row)
                    continue
                insert = (
                    f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' for _ in columns.split(','))})"
                )
                batch: list[tuple[object, ...]] = []
                for row in rows(table):
                    batch.append(row)
                    if len(batch) == 10_000:
                        cursor.executemany(insert, batch)
                        batch.clear()
                cursor.executemany(insert, batch)
            if kind == "sqlite":
                cursor.execute("COMMIT")
            else:
                driver.commit()
            seconds = time.perf_counter() - started
        finally:
            raw.close()
        engine.dispose()
    return Run(kind, size, "floor", seconds=seconds)


def import_once(url: str, path: Path, size: int, kind: str, what: str, key: str) -> Run:
    """Run `scaleup import candidates` on the file as its own process; time it and take its peak RSS."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SCALEUP_SECRET_KEY": key,  # set, as on an install: changed candidates go to the export engine
        "LOG_LEVEL": "warning",
    }
    argv = [rig.python(), "-m", "bot.cli", "import", "candidates", str(path)]
    argv += ["--team", rig.TEAM, "--search", "Imported", "--new-team"]
    run = Run(kind, size, what)
    with tempfile.TemporaryFile(mode="w+") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        run.seconds = time.perf_counter() - started
        proc.returncode = run.exit_code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        run.output = out.read()
    run.peak_mb = usage.ru_maxrss / 1024  # KiB on Linux
    found = _SUMMARY.search(run.output)
    if found:
        created, updated, unchanged, bad = (int(g.replace(",", "")) for g in found.groups())
        run.counts = (created, updated, unchanged, bad)
    return run


def measure(kind: str, size: int, path: Path, results: Results) -> None:
    """Measure the baseline, the first import and the import again of `size` rows on a fresh database."""
    key = generate_key()
    with rig.temp_database(kind, "bench_import") as url:
        engine, _ = rig.migrated(url)
        engine.dispose()
        base = baseline(url, path, size, kind)
        results.runs.append(base)
        rig.say(f"  {kind} {size:,}: baseline {base.seconds:.1f}s ({base.rows_per_second:,.0f} rows/s)")
        floor = schema_floor(path, size, kind)
        results.runs.append(floor)
        rig.say(f"  {kind} {size:,}: schema floor {floor.seconds:.1f}s ({floor.rows_per_second:,.0f} rows/s)")
        empty = path.with_name("empty.csv")
        empty.write_text(",".join(COLUMNS) + "\n")
        start = import_once(url, empty, 0, kind, "start-up", key)
        rig.say(
            f"  {kind}: the command on an empty file takes {start.seconds:.1f}s (start-up; counted below)"
        )
        for what in ("first", "again"):
            run = import_once(url, path, size, kind, what, key)
            results.runs.append(run)
            counts = "?" if run.counts is None else "/".join(f"{c:,}" for c in run.counts)
            rig.say(
                f"  {kind} {size:,}: import {what} {run.seconds:.1f}s ({run.rows_per_second:,.0f} rows/s), "
                f"peak {run.peak_mb:.0f} MB, created/updated/unchanged/bad {counts}, exit {run.exit_code}"
            )


def report(results: Results, kinds: list[str], sizes: list[int]) -> float:
    """Print the table and the target lines; return the headline ratio."""
    rig.say()
    rig.say(
        f"{'database':<11} {'rows':>10} {'run':<9} {'secs':>7} {'rows/s':>9} {'× base':>7} {'× floor':>8} "
        f"{'vs 17k':>7} {'peak MB':>8}"
    )
    for run in results.runs:
        base = results.find(run.database, run.size, "baseline")
        floor = results.find(run.database, run.size, "floor")
        share = run.rows_per_second / base.rows_per_second if base else float("nan")
        of_floor = run.rows_per_second / floor.rows_per_second if floor else float("nan")
        peak = f"{run.peak_mb:>8.0f}" if run.what in ("first", "again") else f"{'':>8}"
        rig.say(
            f"{run.database:<11} {run.size:>10,} {run.what:<9} {run.seconds:>7.1f} {run.rows_per_second:>9,.0f} "
            f"{share:>7.2f} {of_floor:>8.2f} {run.rows_per_second / TARGET_ROWS_PER_SECOND:>7.2f} {peak}"
        )
    largest = max(sizes)
    for kind in kinds:
        ours = [r for r in results.runs if r.database == kind and r.what in ("first", "again")]
        peaks = [r.peak_mb for r in ours]
        small = [r.peak_mb for r in ours if r.size == min(sizes)]
        if peaks and small:
            rig.say(
                f"{kind}: highest peak {max(peaks):.0f} MB (limit {LIMIT_MB:.0f}), × {max(peaks) / max(small):.2f} "
                f"from {min(sizes):,} to {largest:,} rows"
            )
    ratios: list[tuple[float, Run]] = []
    for kind in kinds:
        base = results.find(kind, largest, "baseline")
        for what in ("first", "again"):
            run = results.find(kind, largest, what)
            if base is not None and run is not None:
                ratios.append((run.rows_per_second / base.rows_per_second, run))
                met = "met" if run.rows_per_second >= TARGET_ROWS_PER_SECOND else "MISSED"
                rig.say(
                    f"target {TARGET_ROWS_PER_SECOND:,} rows/s: {kind} {what} {largest:,} rows "
                    f"{run.rows_per_second:,.0f} rows/s ({run.seconds:.1f}s) — {met}"
                )
    for run in results.runs:
        if not run.expected():
            rig.say(f"WRONG: {run.database} {run.size:,} {run.what}: {run.counts} exit {run.exit_code}")
            rig.say(run.output[-1500:])
        if run.peak_mb >= LIMIT_MB:
            rig.say(f"MISSED: {run.database} {run.size:,} {run.what} peaked at {run.peak_mb:.0f} MB")
    if not ratios:
        return float("nan")
    worst, run = min(ratios, key=lambda item: item[0])
    rig.say(
        f"ratio: {worst:.2f} (our rows/s ÷ the bulk baseline's, worst case: {run.database} {run.what} at "
        f"{run.size:,} rows, {run.rows_per_second:,.0f} rows/s)"
    )
    return worst


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures; the last line is the headline ratio."""
    parser = argparse.ArgumentParser(prog="devkit.bench.import_speed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2k and 20k rows instead of 100k and 1M")
    parser.add_argument("--sizes", type=int, nargs="+", help="rows per file (default 100k 1M)")
    parser.add_argument("--database", action="append", choices=["sqlite", "postgresql"])
    args = parser.parse_args(argv)
    sizes = sorted(args.sizes or ([2_000, 20_000] if args.quick else [100_000, 1_000_000]))
    kinds = args.database or ["sqlite", "postgresql"]
    if "postgresql" in kinds and not rig.postgres_available():
        rig.say(f"PostgreSQL at {rig.POSTGRES_URL} is unreachable: its runs are skipped")
        kinds = [k for k in kinds if k != "postgresql"]
    rig.say(f"import_speed — {rig.describe_machine()}")
    results = Results()
    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        for size in sizes:
            path = Path(folder) / f"candidates-{size}.csv"
            write_csv(path, size)
            for kind in kinds:
                measure(kind, size, path, results)
            path.unlink()
    ratio = report(results, kinds, sizes)
    rig.save_results(
        "import_speed",
        {
            "runs": [
                {
                    "database": r.database,
                    "size": r.size,
                    "run": r.what,
                    "seconds": r.seconds,
                    "rows_per_second": r.rows_per_second,
                    "peak_mb": r.peak_mb,
                    "counts": r.counts,
                }
                for r in results.runs
            ],
            "ratio": ratio,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
