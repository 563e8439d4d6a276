"""What the Slack app's listeners need besides the request: built once by the entrypoint, passed down."""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ats.base import AtsAdapter, ConnectionConfig
from ats.budgets import NullBudget
from ats.http import HttpOptions
from ats.registry import create_adapter
from bot.background import Background
from bot.jobcache import JobCache
from bot.wiring import Services
from core.ttl import TtlMemory
from exports.engine import ExportEngine
from exports.types import EngineConfig
from storage.base import utcnow
from storage.models import AtsConnection

log = logging.getLogger(__name__)

#: A credential check in the connect modal must answer inside Slack's 3-second submission window.
CHECK_OPTIONS = HttpOptions(timeout=8.0, connect_timeout=3.0, max_tries=1, max_retry_after=0.0)


@dataclass
class Deps:
    """The services and collaborators every feature's listeners use.

    Attributes:
        services: settings, database and the secret box.
        listeners: the pool Bolt runs listeners on; a request's answer leaves as soon as its listener
            calls `ack()`, and the listener finishes its Slack calls here (see `bot.app`).
        background: the pool slow work (ATS calls) runs on, away from the listeners.
        adapter_for: returns the shared adapter of a stored connection (rate budget included).
        check_adapter: builds a throw-away adapter for credentials being checked before they are saved.
        job_cache: the background-refreshed job list options requests answer from.
        exports: the export engine the app's manual exports and ingested changes go through.
        check_window: seconds a connect submission waits for the credential check before it answers
            "Checking…" and finishes in the background.
        now: the clock.
        slack_roles: Slack's admin flags remembered across requests, so admin checks rarely call Slack.
        workspaces: the workspaces known to exist, with their names, so a request need not read its
            workspace's row before its listener starts (`bot.middleware`); rows are never deleted while
            the app runs, and a renamed workspace is written on its next request that can write.
        seen_requests: the identities of requests answered in the last ten minutes (Slack retries within a
            minute or so, and a double click sends two), so a repeat is acknowledged and dropped.
        started_work: work started from Slack (this candidate on this link for a minute, unless it failed;
            one bulk export per link while it runs), so it is started once in this process.
    """

    services: Services
    listeners: Background
    background: Background
    adapter_for: Callable[[AtsConnection], AtsAdapter]
    check_adapter: Callable[[ConnectionConfig], AtsAdapter]
    job_cache: JobCache
    exports: ExportEngine | None = None
    check_window: float = 2.0
    now: Callable[[], datetime] = utcnow
    slack_roles: TtlMemory[tuple[str, str], bool] = field(
        default_factory=lambda: TtlMemory(300.0, max_size=50_000)
    )
    workspaces: TtlMemory[str, tuple[str | None]] = field(
        default_factory=lambda: TtlMemory(600.0, max_size=50_000)
    )
    seen_requests: TtlMemory[Hashable, bool] = field(default_factory=lambda: TtlMemory(600.0))
    started_work: TtlMemory[Hashable, bool] = field(default_factory=lambda: TtlMemory(60.0))

    def close(self) -> None:
        """Stop the pools (listeners first: they hand work to the background pool).

        The export engine and its adapters close with the services that built them.
        """
        self.listeners.shutdown()
        self.background.shutdown()


def build_deps(
    services: Services,
    *,
    listener_threads: int | None = None,
    background_threads: int | None = None,
    job_cache_max_age: timedelta = timedelta(minutes=15),
    check_window: float = 2.0,
    now: Callable[[], datetime] = utcnow,
) -> Deps:
    """Build the app's collaborators from `services` (fails early when no encryption key is set)."""
    # The app exports a few candidates at a time (Slack actions, replies arriving through the ingest API):
    # a job found open a minute ago is not asked again for each of them. Automatic passes check every time.
    exports = services.export_engine(config=EngineConfig(job_check_max_age_seconds=60.0))
    listeners = Background(listener_threads or services.settings.listener_threads, name="bolt-listener")
    background = Background(background_threads or services.settings.listener_threads)
    job_cache = JobCache(
        services.sessions, exports.adapters.for_connection, background, max_age=job_cache_max_age, now=now
    )
    return Deps(
        services=services,
        listeners=listeners,
        background=background,
        adapter_for=exports.adapters.for_connection,
        # A check is one request with credentials not saved yet: no connection budget to share.
        check_adapter=lambda config: create_adapter(
            config, budget=NullBudget(), http_options=services.http_options(CHECK_OPTIONS)
        ),
        job_cache=job_cache,
        exports=exports,
        check_window=check_window,
        now=now,
    )
