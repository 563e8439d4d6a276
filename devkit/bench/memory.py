"""Memory: peak RSS of `scaleup worker --once` and of `scaleup import candidates` as the data grows.

Each command runs as a child process on a throw-away SQLite database; its peak RSS is the kernel's
(`os.wait4` → `ru_maxrss`), and its RSS is sampled from /proc while it runs to show whether it climbs.

- worker: one automatic link whose search holds N eligible candidates (bulk-seeded), against the Lever
  emulator with no rate limit. `worker --once` runs one bounded pass, as the scheduler does: it creates
  the link's N export records (the part that touches every candidate) and exports one link batch.
- import: a generated CSV of N candidates (source id, names, email, LinkedIn URL, title, company).

Targets: every peak under 250 MB, and the import's peak flat as the file grows.

    ratio = import peak at the large file ÷ import peak at the small one (flat: ≈ 1.0)

    python -m devkit.bench.memory [--quick] [--worker-sizes 10000 100000] [--import-rows 100000 1000000]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text

from core.vocabulary import Vendor
from devkit.bench import rig
from storage.crypto import SecretBox, generate_key
from storage.db import make_engine, unit_of_work
from storage.repositories import SearchRepository

LIMIT_MB = 250.0


@dataclass
class Run:
    """One child process: what it ran, its peak RSS and its RSS over time."""

    what: str
    size: int
    seconds: float = 0.0
    peak_mb: float = 0.0
    exit_code: int = 0
    samples: list[tuple[float, float]] = field(default_factory=list)  # (seconds, RSS MB)
    output: str = ""

    def rss_at(self, fraction: float) -> float:
        """Return the highest RSS sampled up to `fraction` of the run's time."""
        limit = self.seconds * fraction
        seen = [rss for at, rss in self.samples if at <= limit]
        return max(seen, default=0.0)


def run_child(what: str, size: int, argv: list[str], env: dict[str, str]) -> Run:
    """Run `argv`, sampling its RSS, and return its peak RSS from the kernel."""
    run = Run(what, size)
    started = time.perf_counter()
    with tempfile.TemporaryFile(mode="w+") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
        stop = threading.Event()

        def sample() -> None:
            status = Path(f"/proc/{proc.pid}/status")
            while not stop.wait(0.2):
                try:
                    for line in status.read_text().splitlines():
                        if line.startswith("VmRSS:"):
                            run.samples.append((time.perf_counter() - started, int(line.split()[1]) / 1024))
                except (OSError, ValueError):
                    return

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        stop.set()
        sampler.join()
        out.seek(0)
        run.output = out.read()
    run.seconds = time.perf_counter() - started
    run.peak_mb = usage.ru_maxrss / 1024  # KiB on Linux
    run.exit_code = proc.returncode
    return run


def scaleup(*args: str) -> list[str]:
    """Return the command line of `scaleup ARGS` with this interpreter."""
    return [rig.python(), "-m", "bot.cli", *args]


def worker_run(size: int) -> Run:
    """Measure `scaleup worker --once` over a link of `size` eligible candidates."""
    key = generate_key()
    emulator = rig.start_emulator(Vendor.LEVER)
    try:
        with rig.temp_database("sqlite", "bench_memory") as url:
            engine, sessions = rig.migrated(url)
            connection_id = rig.connect_workspace(sessions, SecretBox(key), emulator)
            with unit_of_work(sessions) as session:
                search = SearchRepository(session, rig.TEAM).get_or_create("Memory bench")
                session.flush()
                search_id = search.id
                session.add(rig.bench_link(rig.TEAM, search_id, connection_id, rig.OPEN_JOBS[Vendor.LEVER]))
            rig.seed_candidates(engine, rig.TEAM, [search_id] * size, email="m{i}@bench.example.org")
            engine.dispose()
            env = rig.app_environment(url, key, SCALEUP_ATS_RATE_LIMITS=json.dumps({"lever": "1000/1"}))
            run = run_child("worker --once", size, scaleup("worker", "--once"), env)
            engine = make_engine(url)
            with engine.connect() as conn:
                records = conn.execute(text("SELECT count(*) FROM export")).scalar()
            engine.dispose()
            said = [line for line in run.output.splitlines() if line.startswith("Export pass")]
            run.output = f"{records:,} export records; {said[-1] if said else run.output[-300:]}"
    finally:
        emulator.stop()
    return run


def import_run(rows: int, folder: Path) -> Run:
    """Measure `scaleup import candidates` of a generated CSV of `rows` candidates."""
    path = folder / f"candidates-{rows}.csv"
    if not path.exists():
        with path.open("w", newline="") as handle:
            out = csv.writer(handle)
            out.writerow(
                ["source_id", "first_name", "last_name", "email", "linkedin_url", "title", "company"]
            )
            for n in range(rows):
                out.writerow(
                    [
                        f"src-{n}",
                        "Bench",
                        f"Person {n}",
                        f"person{n}@bench.example.org",
                        f"https://www.linkedin.com/in/bench-person-{n}",
                        "Engineer",
                        "Acme",
                    ]
                )
    with rig.temp_database("sqlite", "bench_memory") as url:
        engine, _ = rig.migrated(url)
        engine.dispose()
        argv = scaleup(
            "import", "candidates", str(path), "--team", rig.TEAM, "--search", "Imported", "--new-team"
        )
        return run_child("import candidates", rows, argv, rig.app_environment(url, generate_key()))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures; the last line is the headline ratio."""
    parser = argparse.ArgumentParser(prog="devkit.bench.memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1k/10k candidates and rows")
    parser.add_argument("--worker-sizes", type=int, nargs="+", help="candidates per worker run")
    parser.add_argument("--import-rows", type=int, nargs="+", help="rows per import run")
    args = parser.parse_args(argv)
    worker_sizes = args.worker_sizes or ([1_000, 10_000] if args.quick else [1_000, 100_000])
    import_rows = args.import_rows or ([1_000, 10_000] if args.quick else [10_000, 100_000])
    rig.say(f"memory — {rig.describe_machine()}")
    runs: list[Run] = []
    for size in worker_sizes:
        run = worker_run(size)
        runs.append(run)
        rig.say(
            f"  worker --once, {size:,} candidates: peak {run.peak_mb:.0f} MB in {run.seconds:.0f}s ({run.output})"
        )
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as folder:
        for rows in import_rows:
            run = import_run(rows, Path(folder))
            runs.append(run)
            rig.say(
                f"  import, {rows:,} rows: peak {run.peak_mb:.0f} MB in {run.seconds:.0f}s (exit {run.exit_code})"
            )
    rig.say()
    rig.say(
        f"{'command':<18} {'size':>10} {'secs':>7} {'peak MB':>8} {'RSS@10%':>8} {'RSS@50%':>8} {'exit':>5}"
    )
    for run in runs:
        rig.say(
            f"{run.what:<18} {run.size:>10,} {run.seconds:>7.1f} {run.peak_mb:>8.1f} "
            f"{run.rss_at(0.1):>8.1f} {run.rss_at(0.5):>8.1f} {run.exit_code:>5}"
        )
    imports = [r for r in runs if r.what.startswith("import")]
    workers = [r for r in runs if r.what.startswith("worker")]
    worst = max(runs, key=lambda r: r.peak_mb)
    growth = imports[-1].peak_mb / imports[0].peak_mb if imports[0].peak_mb else float("nan")
    worker_growth = workers[-1].peak_mb / workers[0].peak_mb if workers[0].peak_mb else float("nan")
    rig.say(
        f"worker peak × {worker_growth:.2f} from {workers[0].size:,} to {workers[-1].size:,} candidates; "
        f"highest peak {worst.peak_mb:.0f} MB ({worst.what}, {worst.size:,}) against {LIMIT_MB:.0f} MB"
    )
    rig.save_results(
        "memory",
        {
            "runs": [
                {
                    "command": r.what,
                    "size": r.size,
                    "seconds": r.seconds,
                    "peak_mb": r.peak_mb,
                    "exit": r.exit_code,
                }
                for r in runs
            ]
        },
    )
    for run in runs:
        if run.exit_code != 0:
            rig.say(f"MISSED: {run.what} {run.size:,} exited {run.exit_code}: {run.output[-500:]}")
        if run.peak_mb >= LIMIT_MB:
            rig.say(f"MISSED: {run.what} {run.size:,} peaked at {run.peak_mb:.0f} MB ≥ {LIMIT_MB:.0f} MB")
    rig.say(
        f"ratio: {growth:.2f} (import peak at {imports[-1].size:,} ÷ at {imports[0].size:,} rows, target ≈ 1.0 "
        f"and every peak < {LIMIT_MB:.0f} MB: highest {worst.peak_mb:.0f} MB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
