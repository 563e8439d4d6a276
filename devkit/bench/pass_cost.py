"""Pass cost as data grows: does a bigger database make an export pass's selection and claim slower?

Databases with 10k, 100k and 1M candidates (bulk-seeded with COPY on PostgreSQL and executemany on SQLite)
hold 1,000 searches, each linked (automatic) to the ATS. Every seeded candidate belongs to one search, was
exported before (an `export` row with its event, and a dedupe mirror entry), and the measured link's
search also holds 1,000 new eligible candidates. The engine's own functions are timed, as one pass runs
them, inside a transaction rolled back after each repetition (no ATS call is made):

- due: `ExportEngine.due_links` (every link is due);
- select: `eligibility.new_eligible_ids` (the indexed anti-join finding what is new, which the sync runs);
- sync: `ExportEngine.sync_link` (1,000 records created, as a pass does once its ATS checks passed);
- claim: `ExportEngine.batch(...).claim` of one batch (lock 25 records, email rule and mirror, mark them
  exporting);
- idle: the same selection and claim for a link with nothing new (what most passes are).

    ratio = (selection + claim at 1M) ÷ (selection + claim at 10k), on each database; target ≤ 1.5

    python -m devkit.bench.pass_cost [--quick] [--database sqlite|postgresql] [--reps 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from ats.budgets import SharedBudgets
from core.vocabulary import Vendor
from devkit.bench import rig
from exports.eligibility import new_eligible_ids
from exports.engine import build_engine
from exports.links import load_link
from storage.crypto import SecretBox, generate_key
from storage.db import unit_of_work
from storage.repositories import ConnectionRepository, ensure_workspace

LINKS = 1_000
NEW = 1_000
BATCH = 25
PHASES = ("due", "select", "sync", "claim")


@dataclass
class Result:
    """The timings (median of the repetitions, in ms) of one database kind at one size."""

    database: str
    size: int
    seed_seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    idle: float = 0.0
    new_found: int = 0
    claimed: int = 0

    @property
    def total(self) -> float:
        """Return the selection and claim of one pass (every phase) in ms."""
        return sum(self.phases.values())


# --- seeding ---------------------------------------------------------------------------------------------


def seed(engine: Engine, sessions: sessionmaker[Session], box: SecretBox, size: int) -> tuple[int, int]:
    """Seed `size` exported candidates over LINKS linked searches plus NEW new ones; return (busy, idle) link ids.

    The connection points at a closed port: nothing measured calls the ATS.
    """
    with unit_of_work(sessions) as session:
        ensure_workspace(session, rig.TEAM, "Benchmarks")
        connection_id = (
            ConnectionRepository(session, rig.TEAM)
            .save(
                box,
                vendor=Vendor.GREENHOUSE,
                secrets={"client_id": "x", "client_secret": "y"},
                fields={},
                base_url="http://127.0.0.1:9",
            )
            .id
        )
    now = datetime.now(UTC)
    rig.insert_rows(
        engine,
        "search",
        ("id", "team_id", "name", "created_at", "updated_at"),
        ((n, rig.TEAM, f"Search {n}", now, now) for n in range(1, LINKS + 1)),
    )
    earlier = now - timedelta(hours=1)
    with unit_of_work(sessions) as session:
        session.add_all(
            rig.bench_link(rig.TEAM, n, connection_id, "4001", id=n, next_pass_at=earlier)
            for n in range(1, LINKS + 1)
        )
    rig.fix_sequences(engine, ("search", "link"))
    # Old candidates: one search each, round robin, every one exported before.
    searches = [n % LINKS + 1 for n in range(size)]
    ids = rig.seed_candidates(engine, rig.TEAM, searches, email="old{i}@bench.example.org", start=1)
    rig.insert_rows(
        engine,
        "export",
        (
            "id",
            "team_id",
            "link_id",
            "candidate_id",
            "state",
            "idempotency_key",
            "attempts",
            "outcome_unknown",
            "ats_candidate_id",
            "email_sent",
            "created_at",
            "updated_at",
        ),
        (
            (cid, rig.TEAM, sid, cid, "exported", f"bench-{cid:032d}", 1, False, f"ats-{cid}", None, now, now)
            for cid, sid in zip(ids, searches)
        ),
    )
    rig.insert_rows(
        engine,
        "export_event",
        ("id", "team_id", "export_id", "from_state", "to_state", "actor", "reason", "at"),
        (
            (cid, rig.TEAM, cid, "exporting", "exported", "scheduler", "created in the ATS", now)
            for cid in ids
        ),
    )
    rig.insert_rows(
        engine,
        "ats_mirror_entry",
        ("id", "team_id", "connection_id", "kind", "value", "ats_candidate_id", "profile_url", "seen_at"),
        (
            (cid, rig.TEAM, connection_id, "email", f"old{cid}@bench.example.org", f"ats-{cid}", None, now)
            for cid in ids
        ),
    )
    rig.fix_sequences(engine, ("export", "export_event", "ats_mirror_entry"))
    # The measured link's search gets NEW candidates nobody has exported yet.
    busy = 1
    rig.seed_candidates(engine, rig.TEAM, [busy] * NEW, email="new{i}@bench.example.org")
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))  # PostgreSQL's autovacuum would do it within a minute; SQLite: stats
    return busy, 2


# --- measuring -------------------------------------------------------------------------------------------


def timed(call: Callable[[], object]) -> tuple[float, object]:
    """Return (milliseconds, result) of `call()`."""
    start = time.perf_counter()
    result = call()
    return (time.perf_counter() - start) * 1000, result


def one_pass(engine: Engine, box: SecretBox, link_id: int) -> tuple[dict[str, float], int, int]:
    """Run one pass's selection and claim for `link_id` inside a transaction that is rolled back."""
    with engine.connect() as conn, SharedBudgets(None) as budgets:
        outer = conn.begin()
        # Every unit of work of the engine commits a savepoint; the outer transaction is rolled back.
        sessions = sessionmaker(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        exports = build_engine(sessions, box, budgets, worker_id="bench")
        try:
            with unit_of_work(sessions) as session:
                _, link = load_link(session, rig.TEAM, link_id)
            # A worker's adapters live as long as it does: build this one before timing (no I/O either way).
            adapter = exports.adapter_for(link.connection_id)
            times: dict[str, float] = {}

            def select_new() -> list[int]:
                with unit_of_work(sessions) as session:
                    _, link = load_link(session, rig.TEAM, link_id)
                    return new_eligible_ids(session, link)

            times["due"], _ = timed(lambda: exports.due_links(exports.config.now()))
            times["select"], found = timed(select_new)
            times["sync"], _ = timed(lambda: exports.sync_link(rig.TEAM, link_id, actor="scheduler"))
            batch = exports.batch(link, adapter, actor="scheduler")
            times["claim"], (_, claimed) = timed(lambda: batch.claim(BATCH))  # type: ignore[misc]
        finally:
            exports.close()
            outer.rollback()
    return times, len(found), claimed  # type: ignore[arg-type]


def measure(database: str, sizes: list[int], reps: int) -> list[Result]:
    """Seed one fresh database of `database` kind per size, then time `reps` rounds of passes.

    Each round times every size in turn, so a change in the machine's load between rounds weighs on every
    size alike instead of on whichever size happened to run then.
    """
    results = [Result(database, size) for size in sizes]
    with ExitStack() as stack:
        engines = []
        for result in results:
            url = stack.enter_context(rig.temp_database(database, "bench_pass_cost"))
            engine, sessions = rig.migrated(url)
            stack.callback(engine.dispose)
            started = time.perf_counter()
            box = SecretBox(generate_key())
            engines.append((engine, box, *seed(engine, sessions, box, result.size)))
            result.seed_seconds = time.perf_counter() - started
            rig.say(f"  {database:<10} {result.size:>9,} candidates seeded in {result.seed_seconds:.1f}s")
        for engine, box, busy, _ in engines:
            one_pass(engine, box, busy)  # warm the caches and the statement cache once
        runs: list[list[tuple[dict[str, float], int, int]]] = [[] for _ in results]
        idle_runs: list[list[float]] = [[] for _ in results]
        for _ in range(reps):
            for n, (engine, box, busy, idle) in enumerate(engines):
                runs[n].append(one_pass(engine, box, busy))
                idle_runs[n].append(sum(one_pass(engine, box, idle)[0].values()))
        for result, mine, idle in zip(results, runs, idle_runs):
            result.phases = {p: rig.median([r[0][p] for r in mine]) for p in PHASES}
            result.new_found, result.claimed = mine[-1][1], mine[-1][2]
            result.idle = rig.median(idle)
    return results


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures; the last line is the headline ratio."""
    parser = argparse.ArgumentParser(prog="devkit.bench.pass_cost", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1k and 10k candidates instead of 10k to 1M")
    parser.add_argument("--database", action="append", choices=["sqlite", "postgresql"])
    parser.add_argument("--reps", type=int, default=5, help="passes timed per size (the median is kept)")
    parser.add_argument("--sizes", type=int, nargs="+", help="candidates per database (default 10k 100k 1M)")
    args = parser.parse_args(argv)
    sizes = args.sizes or ([1_000, 10_000] if args.quick else [10_000, 100_000, 1_000_000])
    databases = args.database or ["sqlite", "postgresql"]
    if "postgresql" in databases and not rig.postgres_available():
        rig.say(f"PostgreSQL at {rig.POSTGRES_URL} is not reachable: SQLite only")
        databases = [d for d in databases if d != "postgresql"]
    rig.say(f"pass cost — {rig.describe_machine()}")
    rig.say(f"{LINKS} links, {NEW} new eligible candidates on the measured link, claim batch {BATCH}")
    results: list[Result] = []
    for database in databases:
        results.extend(measure(database, sizes, args.reps))
    rig.say()
    rig.say(
        f"{'database':<10} {'candidates':>10} "
        + " ".join(f"{p + ' ms':>9}" for p in PHASES)
        + f" {'total':>9}"
        f" {'idle ms':>9} {'new':>5} {'claimed':>7}"
    )
    for r in results:
        rig.say(
            f"{r.database:<10} {r.size:>10,} "
            + " ".join(f"{r.phases[p]:>9.1f}" for p in PHASES)
            + f" {r.total:>9.1f} {r.idle:>9.1f} {r.new_found:>5} {r.claimed:>7}"
        )
    ratios = {}
    for database in databases:
        mine = [r for r in results if r.database == database]
        small, big = mine[0], mine[-1]
        ratios[database] = (big.total / small.total, big.idle / small.idle)
        rig.say(
            f"{database}: {big.size:,} vs {small.size:,} candidates: pass × {ratios[database][0]:.2f}, "
            f"idle pass × {ratios[database][1]:.2f}"
        )
    rig.save_results(
        "pass_cost",
        {
            "results": [
                {
                    "database": r.database,
                    "candidates": r.size,
                    "seed_seconds": r.seed_seconds,
                    "ms": r.phases,
                    "total_ms": r.total,
                    "idle_ms": r.idle,
                }
                for r in results
            ]
        },
    )
    worst = max(ratios, key=lambda d: ratios[d][0])
    sizes_said = f"{sizes[-1]:,} vs {sizes[0]:,}"
    rig.say(
        f"ratio: {ratios[worst][0]:.2f} (target ≤ 1.5; pass at {sizes_said} candidates, worst database: {worst})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
