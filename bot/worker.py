"""The export worker: APScheduler running the scheduled jobs of `exports.scheduling`, and its lifecycle.

One worker or many:
- PostgreSQL: any number of workers (processes or hosts). Links and candidates are claimed in the
  database with row locks that skip locked rows and leases that expire, so they share the load and a
  crashed worker's claims are taken over once its lease runs out.
- SQLite: one writer per database file, so one worker. It holds the `worker_lock` row, renews it every
  `SCALEUP_WORKER_HEARTBEAT_SECONDS`, and a second worker refuses to start while the lock is fresh; a lock
  silent for three beats (a crashed worker), or held by a process of this host that no longer exists, is
  taken over.

Shutdown (SIGTERM, SIGINT or `WorkerHandle.stop()`): stop claiming, let the link being exported finish
its candidates in flight, release the link, then exit.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import delete, update
from sqlalchemy.orm import Session, sessionmaker

from bot.features.alerts.delivery import register_alert_job
from bot.settings import Settings
from bot.sync_jobs import register_sync_job
from bot.wiring import Services
from core.errors import ScaleUpError
from exports import scheduling
from storage.base import utcnow
from storage.db import is_postgres, unit_of_work
from storage.models import WorkerLock

log = logging.getLogger(__name__)

LOCK_NAME = "export-worker"
STALE_BEATS = 3


class WorkerRefused(ScaleUpError):
    """This worker may not start; the message says why and what to do."""


def new_worker_id() -> str:
    """Return an id naming this worker in leases and logs: host, process and a random part."""
    return f"{_host()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def holder_is_gone(owner: str) -> bool:
    """Return True when `owner` (a `new_worker_id`) names a process of this host that no longer exists.

    Only a process on this host can be asked; another host's worker is judged by its heartbeat alone.
    """
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != _host() or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)  # signal 0 sends nothing: it only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:  # it exists but belongs to someone else (EPERM)
        return False
    return False


def _host() -> str:
    return socket.gethostname()[:32]


class SingleWorkerLock:
    """The `worker_lock` row that keeps a SQLite database to one worker.

    Args:
        sessions: the app's session factory.
        owner: this worker's id.
        heartbeat_seconds: how often `beat()` is called; a lock silent for three beats is stale.
    """

    def __init__(self, sessions: sessionmaker[Session], owner: str, *, heartbeat_seconds: float) -> None:
        self._sessions = sessions
        self.owner = owner
        self.stale_after = timedelta(seconds=heartbeat_seconds * STALE_BEATS)

    def acquire(self) -> None:
        """Take the lock, or take over a stale one.

        Raises:
            WorkerRefused: another worker holds a fresh lock.
        """
        # The app's SQLite transactions begin IMMEDIATE, so two workers starting at once are serialised here.
        with unit_of_work(self._sessions) as session:
            now = utcnow()
            row = session.get(WorkerLock, LOCK_NAME)
            if row is None:
                session.add(WorkerLock(name=LOCK_NAME, owner=self.owner, heartbeat_at=now))
                return
            age = (now - row.heartbeat_at).total_seconds()
            gone = row.owner != self.owner and holder_is_gone(row.owner)
            if gone:
                log.warning(
                    "taking over the worker lock of %s: its process no longer runs on this host", row.owner
                )
            elif row.owner != self.owner and now - row.heartbeat_at < self.stale_after:
                raise WorkerRefused(
                    f"another export worker ({row.owner}, last heartbeat {max(age, 0):.0f}s ago) is already "
                    "running on this SQLite database, and SQLite allows only one worker because it has a "
                    "single writer. Stop that worker first, or use PostgreSQL (DATABASE_URL=postgresql://…) "
                    "to run several workers."
                )
            elif row.owner != self.owner:
                log.warning("taking over the worker lock of %s, silent for %.0fs", row.owner, age)
            row.owner = self.owner
            row.heartbeat_at = now

    def beat(self) -> bool:
        """Renew the lock; return False when another worker has taken it over."""
        with unit_of_work(self._sessions) as session:
            result = session.execute(
                update(WorkerLock)
                .where(WorkerLock.name == LOCK_NAME, WorkerLock.owner == self.owner)
                .values(heartbeat_at=utcnow())
            )
            return result.rowcount == 1

    def release(self) -> None:
        """Give the lock up (only if this worker still holds it)."""
        with unit_of_work(self._sessions) as session:
            session.execute(
                delete(WorkerLock).where(WorkerLock.name == LOCK_NAME, WorkerLock.owner == self.owner)
            )


@dataclass
class Worker:
    """Everything a worker process runs with; built by `build_worker`, closed by `close()`."""

    settings: Settings
    deps: scheduling.JobDeps
    lock: SingleWorkerLock | None
    stop: threading.Event
    #: Jobs added next to the export jobs that need more than the engine (the Slack alert poster).
    extra_jobs: list[Callable[[BackgroundScheduler], None]] = field(default_factory=list)
    _closers: list[Callable[[], object]] = field(default_factory=list, repr=False)

    @property
    def worker_id(self) -> str:
        """Return the id this worker claims work under."""
        return self.deps.worker_id

    def close(self) -> None:
        """Release the SQLite lock and the engine's adapters (the shared budgets close with the services)."""
        for closer in reversed(self._closers):
            try:
                closer()
            except Exception:  # closing must go on; the error is logged
                log.exception("error while closing the worker")
        self._closers.clear()


def build_worker(
    services: Services, *, worker_id: str | None = None, stop: threading.Event | None = None
) -> Worker:
    """Build the export engine, shared budgets and job dependencies; on SQLite take the single-worker lock.

    Raises:
        WorkerRefused: another worker holds this SQLite database.
    """
    settings = services.settings
    worker_id = worker_id or new_worker_id()
    stop = stop or threading.Event()
    lock = None
    if not is_postgres(services.engine):
        lock = SingleWorkerLock(
            services.sessions, worker_id, heartbeat_seconds=settings.worker_heartbeat_seconds
        )
        lock.acquire()
    closers: list[Callable[[], object]] = [lock.release] if lock else []
    try:
        limits = scheduling.PassLimits.from_settings(settings)
        engine = services.export_engine(worker_id=worker_id, config=scheduling.engine_config(limits, stop))
        deps = scheduling.JobDeps(
            services.sessions, engine, worker_id, limits, stop, on_pass=services.metrics.export_pass
        )
        closers.append(deps.close)
    except BaseException:
        for closer in reversed(closers):
            closer()
        raise
    return Worker(
        settings=settings,
        deps=deps,
        lock=lock,
        stop=stop,
        _closers=closers,
        extra_jobs=[
            lambda scheduler: register_sync_job(scheduler, services, engine),
            lambda scheduler: register_alert_job(scheduler, services),
        ],
    )


#: (job, stable id, description, minimum seconds between runs besides the tick).
JOBS: tuple[tuple[Callable[..., object], str, str, float], ...] = (
    (scheduling.export_due_links, "exports.export_due_links", "export pass over due automatic links", 0.0),
    (
        scheduling.retry_transient_failures,
        "exports.retry_transient_failures",
        "retry transient failures whose back-off is over",
        0.0,
    ),
    # Each confirmation is one ATS look-up per record; once a minute is soon enough for a recruiter.
    (
        scheduling.confirm_processing,
        "exports.confirm_processing",
        "confirm records the ATS made visible",
        60.0,
    ),
)


def register_jobs(scheduler: BackgroundScheduler, deps: scheduling.JobDeps, settings: Settings) -> None:
    """Add every scheduled job with a stable id, one instance at a time, missed runs coalesced."""
    for func, job_id, name, at_least in JOBS:
        scheduler.add_job(
            func,
            "interval",
            seconds=max(settings.worker_tick_seconds, at_least),
            id=job_id,
            name=name,
            kwargs={"deps": deps},
            max_instances=1,
            coalesce=True,
            replace_existing=True,
            next_run_time=utcnow(),
        )


def create_scheduler(settings: Settings, deps: scheduling.JobDeps) -> BackgroundScheduler:
    """Return a (not started) scheduler with the export jobs registered."""
    # One instance of each job: a thread per job (and three for jobs added beside them, see
    # `Worker.extra_jobs`), so a long export pass never delays confirmations or alerts.
    scheduler = BackgroundScheduler(executors={"default": ThreadPoolExecutor(len(JOBS) + 3)}, timezone="UTC")
    register_jobs(scheduler, deps, settings)
    return scheduler


def run_once(worker: Worker) -> scheduling.PassSummary:
    """Run each job once, in order: confirmations, retries, one export pass over the due links, a status
    poll of each ATS connection, alerts."""
    scheduling.confirm_processing(worker.deps)
    retried = scheduling.retry_transient_failures(worker.deps)
    summary = scheduling.export_due_links(worker.deps)
    run_extra_jobs_once(worker)
    return summary.merged(retried)


def run_extra_jobs_once(worker: Worker) -> None:
    """Run each job of `Worker.extra_jobs` once (the status poll, posting alerts), as the scheduler would."""
    scheduler = BackgroundScheduler(timezone="UTC")  # never started: it only collects the jobs
    for add_job in worker.extra_jobs:
        add_job(scheduler)
    for job in scheduler.get_jobs():
        job.func(*job.args, **job.kwargs)


def _heartbeat(worker: Worker) -> None:
    """Renew the SQLite lock until the worker stops; stop the worker if the lock was taken over."""
    assert worker.lock is not None
    while not worker.stop.wait(worker.settings.worker_heartbeat_seconds):
        try:
            if not worker.lock.beat():
                log.error("another worker took over the SQLite worker lock; stopping")
                worker.stop.set()
        except Exception:  # a busy database must not stop the heartbeat
            log.exception("worker lock heartbeat failed")


def run_forever(worker: Worker) -> None:
    """Run the scheduler until `worker.stop` is set, then shut it down gracefully."""
    if worker.lock is not None:
        threading.Thread(target=_heartbeat, args=(worker,), name="worker-heartbeat", daemon=True).start()
    scheduler = create_scheduler(worker.settings, worker.deps)
    for add_job in worker.extra_jobs:  # posting the passes' alerts to Slack (bot.features.alerts)
        add_job(scheduler)
    scheduler.start()
    log.info("export worker %s started (every %gs)", worker.worker_id, worker.settings.worker_tick_seconds)
    try:
        worker.stop.wait()
    finally:
        log.info("export worker %s stopping: finishing the claimed work", worker.worker_id)
        # Jobs see `stop` and claim nothing more; wait=True lets the one in flight finish and release.
        scheduler.shutdown(wait=True)
        log.info("export worker %s stopped", worker.worker_id)


def install_signal_handlers(stop: threading.Event) -> None:
    """Make SIGTERM and SIGINT ask for a graceful stop (main thread only)."""

    def handle(signum: int, _frame: object) -> None:
        log.info("received %s", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


@dataclass
class WorkerHandle:
    """A worker running on a background thread of another process (`scaleup serve --with-worker`)."""

    worker: Worker
    thread: threading.Thread

    def stop(self, timeout: float | None = None) -> None:
        """Ask the worker to stop, wait for it to finish what it claimed, and release its resources."""
        self.worker.stop.set()
        self.thread.join(timeout)
        self.worker.close()


def start_worker_in_background(services: Services, *, worker_id: str | None = None) -> WorkerHandle:
    """Start the export worker on a daemon thread of this process and return its handle.

    For small installs that run one process: in `scaleup serve --with-worker` call
    `handle = start_worker_in_background(services)` after building the services and
    `handle.stop()` when the server stops. On SQLite this takes the single-worker lock.

    Raises:
        WorkerRefused: another worker holds this SQLite database.
    """
    worker = build_worker(services, worker_id=worker_id)
    thread = threading.Thread(target=run_forever, args=(worker,), name="export-worker", daemon=True)
    thread.start()
    return WorkerHandle(worker=worker, thread=thread)
