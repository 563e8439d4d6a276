"""The export engine: what the scheduler, Slack actions and the importer call to export candidates.

One code path for every caller: `run_pass` (automatic links), `export_candidates` and `retry` (a recruiter
asked) all sync the link's records, check the job, refresh the dedupe mirror, then claim → send → record
through `exports.batch.BatchExporter`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ats.base import AtsAdapter
from ats.errors import AtsError, NotFound, VendorUnavailable
from ats.registry import spec_of
from ats.types import Capabilities, CreatedApplication
from core.errors import ScaleUpError
from exports import claims, health, mirror, outcomes
from exports.adapters import AdapterFactory
from exports.alerts import PassAlerts
from exports.batch import CONNECTION_ERRORS, BatchExporter, Stop, Work, confirm_visible
from exports.eligibility import (
    LinkView,
    SyncResult,
    load_link,
    search_candidate_ids,
    sync_rows,
    with_overrides,
)
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
from storage.db import unit_of_work
from storage.enums import AlertKind, ExportAs, LinkMode
from storage.models import AtsConnection, Export, Link, SearchCandidate
from storage.repositories import ExportRepository
from storage.states import ExportState

log = logging.getLogger(__name__)

S = ExportState
# Errors that mark the connection unhealthy: one alert when it breaks (refused key, or the ATS down after
# the HTTP retries), one "recovered" when a pass gets through again, however long it lasts.
UNHEALTHY_ERRORS: tuple[type[AtsError], ...] = (*CONNECTION_ERRORS, VendorUnavailable)

__all__ = [
    "AdapterFactory",
    "EngineConfig",
    "ExportEngine",
    "ExportOutcome",
    "ExportOverrides",
    "PassResult",
    "Preflight",
]


class ExportEngine:
    """Export candidates of linked searches to the workspace's ATS, recording every outcome.

    Args:
        sessions: opens the units of work; the engine commits its own transactions.
        adapters: builds the ATS adapter of a connection.
        worker_id: names this worker on leases (host:pid:random by default).
        config: batch sizes, leases, back-off and clocks.
        read_sessions: opens the units that only read (status, preflight, due links); read-only sessions
            (`storage.db.make_session_factory(read_only=True)`) keep them from queueing behind SQLite's
            writers. The writing `sessions` when None.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        adapters: AdapterFactory,
        *,
        worker_id: str | None = None,
        config: EngineConfig | None = None,
        read_sessions: sessionmaker[Session] | None = None,
    ) -> None:
        self.sessions = sessions
        self.read_sessions = read_sessions or sessions
        self.adapters = adapters
        self.worker_id = (worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}")[:64]
        self.config = config or EngineConfig()
        # (connection, job, stage, export as) -> when the job was last found fine; see _checked_job_problem.
        self._job_checks: dict[tuple[int, str | None, str | None, str], float] = {}
        self._job_checks_lock = threading.Lock()

    # --- records ----------------------------------------------------------------------------------------

    def sync_link(self, team_id: str, link_id: int) -> None:
        """Create records for the link's newly eligible candidates and release those that got an email."""
        with unit_of_work(self.sessions) as session:
            _, view = load_link(session, team_id, link_id, lock=True)
            caps = self._adapter_in(session, view.connection_id).capabilities
            self._sync(session, view, caps, actor="sync", alerts=self._alerts(view))

    def candidate_updated(self, team_id: str, candidate_ids: Sequence[int]) -> None:
        """Re-evaluate these candidates on every link of theirs (an email or a response arrived)."""
        ids = sorted(set(candidate_ids))
        if not ids:
            return
        with unit_of_work(self.sessions) as session:
            link_ids = list(
                session.scalars(
                    select(Link.id)
                    .join(SearchCandidate, SearchCandidate.search_id == Link.search_id)
                    .where(
                        Link.team_id == team_id,
                        SearchCandidate.team_id == team_id,
                        SearchCandidate.candidate_id.in_(ids),
                    )
                    .distinct()
                    .order_by(Link.id)
                )
            )
        for link_id in link_ids:
            with unit_of_work(self.sessions) as session:
                _, view = load_link(session, team_id, link_id, lock=True)
                caps = self._adapter_in(session, view.connection_id).capabilities
                self._sync(session, view, caps, actor="ingest", alerts=self._alerts(view), candidate_ids=ids)

    def _sync(
        self,
        session: Session,
        view: LinkView,
        caps: Capabilities,
        *,
        actor: str,
        alerts: PassAlerts,
        candidate_ids: Sequence[int] | None = None,
        any_audience: bool = False,
    ) -> SyncResult:
        result = sync_rows(
            session, view, caps, actor=actor, candidate_ids=candidate_ids, any_audience=any_audience
        )
        for candidate_id in result.of(S.REACHOUT_ON_LINKEDIN):
            alerts.add(AlertKind.MISSING_EMAIL, candidate_id=candidate_id)
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
        """Say what exporting these candidates (all the link's eligible ones when None) would do.

        Uses the database and the dedupe mirror only, so it answers at once.
        """
        with unit_of_work(self.read_sessions) as session:
            _, view = load_link(session, team_id, link_id)
            caps = self._adapter_in(session, view.connection_id).capabilities
            return outcomes.preflight(session, view, caps, candidate_ids)

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
            link, view = load_link(session, team_id, link_id)
            link.last_pass_started_at = started
        result = self._pass(view, limit=limit, deadline=deadline, actor=actor)
        finished = self.config.now()
        with unit_of_work(self.sessions) as session:
            link = session.get(Link, link_id)
            if link is not None:
                interval = timedelta(minutes=view.interval_minutes or self.config.interval_minutes)
                link.last_pass_finished_at = finished
                link.last_pass_cut_short = result.cut_short
                link.next_pass_at = finished if result.cut_short else finished + interval
                link.last_error = None if result.cut_short else result.message
        return result

    def _pass(self, view: LinkView, *, limit: int | None, deadline: float | None, actor: str) -> PassResult:
        if view.paused:
            return PassResult(view.team_id, view.id, paused=True, message=view.paused_reason)
        alerts = self._alerts(view)
        prepared = self._prepare(view, actor=actor, alerts=alerts)
        if isinstance(prepared, PassResult):
            return prepared
        adapter, synced = prepared
        exporter = self._exporter(view, adapter, actor, alerts)
        if adapter.capabilities.exclusion_only or (view.mode == LinkMode.MANUAL and actor == "scheduler"):
            return self._result(view, exporter, synced)
        budget = self.config.pass_limit if limit is None else limit
        claimed_total = 0
        cut_short = False
        while exporter.stop is None:
            if budget - claimed_total <= 0 or (deadline is not None and self.config.clock() >= deadline):
                cut_short = self._has_due_work(view)
                break
            work, claimed = exporter.claim(min(self.config.batch_size, budget - claimed_total))
            if claimed == 0:
                break
            claimed_total += claimed
            exporter.run(work, deadline=deadline)
        if exporter.stop is not None and exporter.stop.out_of_time:
            cut_short = True
        self._after_stop(view, exporter.stop, actor)
        return self._result(view, exporter, synced, claimed=claimed_total, cut_short=cut_short)

    def export_candidates(
        self,
        team_id: str,
        link_id: int,
        candidate_ids: Sequence[int],
        *,
        actor: str,
        overrides: ExportOverrides | None = None,
    ) -> list[ExportOutcome]:
        """Export these candidates of the link now, through the same path as a pass.

        Candidates without a valid email wait in Reachout on LinkedIn instead of failing the batch; failed
        ones are tried again; candidates not in the link's search are left out of the answer.

        Args:
            overrides: the job, stage, kind and email types of this export when the recruiter changed them
                (None: the link's). Records stay the candidates' rows of the link.

        Raises:
            LinkPaused: the link is paused (for instance its job closed); nothing was sent.
            OverrideRejected: the chosen job is closed or gone, or the stage is not one of its stages.
            AtsError: the ATS could not be reached or refused the connection before anything was sent.
        """
        with unit_of_work(self.sessions) as session:
            _, view = load_link(session, team_id, link_id)
        if view.paused:
            raise LinkPaused(f"This link is paused: {view.paused_reason}", hint="Fix it with /scaleup link.")
        alerts = self._alerts(view)
        prepared = self._prepare(view, actor=actor, alerts=alerts, raise_errors=True)
        if isinstance(prepared, PassResult):
            raise LinkPaused(f"This link is paused: {prepared.message}", hint="Fix it with /scaleup link.")
        adapter, _ = prepared
        if overrides is not None and overrides.changes_job():
            self._check_overrides(with_overrides(view, overrides), adapter)
        with unit_of_work(self.sessions) as session:
            _, link_view = load_link(session, team_id, link_id, lock=True)
            view = with_overrides(link_view, overrides)
            ids = search_candidate_ids(session, view, candidate_ids)
            self._sync(
                session,
                view,
                adapter.capabilities,
                actor=actor,
                alerts=alerts,
                candidate_ids=ids,
                any_audience=True,
            )
            repo = ExportRepository(session, team_id)
            for export in repo.list(
                Export.link_id == link_id, Export.candidate_id.in_(ids), Export.state == S.FAILED
            ):
                repo.transition(
                    export,
                    S.PENDING,
                    actor=actor,
                    reason="exported again by hand",
                    attempts=0,
                    next_attempt_at=None,
                )
        if not adapter.capabilities.exclusion_only:
            exporter = self._exporter(view, adapter, actor, alerts)
            while exporter.stop is None:
                work, claimed = exporter.claim(self.config.batch_size, candidate_ids=ids, due_only=False)
                if claimed == 0:
                    break
                exporter.run(work)
            stop = exporter.stop
            if overrides is not None and overrides.changes_job() and stop is not None and stop.pause_link:
                # The chosen job went away mid-export: that says nothing about the link's own job.
                raise OverrideRejected(stop.reason, hint="Choose another job.")
            self._after_stop(link_view, exporter.stop, actor)
        with unit_of_work(self.sessions) as session:
            return outcomes.outcomes(session, view, ids)

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
            if export.state == S.FAILED:
                repo.transition(
                    export, S.PENDING, actor=actor, reason="Retry pressed", attempts=0, next_attempt_at=None
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
        with unit_of_work(self.sessions) as session:
            stmt = (
                select(
                    Export.team_id, Export.id, Export.ats_candidate_id, Export.updated_at, Link.connection_id
                )
                .join(Link, Link.id == Export.link_id)
                .where(Export.state == S.PROCESSING)
                .order_by(Export.id)
            )
            if team_id is not None:
                stmt = stmt.where(Export.team_id == team_id)
            rows = session.execute(stmt).all()
        confirmed = 0
        timeout = timedelta(seconds=self.config.processing_timeout_seconds)
        by_connection: dict[int, list[tuple[str, int, str | None, datetime]]] = {}
        for team, export_id, ats_id, since, connection_id in rows:
            by_connection.setdefault(connection_id, []).append((team, export_id, ats_id, since))
        for connection_id, waiting in by_connection.items():
            try:
                adapter = self._adapter_for(connection_id)
                # One look-up per batch of ids where the vendor has one (Greenhouse: 50 per request).
                shown = adapter.visible_candidates([ats_id for _, _, ats_id, _ in waiting if ats_id])
            except ScaleUpError as exc:
                log.info("could not confirm %d exports yet: %s", len(waiting), getattr(exc, "code", exc))
                continue
            visible: dict[str, list[int]] = {}
            for team, export_id, ats_id, since in waiting:
                if ats_id is not None and ats_id in shown:
                    visible.setdefault(team, []).append(export_id)
                elif self.config.now() - since >= timeout:
                    self._never_visible(team, export_id)
            for team, export_ids in visible.items():
                confirmed += confirm_visible(self.sessions, team, export_ids, actor="confirm")
        return confirmed

    def _never_visible(self, team_id: str, export_id: int) -> None:
        message = "The ATS accepted the candidate but never showed the record; check it there."
        with unit_of_work(self.sessions) as session:
            export = session.scalars(select(Export).where(Export.id == export_id).with_for_update()).one()
            if export.state == S.PROCESSING:
                ExportRepository(session, team_id).transition(
                    export,
                    S.FAILED,
                    actor="confirm",
                    reason=message,
                    last_error_code="never_visible",
                    last_error_message=message,
                )

    # --- internals --------------------------------------------------------------------------------------

    def _write(self, adapter: AtsAdapter, view: LinkView, item: Work) -> CreatedApplication:
        """Create the candidate in the ATS (the one call whose outcome the claim protects)."""
        assert item.person is not None
        if view.export_as == ExportAs.APPLICANT:
            if not view.job_id:
                raise NotFound(spec_of(view.vendor).label, "this link has no job to add applicants to")
            return adapter.create_applicant(item.person, job_id=view.job_id, stage_id=view.stage_id)
        return adapter.create_prospect(item.person, job_id=view.job_id)

    def _check_overrides(self, view: LinkView, adapter: AtsAdapter) -> None:
        """Refuse a manual export to a job, stage or kind the ATS cannot take; the link is left alone.

        Raises:
            OverrideRejected: what is wrong with the choice, in the recruiter's words.
        """
        problem = health.override_problem(view, adapter)
        if problem is not None:
            raise OverrideRejected(problem)

    def _exporter(self, view: LinkView, adapter: AtsAdapter, actor: str, alerts: PassAlerts) -> BatchExporter:
        return BatchExporter(
            sessions=self.sessions,
            adapter=adapter,
            view=view,
            config=self.config,
            worker_id=self.worker_id,
            actor=actor,
            alerts=alerts,
            write=self._write,
        )

    def _alerts(self, view: LinkView) -> PassAlerts:
        context = {"link_id": view.id, "search": view.search_name, "job": view.job_name}
        return PassAlerts(view.team_id, view.id, uuid.uuid4().hex, view.alert_channel, context)

    def _adapter_for(self, connection_id: int) -> AtsAdapter:
        with unit_of_work(self.sessions) as session:
            return self._adapter_in(session, connection_id)

    def _adapter_in(self, session: Session, connection_id: int) -> AtsAdapter:
        """Return the connection's adapter (building one does no I/O; capabilities may be per instance)."""
        connection = session.get(AtsConnection, connection_id)
        if connection is None:
            raise ScaleUpError("The ATS connection was removed.", hint="Reconnect with /scaleup connect.")
        return self.adapters.for_connection(connection)

    def _prepare(
        self, view: LinkView, *, actor: str, alerts: PassAlerts, raise_errors: bool = False
    ) -> tuple[AtsAdapter, SyncResult] | PassResult:
        """Check the job and stage, refresh the mirror and sync records; a PassResult means stop here."""
        adapter = self._adapter_for(view.connection_id)
        try:
            problem = self._checked_job_problem(view, adapter)
            if problem is not None:
                self._pause(view, problem, actor)
                return PassResult(view.team_id, view.id, paused=True, message=problem)
            mirror.refresh(
                self.sessions,
                adapter,
                team_id=view.team_id,
                connection_id=view.connection_id,
                now=self.config.now(),
                max_age_seconds=self.config.mirror_max_age_seconds,
            )
        except AtsError as exc:
            if isinstance(exc, UNHEALTHY_ERRORS):
                self._connection_failed(view, exc)
            if raise_errors:
                raise
            return PassResult(view.team_id, view.id, message=exc.user_message())
        with unit_of_work(self.sessions) as session:
            health.connection_ok(session, view, now=self.config.now())
        with unit_of_work(self.sessions) as session:
            _, view = load_link(session, view.team_id, view.id, lock=True)
            synced = self._sync(session, view, adapter.capabilities, actor=actor, alerts=alerts)
            claims.reap_expired(session, view.team_id, view.id, now=self.config.now(), actor=actor)
        return adapter, synced

    def _checked_job_problem(self, view: LinkView, adapter: AtsAdapter) -> str | None:
        """Return `health.job_problem`, skipping the ATS call when the same job was found fine recently.

        The Slack app and the ingest API export a few candidates at a time; without this each reply would
        pay a job look-up on top of its create (bench/reply_to_ats finding 6).
        """
        max_age = self.config.job_check_max_age_seconds
        key = (view.connection_id, view.job_id, view.stage_id, str(view.export_as))
        now = self.config.clock()
        with self._job_checks_lock:
            checked_at = self._job_checks.get(key)
        if max_age > 0 and checked_at is not None and now - checked_at < max_age:
            return None
        problem = health.job_problem(view, adapter)
        with self._job_checks_lock:
            if problem is None:
                self._job_checks[key] = now
            else:
                self._job_checks.pop(key, None)
        return problem

    def _pause(self, view: LinkView, reason: str, actor: str) -> None:
        with unit_of_work(self.sessions) as session:
            health.pause_link(session, view, reason, actor=actor, now=self.config.now())

    def _connection_failed(self, view: LinkView, error: AtsError) -> None:
        with unit_of_work(self.sessions) as session:
            health.connection_failed(session, view, error, now=self.config.now())

    def _after_stop(self, view: LinkView, stop: Stop | None, actor: str) -> None:
        if stop is None:
            return
        if stop.pause_link:
            self._pause(view, stop.reason, actor)
        elif isinstance(stop.error, UNHEALTHY_ERRORS):
            self._connection_failed(view, stop.error)

    def _has_due_work(self, view: LinkView) -> bool:
        now = self.config.now()
        with unit_of_work(self.sessions) as session:
            return bool(claims.lock_pending(session, view.team_id, view.id, now=now, limit=1))

    def _result(
        self,
        view: LinkView,
        exporter: BatchExporter,
        synced: SyncResult,
        *,
        claimed: int = 0,
        cut_short: bool = False,
    ) -> PassResult:
        stop = exporter.stop

        def settled(state: ExportState) -> int:
            return exporter.counts.get(state, 0) + len(synced.of(state))

        return PassResult(
            view.team_id,
            view.id,
            claimed=claimed,
            exported=settled(S.EXPORTED),
            processing=settled(S.PROCESSING),
            duplicate=settled(S.DUPLICATE),
            excluded=settled(S.EXCLUDED),
            reachout=settled(S.REACHOUT_ON_LINKEDIN),
            retrying=exporter.retrying,
            failed=settled(S.FAILED),
            released=exporter.released,
            paused=stop is not None and stop.pause_link,
            cut_short=cut_short,
            message=stop.reason if stop is not None else None,
        )
