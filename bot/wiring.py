"""Explicit wiring: build the shared services once, in order, and pass them down."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ats.base import RateBudget
from ats.budgets import SharedBudgets, parse_limits
from ats.http import HttpOptions
from bot.metrics import Metrics
from bot.settings import Settings
from exports.engine import ExportEngine, build_engine
from exports.types import EngineConfig
from storage import migrate
from storage.crypto import SecretBox
from storage.db import make_engine, make_session_factory
from storage.models import AtsConnection
from storage.reachability import check_reachable, require_current_schema

log = logging.getLogger(__name__)


@dataclass
class Services:
    """The process-wide services: settings, database and the secret box. Built by `build_services`."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    _closers: list[Callable[[], object]] = field(default_factory=list, repr=False)

    @cached_property
    def read_sessions(self) -> sessionmaker[Session]:
        """Return the session factory of units of work that only read (see `storage.db`)."""
        return make_session_factory(self.engine, read_only=True)

    @cached_property
    def secret_box(self) -> SecretBox:
        """Return the box that encrypts credentials; raises SecretKeyMissing when no key is set."""
        return SecretBox(self.settings.secret_key_value)

    @cached_property
    def metrics(self) -> Metrics:
        """Return this process's metrics (`bot.metrics`): everything it counts, and the database figures."""
        return Metrics(self.read_sessions)

    @cached_property
    def budgets(self) -> SharedBudgets:
        """Return the ATS request budgets, one per connection, shared with every other process of the app."""
        budgets = SharedBudgets(self.engine, limits=parse_limits(self.settings.ats_rate_limits))
        self.on_close(budgets.close)
        return budgets

    def budget_for(self, connection: AtsConnection) -> RateBudget:
        """Return the shared request budget of an ATS connection (`exports.adapters.AdapterFactory` hook)."""
        return self.budgets.for_connection(connection.id, connection.vendor)

    def http_options(self, base: HttpOptions | None = None) -> HttpOptions:
        """Return `base` (defaults when None) with this install's rule on ATS addresses
        (`SCALEUP_ATS_PRIVATE_URLS`), its own vendor credentials (`SCALEUP_MERGE_API_KEY`) and every try
        counted in the metrics: the one way the app's ATS calls get their options."""
        return replace(
            base or HttpOptions(),
            public_hosts_only=not self.settings.ats_private_urls,
            on_request=self.metrics.ats_request,
            app_credentials=self.settings.ats_app_credentials,
        )

    def export_engine(
        self,
        *,
        worker_id: str | None = None,
        config: EngineConfig | None = None,
        http_options: HttpOptions | None = None,
    ) -> ExportEngine:
        """Return a new export engine on these services (`exports.engine.build_engine`), closed with them."""
        engine = build_engine(
            self.sessions,
            self.secret_box,
            self.budgets,
            read_sessions=self.read_sessions,
            worker_id=worker_id,
            config=config,
            http_options=self.http_options(http_options),
        )
        self.on_close(engine.close)
        return engine

    def on_close(self, closer: Callable[[], object]) -> None:
        """Register something to release when the services close."""
        self._closers.append(closer)

    def close(self) -> None:
        """Release everything the services opened, newest first."""
        for closer in reversed(self._closers):
            closer()
        self._closers.clear()
        self.engine.dispose()


def build_services(settings: Settings, *, auto_upgrade: bool = False) -> Services:
    """Create the engine and session factory for `settings`, once the database answers and its schema is
    current: `auto_upgrade` brings a SQLite schema up to date; PostgreSQL's is upgraded only by
    `scaleup db upgrade` (one process, on purpose), and an old one is refused here.

    Raises:
        DatabaseUnavailable, SchemaOutOfDate: one line naming the problem and its fix.
    """
    engine = make_engine(settings.database_url)
    try:
        check_reachable(engine)
        if auto_upgrade and engine.dialect.name == "sqlite" and not migrate.is_up_to_date(engine):
            log.info("Upgrading the SQLite database schema")
            migrate.upgrade(engine)
        require_current_schema(engine)
    except BaseException:
        engine.dispose()
        raise
    return Services(settings=settings, engine=engine, sessions=make_session_factory(engine))
