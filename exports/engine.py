"""The export engine: what the scheduler, Slack actions and the ingest path call to export candidates.

One code path for every caller: `run_pass` (automatic links), `export_candidates` and `retry` (a recruiter
asked) all check the link's job, refresh the dedupe mirror, sync the link's records, then claim → send →
record through `exports.batch.BatchExporter`. `build_engine` is the one way to build an engine.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

from ats.base import AtsAdapter
from ats.budgets import SharedBudgets
from ats.errors import AtsError
from ats.http import HttpOptions
from ats.types import Capabilities
from core.errors import ScaleUpError
from exports import claims, confirmation, health, mirror, outcomes
from exports.adapters import AdapterFactory
from exports.alerts import OUTCOME_ALERTS, PassAlerts
from exports.batch import BatchExporter, Create, create_in_ats
from exports.eligibility import SyncResult, search_candidate_ids, sync_rows
from exports.links import LinkSnapshot, links_of_candidates, load_link, with_overrides
from exports.passes import pass_result, run_batches
from exports.preview import Preview, preview_link
from exports.recording import Recorder
from exports.types import (
    EngineConfig,
    ExportNotFound,
    ExportOutcome,
    ExportOverrides,
    LinkPaused,
    OverrideRejected,
    PassResult,
    Preflight,
)
from storage.crypto import SecretBox
from storage.db import unit_of_work
from storage.enums import LinkMode
from storage.export_repository import ExportRepository
from storage.models import AtsConnection, Export, Link
from storage.states import ExportState

T = TypeVar("T")


def build_engine(
    sessions: sessionmaker[Session],
    secret_box: SecretBox,
    budgets: SharedBudgets,
    *,
    read_sessions: sessionmaker[Session] | None = None,
    worker_id: str | None = None,
    config: EngineConfig | None = None,
    http_options: HttpOptions | None = None,
) -> ExportEngine:
    """Build the export engine: the one way the app, the worker, the importer, the demo and the benchmarks
    get one, so every ATS call it makes goes through the connection's shared rate budget.

    Args:
        budgets: the process's rate budgets (`bot.wiring.Services.budgets`).
        read_sessions: sessions that only read (`storage.db.make_session_factory(read_only=True)`).
        worker_id, config: see `ExportEngine`.
        http_options: timeouts and retries of the ATS calls.
    """
    adapters = AdapterFactory(
        secret_box,
        budget_for=lambda connection: budgets.for_connection(connection.id, connection.vendor),
        http_options=http_options,
    )
    return ExportEngine(sessions, adapters, worker_id=worker_id, config=config, read_sessions=read_sessions)


class ExportEngine:
    """Export candidates of linked searches to the workspace's ATS, recording every outcome.

    Args:
        sessions: opens the units of work; the engine commits its own transactions.
        adapters: builds the ATS adapter of a connection.
        worker_id: names this worker on leases (host:pid:random by default).
        config: batch sizes, leases, back-off and clocks.
        read_sessions: opens the units that only read (status, preflight, due links); read-only sessions
            keep them from queueing behind SQLite's writers. The writing `sessions` when None.
        create: the ATS create (`exports.batch.create_in_ats`); tests substitute one that dies around it.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        adapters: AdapterFactory,
        *,
        worker_id: str | None = None,
        config: EngineConfig | None = None,
        read_sessions: sessionmaker[Session] | None = None,
        create: Create = create_in_ats,
    ) -> None:
        self.sessions = sessions
        self.read_sessions = read_sessions or sessions
        self.adapters = adapters
        self.worker_id = (worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}")[:64]
        self.config = config or EngineConfig()
        self.create = create
        self.job_checks = health.JobChecks(self.config.job_check_max_age_seconds, self.config.clock)

    def close(self) -> None:
        """Close the ATS adapters the engine opened."""
        self.adapters.close()

    # --- records ----------------------------------------------------------------------------------------

    def sync_link(
        self, team_id: str, link_id: int, *, actor: str = "sync", alerts: PassAlerts | None = None
    ) -> SyncResult:
        """Bring the link's records up to date, as a pass does once its ATS checks passed.

        Creates records for the newly eligible candidates, releases those that got an email, and puts back
        in line the claims whose lease expired (their worker died). No ATS call is made.
        """
        with unit_of_work(self.sessions) as session:
            _, link = load_link(session, team_id, link_id, lock=True)
            caps = self._adapter_in(session, link.connection_id).capabilities
            result = self._sync(session, link, caps, actor=actor, alerts=alerts or PassAlerts.for_link(link))
            claims.reap_expired(session, team_id, link_id, now=self.config.now(), actor=actor)
        return result

    def candidate_updated(self, team_id: str, candidate_ids: Sequence[int], *, actor: str = "ingest") -> None:
        """Re-evaluate these candidates on every link of theirs (an email or a response arrived)."""
        ids = sorted(set(candidate_ids))
        if not ids:
            return
        with unit_of_work(self.sessions) as session:
            link_ids = links_of_candidates(session, team_id, ids)
        for link_id in link_ids:
            with unit_of_work(self.sessions) as session:
                _, link = load_link(session, team_id, link_id, lock=True)
                caps = self._adapter_in(session, link.connection_id).capabilities
                self._sync(
                    session, link, caps, actor=actor, alerts=PassAlerts.for_link(link), candidate_ids=ids
                )

    def _sync(
        self,
        session: Session,
        link: LinkSnapshot,
        caps: Capabilities,
        *,
        actor: str,
        alerts: PassAlerts,
        candidate_ids: Sequence[int] | None = None,
        any_audience: bool = False,
    ) -> SyncResult:
        result = sync_rows(
            session, link, caps, actor=actor, candidate_ids=candidate_ids, any_audience=any_audience
        )
        for state in OUTCOME_ALERTS:
            for candidate_id in result.of(state):
                alerts.outcome(state, candidate_id)
        alerts.flush(session)
        return result

    # --- reads ------------------------------------------------------------------------------------------

    def status(self, team_id: str, link_id: int) -> dict[ExportState, int]:
        """Return how many of the link's candidates are in each state (one GROUP BY; zeros included)."""
        with unit_of_work(self.read_sessions) as session:
            return ExportRepository(session, team_id).count_by_state(link_id)

    def due_links(self, now: datetime) -> list[tuple[str, int]]:
        """Return (team_id, link_id) of automatic, unpaused links whose pass is due, least recent first."""
        with unit_of_work(self.read_sessions) as session:
            return claims.due_links(session, now)

    def preflight(self, team_id: str, link_id: int, candidate_ids: Sequence[int] | None = None) -> Preflight:
        """Say what exporting these candidates (all the link's eligible ones when None) would do, from the
        database and the dedupe mirror only, so it answers at once."""
        return self._read_link(
            team_id, link_id, lambda s, link, caps: outcomes.preflight(s, link, caps, candidate_ids)
        )

    def preview(self, team_id: str, link_id: int) -> Preview:
        """Say what the next pass would do to each candidate of the link's search (`exports.preview`), from
        the database and the dedupe mirror only, writing nothing."""
        return self._read_link(team_id, link_id, preview_link)

    def _read_link(
        self, team_id: str, link_id: int, read: Callable[[Session, LinkSnapshot, Capabilities], T]
    ) -> T:
        with unit_of_work(self.read_sessions) as session:
            _, link = load_link(session, team_id, link_id)
            return read(session, link, self._adapter_in(session, link.connection_id).capabilities)

    # --- exports ----------------------------------------------------------------------------------------

    def run_pass(
        self,
        team_id: str,
        link_id: int,
        *,
        limit: int | None = None,
        deadline: float | None = None,
        actor: str = "scheduler",
    ) -> PassResult:
        """Run one pass of a link: check its job, refresh the mirror, sync, then export a bounded batch.

        Args:
            limit: candidates to export at most (the config's `pass_limit` when None).
            deadline: stop claiming and sending at this time, in seconds since the epoch (`config.clock`).
            actor: who runs the pass, recorded on every state change ("scheduler" for automatic passes).
        """
        started = self.config.now()
        with unit_of_work(self.sessions) as session:
            row, link = load_link(session, team_id, link_id)
            row.last_pass_started_at = started
        result = self._pass(link, limit=limit, deadline=deadline, actor=actor)
        finished = self.config.now()
        with unit_of_work(self.sessions) as session:
            row = session.get(Link, link_id)
            if row is not None:
                interval = timedelta(minutes=link.interval_minutes or self.config.interval_minutes)
                row.last_pass_finished_at = finished
                row.last_pass_cut_short = result.cut_short
                row.next_pass_at = finished if result.cut_short else finished + interval
                row.last_error = None if result.cut_short else result.message
        return result

    def _pass(
        self, link: LinkSnapshot, *, limit: int | None, deadline: float | None, actor: str
    ) -> PassResult:
        if link.paused:
            return PassResult(link.team_id, link.id, paused=True, message=link.paused_reason)
        alerts = PassAlerts.for_link(link)
        prepared = self._prepare(link, actor=actor, alerts=alerts)
        if isinstance(prepared, PassResult):
            return prepared
        adapter, synced = prepared
        exporter = self.batch(link, adapter, actor=actor, alerts=alerts)
        if adapter.capabilities.exclusion_only or (link.mode == LinkMode.MANUAL and actor == "scheduler"):
            return pass_result(link, exporter, synced)
        claimed, cut_short = run_batches(
            exporter, limit=self.config.pass_limit if limit is None else limit, deadline=deadline
        )
        health.after_stop(self.sessions, link, exporter.stop, actor=actor, now=self.config.now())
        return pass_result(link, exporter, synced, claimed=claimed, cut_short=cut_short)

    def export_candidates(
        self,
        team_id: str,
        link_id: int,
        candidate_ids: Sequence[int],
        *,
        actor: str,
        overrides: ExportOverrides | None = None,
        run_id: str | None = None,
    ) -> list[ExportOutcome]:
        """Export these candidates of the link now, through the same path as a pass.

        Candidates without a valid email wait in Reachout on LinkedIn instead of failing the batch; failed
        ones are tried again; candidates not in the link's search are left out of the answer.

        Args:
            overrides: the job, stage, kind and email types of this export when the recruiter changed them
                (None: the link's). Records stay the candidates' rows of the link.
            run_id: the run this export belongs to (a bulk export's chunks share one); None: a run of its own.

        Raises:
            LinkPaused: the link is paused (for instance its job closed); nothing was sent.
            OverrideRejected: the chosen job is closed or gone, or the stage is not one of its stages.
            AtsError: the ATS could not be reached or refused the connection before anything was sent.
        """
        with unit_of_work(self.sessions) as session:
            _, link = load_link(session, team_id, link_id)
        if link.paused:
            raise LinkPaused(f"This link is paused: {link.paused_reason}", hint="Fix it with /scaleup link.")
        alerts = PassAlerts.for_link(link, run_id)
        prepared = self._prepare(link, actor=actor, alerts=alerts, raise_errors=True)
        if isinstance(prepared, PassResult):
            raise LinkPaused(f"This link is paused: {prepared.message}", hint="Fix it with /scaleup link.")
        adapter, _ = prepared
        if overrides is not None and overrides.changes_job():
            problem = health.override_problem(with_overrides(link, overrides), adapter)
            if problem is not None:
                raise OverrideRejected(problem)
        with unit_of_work(self.sessions) as session:
            _, saved = load_link(session, team_id, link_id, lock=True)
            target = with_overrides(saved, overrides)
            ids = search_candidate_ids(session, target, candidate_ids)
            self._sync(
                session,
                target,
                adapter.capabilities,
                actor=actor,
                alerts=alerts,
                candidate_ids=ids,
                any_audience=True,
            )
            repo = ExportRepository(session, team_id)
            # Failed ones are tried again; held-back ones too when this export adds people the ATS has.
            again = [ExportState.FAILED, ExportState.UNDONE]  # a person exports an undone one again
            if target.include_ats_candidates and not saved.include_ats_candidates:
                again.append(ExportState.EXCLUDED)
            for export in repo.list(
                Export.link_id == link_id, Export.candidate_id.in_(ids), Export.state.in_(again)
            ):
                repo.transition(
                    export,
                    ExportState.PENDING,
                    actor=actor,
                    reason="exported again by hand",
                    attempts=0,
                    next_attempt_at=None,
                )
        if not adapter.capabilities.exclusion_only:
            exporter = self.batch(target, adapter, actor=actor, alerts=alerts)
            while exporter.stop is None:
                batch, claimed = exporter.claim(self.config.batch_size, candidate_ids=ids, due_only=False)
                if claimed == 0:
                    break
                exporter.run(batch)
            stop = exporter.stop
            if overrides is not None and overrides.changes_job() and stop is not None and stop.pause_link:
                # The chosen job went away mid-export: that says nothing about the link's own job.
                raise OverrideRejected(stop.reason, hint="Choose another job.")
            health.after_stop(self.sessions, saved, stop, actor=actor, now=self.config.now())
        with unit_of_work(self.sessions) as session:
            return outcomes.outcomes(session, target, ids)

    def retry(self, team_id: str, export_id: int, *, actor: str) -> ExportOutcome:
        """Put a failed export back in line and export it now.

        Raises:
            ExportNotFound: no such export in this workspace.
        """
        with unit_of_work(self.sessions) as session:
            repo = ExportRepository(session, team_id)
            export = repo.get(export_id)
            if export is None:
                raise ExportNotFound("That export no longer exists.")
            link_id, candidate_id = export.link_id, export.candidate_id
            if export.state == ExportState.FAILED:
                repo.transition(
                    export,
                    ExportState.PENDING,
                    actor=actor,
                    reason="Retry pressed",
                    attempts=0,
                    next_attempt_at=None,
                )
        exported = self.export_candidates(team_id, link_id, [candidate_id], actor=actor)
        if exported:
            return exported[0]
        with unit_of_work(self.sessions) as session:
            return outcomes.outcome(ExportRepository(session, team_id).get(export_id))

    def confirm_processing(self, team_id: str | None = None) -> int:
        """Move `processing` records the ATS now shows to `exported`; fail those invisible for too long.

        Returns:
            How many became `exported`.
        """
        return confirmation.confirm_processing(self.sessions, self.adapter_for, self.config, team_id)

    # --- internals --------------------------------------------------------------------------------------

    def batch(
        self, link: LinkSnapshot, adapter: AtsAdapter, *, actor: str, alerts: PassAlerts | None = None
    ) -> BatchExporter:
        """Return the batch exporter a pass or a manual export of `link` claims and sends with."""
        recorder = Recorder(
            self.sessions, link, self.config, self.worker_id, actor, alerts or PassAlerts.for_link(link)
        )
        return BatchExporter(self.sessions, adapter, recorder, create=self.create)

    def adapter_for(self, connection_id: int) -> AtsAdapter:
        """Return the adapter of an ATS connection (building one does no I/O)."""
        with unit_of_work(self.sessions) as session:
            return self._adapter_in(session, connection_id)

    def _adapter_in(self, session: Session, connection_id: int) -> AtsAdapter:
        """Return the connection's adapter (building one does no I/O; capabilities may be per instance)."""
        connection = session.get(AtsConnection, connection_id)
        if connection is None:
            raise ScaleUpError("The ATS connection was removed.", hint="Reconnect with /scaleup connect.")
        return self.adapters.for_connection(connection)

    def _prepare(
        self, link: LinkSnapshot, *, actor: str, alerts: PassAlerts, raise_errors: bool = False
    ) -> tuple[AtsAdapter, SyncResult] | PassResult:
        """Check the job and stage, refresh the mirror and sync records; a PassResult means stop here."""
        adapter = self.adapter_for(link.connection_id)
        now = self.config.now
        try:
            problem = self.job_checks.problem(link, adapter)
            if problem is not None:
                health.pause(self.sessions, link, problem, actor=actor, now=now())
                return PassResult(link.team_id, link.id, paused=True, message=problem)
            mirror.refresh(
                self.sessions,
                adapter,
                team_id=link.team_id,
                connection_id=link.connection_id,
                now=now(),
                max_age_seconds=self.config.mirror_max_age_seconds,
            )
        except AtsError as exc:
            if isinstance(exc, health.UNHEALTHY_ERRORS):
                health.connection_down(self.sessions, link, exc, now=now())
            if raise_errors:
                raise
            return PassResult(link.team_id, link.id, message=exc.user_message())
        with unit_of_work(self.sessions) as session:
            health.connection_ok(session, link, now=now())
        return adapter, self.sync_link(link.team_id, link.id, actor=actor, alerts=alerts)
