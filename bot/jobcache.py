"""The connection's cached job list (and each job's stages), refreshed in the background.

Slack gives an options request 3 seconds and 100 options; a live ATS listing of thousands of jobs cannot
promise either. Options are answered from `ats_job` rows; this module refreshes them off the request path:
when a connection is made, when a cached list is older than `max_age` and someone looks at it, and when a
recruiter presses "Refresh jobs". Only one refresh per workspace runs at a time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ats.base import AtsAdapter
from ats.errors import AtsError
from ats.types import Stage
from bot.background import Background
from storage.base import utcnow
from storage.db import unit_of_work
from storage.models import AtsConnection, AtsJob, Link
from storage.repositories import ConnectionRepository, JobCacheRepository

log = logging.getLogger(__name__)

AdapterFor = Callable[[AtsConnection], AtsAdapter]
#: Called when a background refresh ends, with its error (None on success).
WhenDone = Callable[[Exception | None], None]


def stages_to_json(stages: list[Stage]) -> list[dict[str, Any]]:
    """Return stages as stored in `AtsJob.stages`."""
    return [
        {
            "id": s.id,
            "name": s.name,
            "order": s.order,
            "prospects": s.for_prospects,
            "applicants": s.for_applicants,
        }
        for s in stages
    ]


class JobCache:
    """Refreshes `ats_job` rows from the ATS without ever blocking a Slack request.

    Args:
        sessions: opens the unit of work each refresh writes in.
        adapter_for: returns the (shared) adapter of a connection.
        background: the pool refreshes run on.
        max_age: a list older than this is refreshed when someone looks at it.
        prefetch_stages: after a refresh, the stages of up to this many jobs without cached stages are
            loaded too (jobs used by links first), so most job changes in the form need no ATS call; the
            others' stages are loaded when a recruiter first chooses the job.
        retry_after: after a refresh started, another one only starts this much later unless forced, so a
            failing ATS is not called on every keystroke of a job search.
        now: the clock.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        adapter_for: AdapterFor,
        background: Background,
        *,
        max_age: timedelta = timedelta(minutes=15),
        retry_after: timedelta = timedelta(minutes=1),
        prefetch_stages: int = 50,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._adapter_for = adapter_for
        self._background = background
        self.max_age = max_age
        self.retry_after = retry_after
        self.prefetch_stages = prefetch_stages
        self.now = now
        self._started: dict[str, datetime] = {}
        self._lock = threading.Lock()
        # What is running, with the callbacks of everyone who asked for it meanwhile.
        self._running: dict[tuple[str, str | None], list[WhenDone]] = {}

    def is_stale(self, connection: AtsConnection) -> bool:
        """Return True when the connection's job list was never loaded or is older than `max_age`."""
        refreshed = connection.jobs_refreshed_at
        return refreshed is None or self.now() - refreshed > self.max_age

    def is_refreshing(self, team_id: str) -> bool:
        """Return True while the team's job list is being refreshed."""
        with self._lock:
            return (team_id, None) in self._running

    def refresh_soon(self, team_id: str, *, then: WhenDone | None = None, force: bool = False) -> bool:
        """Refresh the team's job list in the background; return whether a refresh started.

        When one is running, `then` runs when it ends. Unless `force`d (a recruiter asked), a refresh
        started less than `retry_after` ago is not repeated, and `then` is not called.
        """
        now = self.now()
        with self._lock:
            last = self._started.get(team_id)
            if not force and (team_id, None) not in self._running and last and now - last < self.retry_after:
                return False
            self._started[team_id] = now
        return self._start((team_id, None), self.refresh, team_id, then=then)

    def load_stages_soon(self, team_id: str, job_id: str, *, then: WhenDone | None = None) -> bool:
        """Fetch one job's stages in the background; return False if that fetch is already running."""
        return self._start((team_id, job_id), self.load_stages, team_id, job_id, then=then)

    def _start(
        self, key: tuple[str, str | None], fn: Callable[..., Any], *args: Any, then: WhenDone | None
    ) -> bool:
        with self._lock:
            waiting = self._running.get(key)
            if waiting is not None:
                if then is not None:
                    waiting.append(then)
                return False
            self._running[key] = [then] if then is not None else []

        def run() -> None:
            error: Exception | None = None
            try:
                fn(*args)
            except Exception as exc:  # noqa: BLE001 - handed to the callbacks, and re-raised for the log
                error = exc
            finally:
                with self._lock:
                    callbacks = self._running.pop(key, [])
            for callback in callbacks:
                callback(error)
            if error is not None:
                raise error

        self._background.submit(run)
        return True

    def refresh(self, team_id: str) -> int:
        """Reload the team's open jobs from the ATS; jobs no longer listed are kept as closed. Return the count."""
        with unit_of_work(self._sessions) as session:
            connection = ConnectionRepository(session, team_id).get_current()
            if connection is None:
                return 0
            session.expunge(connection)
        adapter = self._adapter_for(connection)
        jobs = list(adapter.iter_jobs())  # the slow part, outside any transaction
        # Per account where it varies (Merge reads its linked account's available actions): forms and views
        # read this instead of the vendor's spec, without an ATS call of their own.
        exclusion_only = adapter.capabilities.exclusion_only
        with unit_of_work(self._sessions) as session:
            current = ConnectionRepository(session, team_id).get_current()
            if current is None or current.id != connection.id:
                return 0  # reconnected meanwhile: that connection's own refresh fills its cache
            repo = JobCacheRepository(session, team_id)
            cached = {row.job_id: row for row in repo.list(AtsJob.connection_id == connection.id)}
            stamp = self.now()
            for job in jobs:
                row = cached.pop(job.id, None)
                if row is None:
                    row = AtsJob(team_id=team_id, connection_id=connection.id, job_id=job.id)
                    session.add(row)
                row.name = job.name
                row.name_lower = job.name.lower()
                row.status = job.status
                row.is_open = job.is_open
                row.refreshed_at = stamp
            for row in cached.values():
                row.is_open = False
            current.jobs_refreshed_at = stamp
            current.exclusion_only = exclusion_only
        log.info("Refreshed %d jobs for team %s", len(jobs), team_id)
        self._prefetch_stages(team_id, connection.id)
        return len(jobs)

    def _prefetch_stages(self, team_id: str, connection_id: int) -> None:
        """Load the stages of up to `prefetch_stages` open jobs that have none cached, linked jobs first."""
        if self.prefetch_stages <= 0:
            return
        with unit_of_work(self._sessions) as session:
            linked = set(session.scalars(select(Link.job_id).where(Link.team_id == team_id)))
            rows = JobCacheRepository(session, team_id).list(
                AtsJob.connection_id == connection_id, AtsJob.is_open.is_(True), AtsJob.stages.is_(None)
            )
            wanted = sorted(rows, key=lambda r: (r.job_id not in linked, r.name_lower))[
                : self.prefetch_stages
            ]
            job_ids = [row.job_id for row in wanted]
        for job_id in job_ids:
            try:
                self.load_stages(team_id, job_id)
            except AtsError as exc:  # stages are also loaded on demand; the job list itself is fine
                log.warning("Stopped prefetching stages for team %s: %s", team_id, exc.code)
                return

    def load_stages(self, team_id: str, job_id: str) -> list[dict[str, Any]]:
        """Fetch `job_id`'s stages from the ATS into its cached row and return them."""
        with unit_of_work(self._sessions) as session:
            connection = ConnectionRepository(session, team_id).get_current()
            if connection is None:
                return []
            session.expunge(connection)
        stages = stages_to_json(self._adapter_for(connection).list_stages(job_id))
        with unit_of_work(self._sessions) as session:
            row = JobCacheRepository(session, team_id).get_by_job_id(connection.id, job_id)
            if row is not None:
                row.stages = stages
        return stages
