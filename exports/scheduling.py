"""Scheduled export jobs: plain functions over explicit dependencies, run by `bot.worker`'s scheduler.

- `export_due_links`: one pass over the automatic links that are due, least recently served first. Each
  link is claimed for the pass (a lease in the database, so several workers never run the same link at
  once and a dead worker's link is taken over when its lease expires) and exported in a bounded batch:
  at most `link_batch` candidates and `link_seconds` seconds, so a huge search cannot starve the others.
  A link cut short is due again at once but queues behind the links already waiting.
- `retry_transient_failures`: links whose transient failures have finished their back-off, or whose
  candidates a dead worker left claimed past their lease, passed again even when the link itself is not
  due yet (the pass puts the orphaned claims back in line and looks them up in the ATS first).
- `confirm_processing`: records the ATS makes visible only after a delay, confirmed by a look-up.

Every job stops claiming as soon as `deps.stop` is set (SIGTERM): the candidate being sent is finished and
recorded, the rest of the batch is released, the link's lease is given back.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from exports import claims
from exports.engine import ExportEngine
from exports.types import EngineConfig, PassResult
from storage.base import utcnow
from storage.db import unit_of_work
from storage.enums import LinkMode
from storage.models import Export, Link
from storage.states import ExportState

log = logging.getLogger(__name__)

ACTOR = "scheduler"


@dataclass(frozen=True)
class PassLimits:
    """Bounds of the scheduler's work.

    Attributes:
        link_batch: candidates one link's pass exports at most.
        link_seconds: seconds one link's pass may take before it stops claiming.
        lease_seconds: how long a claim on a link or candidate holds before another worker may take it.
        interval_minutes: time between two passes of a link without its own interval.
    """

    link_batch: int = 100
    link_seconds: float = 60.0
    lease_seconds: float = 300.0
    interval_minutes: int = 5

    @classmethod
    def from_settings(cls, settings: Any) -> PassLimits:
        """Read the bounds from the app's settings."""
        return cls(
            link_batch=settings.worker_link_batch,
            link_seconds=settings.worker_link_seconds,
            lease_seconds=settings.worker_lease_seconds,
            interval_minutes=settings.export_interval_minutes,
        )


def stop_aware_clock(stop: threading.Event, clock: Callable[[], float] = time.time) -> Callable[[], float]:
    """Return a clock whose time runs out at once when `stop` is set.

    The engine compares its clock with a pass's deadline before each candidate; past the deadline it
    finishes nothing new and releases the rest of its claims. Asking to stop is therefore the same as the
    pass running out of time, and needs nothing more from the engine.
    """
    return lambda: math.inf if stop.is_set() else clock()


@dataclass
class JobDeps:
    """What the scheduled jobs run with; built once per worker.

    Attributes:
        engine: the worker's export engine, configured by `engine_config`.
        clock: seconds since the epoch for the passes' deadlines (not stop-aware: the engine's is).
        on_pass: told how long each run of a job took, by its `PASS_KINDS` name (the app's metrics).
    """

    sessions: sessionmaker[Session]
    engine: ExportEngine
    worker_id: str
    limits: PassLimits
    stop: threading.Event = field(default_factory=threading.Event)
    clock: Callable[[], float] = time.time
    on_pass: Callable[[str, float], None] | None = None

    def close(self) -> None:
        """Close the adapters the engine opened."""
        self.engine.close()


#: The name each job's runs are timed under (`JobDeps.on_pass`).
PASS_KINDS = ("export", "retry", "confirm")

Job = Callable[[JobDeps], "PassSummary"]


def timed(kind: str) -> Callable[[Job], Job]:
    """Return a decorator telling `deps.on_pass` how long each run of the job took, even a failed one."""

    def decorate(job: Job) -> Job:
        @functools.wraps(job)
        def run(deps: JobDeps) -> PassSummary:
            started = time.perf_counter()
            try:
                return job(deps)
            finally:
                if deps.on_pass is not None:
                    deps.on_pass(kind, time.perf_counter() - started)

        return run

    return decorate


def engine_config(
    limits: PassLimits, stop: threading.Event, base: EngineConfig | None = None
) -> EngineConfig:
    """Return the export engine's configuration for a worker: its pass bounds and lease, and a clock that runs
    out when the worker is asked to stop."""
    base = base or EngineConfig()
    return replace(
        base,
        pass_limit=limits.link_batch,
        lease_seconds=limits.lease_seconds,
        interval_minutes=limits.interval_minutes,
        clock=stop_aware_clock(stop, base.clock),
    )


#: The per-candidate counts of `PassResult` (every int field but the link's id), summed by `PassSummary`.
RESULT_COUNTS = tuple(f.name for f in fields(PassResult) if f.type == "int" and f.name != "link_id")


@dataclass
class PassSummary:
    """What one run of the jobs did: links served or skipped, and the candidates' counts summed over links."""

    links: int = 0
    skipped: int = 0
    cut_short: int = 0
    paused: int = 0
    errors: int = 0
    confirmed: int = 0
    counts: Counter[str] = field(default_factory=Counter)

    def add(self, result: PassResult) -> None:
        """Count one link's pass."""
        self.links += 1
        self.cut_short += int(result.cut_short)
        self.paused += int(result.paused)
        self.counts.update({name: getattr(result, name) for name in RESULT_COUNTS})

    def merged(self, other: PassSummary) -> PassSummary:
        """Return the sum of two summaries."""
        summed = {f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        return PassSummary(**summed)

    def describe(self) -> str:
        """Return one line for the operator."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "counts"}
        values |= {name: self.counts[name] for name in RESULT_COUNTS}
        parts = [f"{name} {value}" for name, value in values.items() if value]
        return "Export pass: " + (", ".join(parts) if parts else "nothing to do") + "."


def run_link(deps: JobDeps, team_id: str, link_id: int, *, summary: PassSummary) -> None:
    """Claim one link for a bounded pass, run it, and give the claim back."""
    with unit_of_work(deps.sessions) as session:
        claimed = claims.claim_link(
            session, team_id, link_id, owner=deps.worker_id, now=utcnow(), ttl=deps.limits.lease_seconds
        )
    if not claimed:
        summary.skipped += 1  # another worker is on it
        return
    try:
        result = deps.engine.run_pass(
            team_id,
            link_id,
            limit=deps.limits.link_batch,
            deadline=deps.clock() + deps.limits.link_seconds,
            actor=ACTOR,
        )
        summary.add(result)
    except Exception:  # one broken link must not stop the pass of the others
        summary.errors += 1
        log.exception("export pass of link %s (team %s) failed", link_id, team_id)
    finally:
        with unit_of_work(deps.sessions) as session:
            claims.release_link(session, team_id, link_id, owner=deps.worker_id)


@timed("export")
def export_due_links(deps: JobDeps) -> PassSummary:
    """Run one bounded pass of every automatic link that is due, least recently served first."""
    summary = PassSummary()
    with unit_of_work(deps.sessions) as session:
        due = claims.due_links(session, utcnow())
    for team_id, link_id in due:
        if deps.stop.is_set():
            break
        run_link(deps, team_id, link_id, summary=summary)
    if summary.links or summary.errors:
        log.info("%s", summary.describe())
    return summary


def links_with_due_retries(session: Session, now: Any) -> list[tuple[str, int]]:
    """Return automatic, unpaused links holding work that waits for no interval.

    That is pending candidates whose retry back-off is over, and `exporting` candidates whose lease
    expired: their worker died mid-pass, and waiting for the link's next interval would leave them
    claimed by nobody for up to that long.
    """
    retry_due = claims.retry_is_due(now)
    orphaned = and_(Export.state == ExportState.EXPORTING, Export.lease_expires_at < now)
    stmt = (
        select(Link.team_id, Link.id)
        .join(Export, Export.link_id == Link.id)
        .where(
            or_(retry_due, orphaned),
            Link.mode == LinkMode.AUTOMATIC,
            Link.paused.is_(False),
        )
        .distinct()
        .order_by(Link.id)
    )
    return [(team_id, link_id) for team_id, link_id in session.execute(stmt)]


@timed("retry")
def retry_transient_failures(deps: JobDeps) -> PassSummary:
    """Pass again the links whose transient failures are due for another try, or whose claims were orphaned."""
    summary = PassSummary()
    with unit_of_work(deps.sessions) as session:
        due = links_with_due_retries(session, utcnow())
    for team_id, link_id in due:
        if deps.stop.is_set():
            break
        run_link(deps, team_id, link_id, summary=summary)
    return summary


@timed("confirm")
def confirm_processing(deps: JobDeps) -> PassSummary:
    """Confirm `processing` records the ATS now shows (or fail those that never appeared)."""
    summary = PassSummary()
    if deps.stop.is_set():
        return summary
    try:
        summary.confirmed = int(deps.engine.confirm_processing() or 0)
    except Exception:  # a failing ATS must not stop the worker; the next run tries again
        summary.errors += 1
        log.exception("confirming processing exports failed")
    return summary
