"""Export throughput against the ATS rate limit: do exports run at the speed the ATS allows?

For each exporting vendor, the loopback emulator refuses more than R requests per window with 429, and the
workers' shared rate budget is sized to the same R. Candidates are exported by worker processes that run
the scheduler's loop (due links → lease a link → `ExportEngine.run_pass` → release) until every candidate
is done, with one worker on SQLite, one on PostgreSQL, and three on PostgreSQL sharing one budget.

    throughput ratio = candidates exported per second × ATS requests per candidate ÷ R

that is, the share of the ATS's allowance the workers used (seconds are counted from the first ATS request
to the last candidate done, plus one rate window: see `Case.span`). Target ≥ 0.9 in every run, with no candidate
failed because of 429s and no person created twice; three workers must not beat the ceiling (≤ 1.0 and
no window over R). Requests per candidate are printed per endpoint against the vendor's minimum.

    python -m devkit.bench.export_throughput [--quick] [--vendor lever ...] [--rate 20] [--window 1]
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from ats.spec import VendorLimit
from core.vocabulary import Vendor
from devkit.bench import rig
from storage.crypto import SecretBox, generate_key
from storage.db import make_engine, make_session_factory, unit_of_work
from storage.models import Export, Link
from storage.repositories import SearchRepository
from storage.states import ExportState

FINAL = (
    ExportState.EXPORTED,
    ExportState.PROCESSING,
    ExportState.DUPLICATE,
    ExportState.EXCLUDED,
    ExportState.FAILED,
    ExportState.REACHOUT_ON_LINKEDIN,
)

#: Requests a vendor needs at the least per new applicant, besides the dedupe look-up: the create, plus
#: a second call where the vendor cannot place the person on the job's stage in the create itself.
MINIMUM: dict[Vendor, tuple[int, str]] = {
    Vendor.GREENHOUSE: (1, "POST /v3/candidates with the application and initial stage"),
    Vendor.LEVER: (1, "POST /opportunities with posting and stage"),
    Vendor.ASHBY: (2, "candidate.create + application.create (the stage move)"),
    Vendor.WORKABLE: (1, "POST /jobs/{shortcode}/candidates?stage="),
}

#: The path fragments of each vendor's dedupe look-ups (the mirror's changed-since listing, email search).
DEDUPE_PATHS: dict[Vendor, tuple[str, ...]] = {
    Vendor.GREENHOUSE: ("GET /v3/candidates",),
    Vendor.LEVER: ("GET /v1/opportunities",),
    Vendor.ASHBY: ("POST /candidate.list", "POST /candidate.search"),
    Vendor.WORKABLE: ("GET /spi/v3/candidates",),
}

#: Query parameters of a read of one known record (a read-back after a create), not a dedupe look-up.
READ_BACK_PARAMS = ("?ids", "contact_id")

LINKS = 3  # one per worker of the three-worker run; the single worker serves them in turn
PASS_LIMIT = 100  # the scheduler's default link batch (SCALEUP_WORKER_LINK_BATCH)


@dataclass
class Case:
    """One run: a vendor, a database and a number of worker processes."""

    vendor: Vendor
    database: str
    workers: int
    candidates: int
    rate: int
    window: float
    elapsed: float = 0.0
    states: dict[str, int] = field(default_factory=dict)
    failed_429: int = 0
    requests: int = 0
    refused: int = 0
    busiest: int = 0
    duplicates: int = 0
    by_endpoint: Counter[str] = field(default_factory=Counter)
    timed_out: bool = False

    @property
    def label(self) -> str:
        """Return e.g. "lever  postgresql ×3"."""
        return f"{self.vendor.value:<10} {self.database:<10} ×{self.workers}"

    @property
    def exported(self) -> int:
        """Return the candidates the runs put in the ATS (exported or awaiting visibility)."""
        return self.states.get(ExportState.EXPORTED.value, 0) + self.states.get(
            ExportState.PROCESSING.value, 0
        )

    @property
    def span(self) -> float:
        """Return the run's length in seconds, counted from its first request, plus one rate window.

        A budget that starts idle lets R requests through at once, so n requests at exactly R take n/R - 1
        windows; adding the window makes a perfect exporter score 1.0 whatever the run's length.
        """
        return self.elapsed + self.window

    @property
    def per_second(self) -> float:
        """Return candidates exported per second."""
        return self.exported / self.span if self.elapsed else 0.0

    @property
    def per_candidate(self) -> float:
        """Return ATS requests per exported candidate (every request of the run, overheads included)."""
        return self.requests / self.exported if self.exported else float("nan")

    @property
    def ceiling(self) -> float:
        """Return R in requests per second."""
        return self.rate / self.window

    @property
    def ratio(self) -> float:
        """Return candidates/s × requests/candidate ÷ R."""
        return self.per_second * self.per_candidate / self.ceiling if self.exported else 0.0

    @property
    def useful_ratio(self) -> float:
        """Return candidates/s × the vendor's minimum requests ÷ R (what a perfect exporter would reach)."""
        return self.per_second * MINIMUM[self.vendor][0] / self.ceiling

    def dedupe_per_candidate(self) -> float:
        """Return dedupe look-ups per exported candidate."""
        prefixes = DEDUPE_PATHS[self.vendor]
        hits = sum(
            n
            for key, n in self.by_endpoint.items()
            if key.startswith(prefixes) and not any(k in key for k in READ_BACK_PARAMS)
        )
        return hits / self.exported if self.exported else float("nan")


# --- worker process --------------------------------------------------------------------------------------


def worker(url: str, key: str, vendor: Vendor, rate: int, window: float, name: str) -> int:
    """Run the scheduler's loop over due links until no candidate is left to export (a worker process).

    Prints "ready" once built, then waits for the start time on stdin, so every worker starts together.
    """
    from ats.budgets import SharedBudgets
    from exports import claims
    from exports.engine import build_engine
    from exports.types import EngineConfig
    from storage.base import utcnow

    logging.basicConfig(level=logging.WARNING, format=f"{name} %(levelname)s %(name)s: %(message)s")
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    budgets = SharedBudgets(engine, limits={vendor: VendorLimit(rate, window)})
    exporter = build_engine(
        sessions, SecretBox(key), budgets, worker_id=name, config=EngineConfig(pass_limit=PASS_LIMIT)
    )
    print("ready", flush=True)
    rig.wait_until(float(sys.stdin.readline()))
    try:
        while True:
            with unit_of_work(sessions) as session:
                due = claims.due_links(session, utcnow())
            ran = False
            for team_id, link_id in due:
                with unit_of_work(sessions) as session:
                    if not claims.claim_link(session, team_id, link_id, owner=name, now=utcnow(), ttl=300):
                        continue
                try:
                    exporter.run_pass(team_id, link_id, limit=PASS_LIMIT, deadline=time.time() + 60)
                    ran = True
                finally:
                    with unit_of_work(sessions) as session:
                        claims.release_link(session, team_id, link_id, owner=name)
            if not ran:
                with unit_of_work(sessions) as session:
                    waiting = session.scalar(
                        select(func.count())
                        .select_from(Export)
                        .where(Export.state.in_([ExportState.PENDING, ExportState.EXPORTING]))
                    )
                    links_synced = session.scalar(
                        select(func.count()).select_from(Link).where(Link.last_pass_finished_at.is_not(None))
                    )
                if not waiting and links_synced == LINKS:
                    return 0
                time.sleep(0.05)
    finally:
        exporter.close()
        budgets.close()
        engine.dispose()


# --- one run ---------------------------------------------------------------------------------------------


def seed(url: str, box: SecretBox, emulator: Any, vendor: Vendor, candidates: int) -> None:
    """Create the workspace, the connection, LINKS searches linked to an open job, and the candidates."""
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    connection_id = rig.connect_workspace(sessions, box, emulator)
    search_ids = []
    with unit_of_work(sessions) as session:
        for n in range(LINKS):
            search = SearchRepository(session, rig.TEAM).get_or_create(f"Bench search {n + 1}")
            session.flush()
            search_ids.append(search.id)
            session.add(rig.bench_link(rig.TEAM, search.id, connection_id, rig.OPEN_JOBS[vendor]))
    rig.seed_candidates(
        engine,
        rig.TEAM,
        [search_ids[i % LINKS] for i in range(candidates)],
        email=f"{vendor.value}.{{i}}@bench.example.org",
    )
    engine.dispose()


def run_case(case: Case, url: str) -> Case:
    """Seed the (empty) database at `url`, start the emulator and the workers, and measure until all is done."""
    vendor = case.vendor
    emulator = rig.start_emulator(vendor, rate_limit=case.rate, rate_window=case.window)
    refused = rig.count_429s(emulator)
    key = generate_key()
    try:
        seed(url, SecretBox(key), emulator, vendor, case.candidates)
        procs = [
            subprocess.Popen(
                [
                    rig.python(),
                    "-m",
                    "devkit.bench.export_throughput",
                    "--worker",
                    url,
                    key,
                    vendor.value,
                    str(case.rate),
                    str(case.window),
                    f"bench-worker-{n + 1}",
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for n in range(case.workers)
        ]
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        start_at = time.time() + 0.05
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(f"{start_at!r}\n")
            proc.stdin.close()
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        ideal = case.candidates * (MINIMUM[vendor][0] + 1) / case.ceiling
        give_up = start_at + max(60.0, 4 * ideal)
        done_at = None
        try:
            while time.time() < give_up:
                with unit_of_work(sessions) as session:
                    done = session.scalar(
                        select(func.count()).select_from(Export).where(Export.state.in_(FINAL))
                    )
                if done >= case.candidates:
                    done_at = time.time()
                    break
                if all(p.poll() is not None for p in procs):
                    break
                time.sleep(0.05)
            for proc in procs:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.terminate()
                    proc.wait(timeout=10)
            with unit_of_work(sessions) as session:
                rows = session.execute(
                    select(Export.state, Export.last_error_code, func.count()).group_by(
                        Export.state, Export.last_error_code
                    )
                ).all()
        finally:
            engine.dispose()
        case.timed_out = done_at is None
        end = done_at or time.time()
        for state, code, count in rows:
            case.states[str(state)] = case.states.get(str(state), 0) + count
            if state == ExportState.FAILED and code == "rate_limited":
                case.failed_429 += count
        log = [r for r in emulator.requests() if start_at <= r.at <= end]
        # From the workers' first ATS request: process start-up is not export throughput.
        began = min((r.at for r in log), default=start_at)
        case.elapsed = end - began
        case.requests = len(log)
        case.by_endpoint = Counter(_endpoint(vendor, r.method, r.path, r.query) for r in log)
        case.busiest = rig.busiest_window([r.at for r in log], case.window)
        case.refused = refused[0]
        kind = rig.RECORD_KIND[vendor]
        case.duplicates = sum(
            max(0, per_kind.get(kind, 0) - 1) for per_kind in emulator.created_by_email().values()
        )
    finally:
        emulator.stop()
    return case


def _endpoint(vendor: Vendor, method: str, path: str, query: Any = None) -> str:
    """Return "METHOD /path?keys" with ids replaced by placeholders, so endpoints group together."""
    parts = []
    for part in path.split("/"):
        if part and (any(c.isdigit() for c in part) and len(part) > 6 or part.isdigit()):
            part = "{id}"
        parts.append(part)
    keys = sorted(
        k for k in (query or {}) if k not in ("per_page", "limit", "perform_as", "cursor", "offset")
    )
    return f"{method} {'/'.join(parts)}" + (f"?{','.join(keys)}" if keys else "")


# --- report ----------------------------------------------------------------------------------------------


def report(cases: list[Case]) -> tuple[float, list[str]]:
    """Print the figures of every run; return the worst ratio and what failed the targets."""
    problems: list[str] = []
    rig.say()
    rig.say(
        f"{'run':<27} {'cand':>5} {'secs':>6} {'cand/s':>7} {'req/cand':>8} {'R/s':>5} "
        f"{'ratio':>6} {'useful':>6} {'busiest':>7} {'429s':>5} {'dup':>4} {'fail429':>7}"
    )
    for case in cases:
        rig.say(
            f"{case.label:<27} {case.exported:>5} {case.span:>6.1f} {case.per_second:>7.2f} "
            f"{case.per_candidate:>8.2f} {case.ceiling:>5.1f} {case.ratio:>6.2f} {case.useful_ratio:>6.2f} "
            f"{case.busiest:>4}/{case.rate:<2} {case.refused:>5} {case.duplicates:>4} {case.failed_429:>7}"
        )
        if case.timed_out or case.exported < case.candidates:
            problems.append(
                f"{case.label.strip()}: only {case.exported}/{case.candidates} exported {case.states}"
            )
        if case.ratio < 0.9:
            problems.append(f"{case.label.strip()}: ratio {case.ratio:.2f} < 0.9")
        if case.failed_429 or case.duplicates:
            problems.append(
                f"{case.label.strip()}: {case.failed_429} failed on 429, {case.duplicates} duplicates"
            )
        if case.ratio > 1.0:
            problems.append(f"{case.label.strip()}: beat the ceiling (ratio {case.ratio:.2f} > 1)")
    rig.say()
    rig.say(
        "ATS requests per exported candidate, by endpoint (single worker on SQLite), against the minimum:"
    )
    seen: set[Vendor] = set()
    for case in cases:
        if case.vendor in seen or not case.exported:
            continue
        seen.add(case.vendor)
        minimum, what = MINIMUM[case.vendor]
        rig.say(
            f"  {case.vendor.value}: {case.per_candidate:.2f} per candidate; minimum {minimum} ({what}) "
            f"+ dedupe, which took {case.dedupe_per_candidate():.3f} per candidate"
        )
        for endpoint, count in case.by_endpoint.most_common():
            rig.say(f"      {count / case.exported:7.3f}  {endpoint}")
    worst = min((c.ratio for c in cases), default=0.0)
    return worst, problems


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or, with --worker, be one of its worker processes)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--worker":
        url, key, vendor, rate, window, name = argv[1:7]
        call = (url, key, Vendor(vendor), int(rate), float(window), name)
        if os.environ.get("BENCH_PROFILE"):
            # BENCH_PROFILE=<dir>: write each worker's cProfile stats there (see bench/README.md).
            import cProfile

            profile = cProfile.Profile()
            try:
                return profile.runcall(worker, *call)
            finally:
                profile.dump_stats(os.path.join(os.environ["BENCH_PROFILE"], f"{name}.prof"))
        return worker(*call)
    parser = argparse.ArgumentParser(
        prog="devkit.bench.export_throughput", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="fewer candidates and runs (under a minute)")
    parser.add_argument("--vendor", action="append", choices=[v.value for v in rig.OPEN_JOBS])
    parser.add_argument(
        "--rate",
        type=int,
        default=10,
        help="R: requests the emulator allows per window (default 10/s, Lever's documented limit and the "
        "highest of the exporting vendors')",
    )
    parser.add_argument("--window", type=float, default=1.0, help="the rate window in seconds")
    parser.add_argument(
        "--seconds", type=float, default=None, help="rough length of each run (default 60, --quick 3)"
    )
    args = parser.parse_args(argv)
    vendors = [Vendor(v) for v in args.vendor] if args.vendor else list(rig.OPEN_JOBS)
    logging.getLogger("devkit.ats").setLevel(logging.WARNING)
    postgres = rig.postgres_available()
    if args.quick:
        # A smoke test: each vendor once on SQLite, and the three workers on one vendor.
        configs = [("sqlite", 1), ("postgresql", 3)]
        runs = [(v, "sqlite", 1) for v in vendors] + [(vendors[-1], "postgresql", 3)]
        seconds = args.seconds or 3.0
    else:
        configs = [("sqlite", 1), ("postgresql", 1), ("postgresql", 3)]
        runs = [(v, database, workers) for v in vendors for database, workers in configs]
        # Long enough that where the last burst of tokens falls costs little: `Case.span` adds one window
        # for the idle budget's first burst, which is exact on average but can cost up to a window in one
        # run (15 s runs of a one-request vendor lost up to 7 % that way, its budget keeping only 5 %).
        seconds = args.seconds or 60.0
    if not postgres:
        rig.say(f"PostgreSQL at {rig.POSTGRES_URL} is not reachable: SQLite runs only")
        configs = [c for c in configs if c[0] == "sqlite"]
        runs = [r for r in runs if r[1] == "sqlite"]
    rig.say(f"export throughput — {rig.describe_machine()}")
    rig.say(f"R = {args.rate} requests per {args.window:g}s; links {LINKS}; pass limit {PASS_LIMIT}")
    cases = []
    with ExitStack() as stack:
        # One database of each kind for the whole run, emptied between runs (creating and dropping a
        # PostgreSQL database costs seconds).
        urls = {kind: stack.enter_context(rig.temp_database(kind, "bench_throughput")) for kind, _ in configs}
        engines = {}
        for kind, url in urls.items():
            engines[kind] = rig.migrated(url)[0]
            stack.callback(engines[kind].dispose)
        for vendor, database, workers in runs:
            per_candidate = MINIMUM[vendor][0] + 1  # a rough guess, to size each run to about `seconds`
            candidates = max(LINKS * 5, int(seconds * args.rate / args.window / per_candidate))
            rig.wipe(engines[database])
            case = run_case(
                Case(vendor, database, workers, candidates, args.rate, args.window), urls[database]
            )
            rig.say(
                f"  {case.label}: {case.exported}/{case.candidates} in {case.elapsed:.1f}s, "
                f"{case.requests} requests, ratio {case.ratio:.2f}"
            )
            cases.append(case)
    worst, problems = report(cases)
    rig.save_results(
        "export_throughput",
        {
            "rate": args.rate,
            "window": args.window,
            "cases": [
                {
                    "vendor": c.vendor.value,
                    "database": c.database,
                    "workers": c.workers,
                    "candidates": c.candidates,
                    "exported": c.exported,
                    "elapsed": c.elapsed,
                    "requests": c.requests,
                    "ratio": c.ratio,
                    "useful_ratio": c.useful_ratio,
                    "requests_per_candidate": c.per_candidate,
                    "busiest_window": c.busiest,
                    "refused_429": c.refused,
                    "duplicates": c.duplicates,
                    "failed_429": c.failed_429,
                    "states": c.states,
                    "by_endpoint": dict(c.by_endpoint),
                }
                for c in cases
            ],
        },
    )
    rig.say()
    for problem in problems:
        rig.say(f"MISSED: {problem}")
    rig.say(
        f"ratio: {worst:.2f} (target ≥ 0.9; worst of {len(cases)} runs; baseline R = the ATS's allowance)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
