"""Claim → send → record for one batch of a link's candidates.

The order is what makes exports idempotent: a candidate is claimed (`exporting`, lease, `outcome_unknown`)
and COMMITTED before the ATS is called, and the outcome is recorded in a second transaction after. A worker
that dies in between leaves `outcome_unknown` set, so whoever takes the candidate over looks it up in the ATS
before creating anything. Database locks are never held across an ATS call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ats.base import AtsAdapter
from ats.errors import (
    TRANSIENT_ERRORS,
    AlreadyExists,
    AtsError,
    AuthFailed,
    NotFound,
    PermissionMissing,
    RateLimited,
)
from ats.types import Capabilities, CreatedApplication, NewCandidate
from exports import claims, mirror
from exports.alerts import PassAlerts
from exports.attribution import SCHEDULER_ACTORS, campaign_names, new_candidate, slack_user
from exports.eligibility import LinkView, Verdict, decide_many, load_candidates
from exports.mirror import EMAIL, Key, MirrorHit
from exports.types import EngineConfig
from storage.db import unit_of_work
from storage.enums import AlertKind, ExportAs
from storage.models import Export, ExportEvent
from storage.repositories import ExportRepository
from storage.states import ExportState

log = logging.getLogger(__name__)

S = ExportState
CONNECTION_ERRORS: tuple[type[AtsError], ...] = (AuthFailed, PermissionMissing)


@dataclass
class Work:
    """One claimed candidate and what to do with it once the claim is committed."""

    export_id: int
    candidate_id: int
    name: str
    keys: tuple[Key, ...]
    prior_unknown: bool
    person: NewCandidate | None = None
    existing: MirrorHit | None = None


@dataclass
class Stop:
    """Why a batch stopped early; the rest of its claims go back to `pending` untouched."""

    reason: str
    error: AtsError | None = None
    pause_link: bool = False
    out_of_time: bool = False


Writer = Callable[[AtsAdapter, LinkView, Work], CreatedApplication]


def confirm_visible(
    sessions: sessionmaker[Session], team_id: str, export_ids: Sequence[int], *, actor: str
) -> int:
    """Move these `processing` exports, which the ATS now shows, to `exported`; return how many moved.

    One transaction; a record no longer `processing` (confirmed meanwhile by someone else) is left alone.
    """
    if not export_ids:
        return 0
    with unit_of_work(sessions) as session:
        repo = ExportRepository(session, team_id)
        rows = list(
            session.scalars(
                repo.base_statement()
                .where(Export.id.in_(list(export_ids)), Export.state == S.PROCESSING)
                .with_for_update()
            )
        )
        for export in rows:
            repo.transition(export, S.EXPORTED, actor=actor, reason="visible in the ATS")
    return len(rows)


@dataclass
class BatchExporter:
    """Exports a link's candidates batch by batch for one pass or one manual request."""

    sessions: sessionmaker[Session]
    adapter: AtsAdapter
    view: LinkView
    config: EngineConfig
    worker_id: str
    actor: str
    alerts: PassAlerts
    write: Writer
    counts: dict[ExportState, int] = field(default_factory=dict)
    retrying: int = 0
    released: int = 0
    stop: Stop | None = None
    #: (export id, ATS candidate id) of this batch's creates the ATS may not show yet (`confirm_created`).
    unconfirmed: list[tuple[int, str]] = field(default_factory=list)

    @property
    def caps(self) -> Capabilities:
        """Return what the connection's adapter can do (an instance may differ from its class)."""
        return self.adapter.capabilities

    # --- claim ------------------------------------------------------------------------------------------

    def claim(
        self, limit: int, *, candidate_ids: Sequence[int] | None = None, due_only: bool = True
    ) -> tuple[list[Work], int]:
        """Claim up to `limit` pending candidates; settle those that need no ATS call at once.

        Returns:
            The candidates to send, and how many records were claimed in all (0: nothing left).
        """
        view, now = self.view, self.config.now()
        lease_until = now + timedelta(seconds=self.config.lease_seconds)
        work: list[Work] = []
        with unit_of_work(self.sessions) as session:
            rows = claims.lock_pending(
                session,
                view.team_id,
                view.id,
                now=now,
                limit=limit,
                candidate_ids=candidate_ids,
                due_only=due_only,
            )
            if not rows:
                return [], 0
            repo = ExportRepository(session, view.team_id)
            candidates = load_candidates(session, view.team_id, [row.candidate_id for row in rows])
            decisions = decide_many(session, view, self.caps, candidates.values())
            campaigns = campaign_names(session, view.team_id, view.search_id, list(candidates))
            claim: dict[str, object] = {
                "lease_owner": self.worker_id,
                "lease_expires_at": lease_until,
                "outcome_unknown": True,
            }
            if self.actor not in SCHEDULER_ACTORS:
                claim["requested_by"] = (slack_user(self.actor) or self.actor)[:32]
            for export in rows:
                candidate = candidates[export.candidate_id]
                decision = decisions[export.candidate_id]
                item = Work(
                    export.id, candidate.id, candidate.full_name, decision.keys, export.outcome_unknown
                )
                claim_changes: dict[str, object] = {}
                if export.outcome_unknown:
                    # An earlier attempt may have reached the ATS: never trust the mirror, look it up live.
                    if export.email_sent and (EMAIL, export.email_sent) not in item.keys:
                        item.keys = (*item.keys, (EMAIL, export.email_sent))
                    if export.ats_candidate_id:
                        item.existing = MirrorHit(export.ats_candidate_id, export.ats_profile_url, ("id", ""))
                    elif not item.keys:
                        self._settle(
                            repo,
                            export,
                            item.name,
                            S.REACHOUT_ON_LINKEDIN,
                            "no valid email of the link's types",
                        )
                        continue
                    else:
                        item.person = self._person(candidate, decision.emails, export, campaigns)
                elif decision.verdict == Verdict.REACHOUT:
                    self._settle(
                        repo, export, item.name, S.REACHOUT_ON_LINKEDIN, "no valid email of the link's types"
                    )
                    continue
                elif decision.verdict in (Verdict.EXCLUDED, Verdict.NONE) and decision.hit is not None:
                    self._settle(repo, export, item.name, S.EXCLUDED, "already in the ATS", decision.hit)
                    continue
                elif decision.verdict == Verdict.DUPLICATE and decision.hit is not None:
                    self._settle(
                        repo,
                        export,
                        item.name,
                        S.DUPLICATE,
                        "already in the ATS; existing record linked",
                        decision.hit,
                    )
                    continue
                elif decision.verdict == Verdict.LINK_EXISTING:
                    item.existing = decision.hit
                    claim_changes = {"ats_candidate_id": decision.hit.ats_candidate_id}
                else:
                    item.person = self._person(candidate, decision.emails, export, campaigns)
                    claim_changes = {"email_sent": decision.emails[0].address}
                reason = "claimed; looking the candidate up first" if export.outcome_unknown else "claimed"
                repo.transition(
                    export, S.EXPORTING, actor=self.actor, reason=reason, **claim, **claim_changes
                )
                work.append(item)
            self.alerts.flush(session)
        return work, len(rows)

    def _person(self, candidate, emails, export: Export, campaigns: dict[int, list[str]]) -> NewCandidate:
        return new_candidate(
            candidate,
            emails,
            idempotency_key=export.idempotency_key,
            actor=self.actor,
            search_name=self.view.search_name,
            campaigns=campaigns.get(candidate.id, []),
        )

    def _settle(
        self,
        repo: ExportRepository,
        export: Export,
        name: str,
        state: ExportState,
        reason: str,
        hit: MirrorHit | None = None,
    ) -> None:
        changes = {}
        if hit is not None:
            changes = {"ats_candidate_id": hit.ats_candidate_id, "ats_profile_url": hit.profile_url}
        repo.transition(export, state, actor=self.actor, reason=reason, **changes)
        self._count(state)
        self._alert(export, name)

    def _alert(self, export: Export, name: str) -> None:
        """Note an outcome someone should hear about in the pass's alert of its kind."""
        about = {"candidate_id": export.candidate_id, "export_id": export.id, "name": name}
        if export.state == S.FAILED:
            self.alerts.add(
                AlertKind.FAILED, **about, code=export.last_error_code, message=export.last_error_message
            )
        elif export.state == S.DUPLICATE:
            self.alerts.add(AlertKind.DUPLICATE, **about, ats_candidate_id=export.ats_candidate_id)
        elif export.state == S.REACHOUT_ON_LINKEDIN:
            self.alerts.add(AlertKind.MISSING_EMAIL, **about)

    def _count(self, state: ExportState) -> None:
        self.counts[state] = self.counts.get(state, 0) + 1

    # --- send -------------------------------------------------------------------------------------------

    def run(self, work: Sequence[Work], *, deadline: float | None = None) -> None:
        """Send each claimed candidate and record the outcome; on a stop, release what is left.

        Creates the ATS may show late (`processing`) are then confirmed together (`confirm_created`),
        unless the ATS itself stopped the batch.
        """
        for index, item in enumerate(work):
            if self.stop is None and deadline is not None and self.config.clock() >= deadline:
                self.stop = Stop("the pass ran out of time", out_of_time=True)
            if self.stop is not None:
                self.release(work[index:], self.stop.reason)
                break
            self.send(item)
        if self.stop is None or self.stop.error is None:
            self.confirm_created()

    def confirm_created(self) -> None:
        """Move this batch's `processing` creates the ATS shows already to `exported`, in one look-up.

        A vendor that may show a record late (Greenhouse) is asked once per batch instead of once per
        create; what it does not show yet stays `processing` for `ExportEngine.confirm_processing`.
        """
        pending, self.unconfirmed = self.unconfirmed, []
        if not pending:
            return
        try:
            shown = self.adapter.visible_candidates([ats_id for _, ats_id in pending])
        except AtsError as exc:
            log.info("could not confirm %d creates yet: %s", len(pending), exc.code)
            return
        ids = [export_id for export_id, ats_id in pending if ats_id in shown]
        confirmed = confirm_visible(self.sessions, self.view.team_id, ids, actor=self.actor)
        self.counts[S.PROCESSING] = self.counts.get(S.PROCESSING, 0) - confirmed
        self.counts[S.EXPORTED] = self.counts.get(S.EXPORTED, 0) + confirmed

    def send(self, item: Work) -> None:
        """Export one claimed candidate: look up, create or link, and record what happened."""
        until = self.config.now() + timedelta(seconds=self.config.lease_seconds)
        with unit_of_work(self.sessions) as session:
            if not claims.renew(session, item.export_id, owner=self.worker_id, until=until):
                log.warning(
                    "export %s: lease lost before sending; left to the worker that took it", item.export_id
                )
                return
        wrote = False
        try:
            if item.existing is None and (item.prior_unknown or not self.caps.candidate_sync):
                hit = self._lookup(item)
                if hit is not None and item.prior_unknown:
                    # Found after an attempt whose outcome was lost: that attempt created it.
                    self._record(
                        item,
                        S.EXPORTED,
                        "found in the ATS after an interrupted attempt",
                        ats_candidate_id=hit.ats_candidate_id,
                        ats_profile_url=hit.profile_url,
                    )
                    return
                if hit is None and item.prior_unknown:
                    if self._still_settling(item):
                        return
                    if item.person is not None and not item.person.emails:
                        # Not in the ATS, and the addresses it was sent with are no longer valid.
                        self._record(item, S.REACHOUT_ON_LINKEDIN, "no valid email of the link's types")
                        return
                item.existing = hit
            if item.existing is not None:
                if not self.view.include_ats_candidates and not item.prior_unknown:
                    self._record(
                        item,
                        S.EXCLUDED,
                        "already in the ATS",
                        ats_candidate_id=item.existing.ats_candidate_id,
                        ats_profile_url=item.existing.profile_url,
                    )
                    return
                wrote = True
                self._link_existing(item)
                return
            wrote = True
            created = self.write(self.adapter, self.view, item)
            self._created(item, created)
        except AlreadyExists as exc:
            self._already_exists(item, exc)
        except NotFound as exc:
            if item.existing is not None and item.existing.matched[0] != "id":
                self._stale_mirror(item)
            else:
                self.stop = Stop(exc.user_message(), exc, pause_link=True)
                self._release_one(item, exc.user_message(), unknown=item.prior_unknown)
        except CONNECTION_ERRORS as exc:
            self.stop = Stop(exc.user_message(), exc)
            self._release_one(item, exc.user_message(), unknown=item.prior_unknown)
        except TRANSIENT_ERRORS as exc:
            self.stop = Stop(exc.user_message(), exc)
            self._retry_later(
                item,
                exc.code,
                exc.user_message(),
                getattr(exc, "retry_after", None),
                unknown=wrote or item.prior_unknown,
                # A rate-limited request was not processed: the vendor asked to wait, so a storm of 429s
                # delays the candidate for as long as it lasts but never uses up its attempts.
                counts=not isinstance(exc, RateLimited),
            )
        except AtsError as exc:
            self._fail(item, exc.code, exc.user_message())
        except Exception:  # a bug with one candidate must not leave the rest of the batch claimed
            log.exception("export %s failed unexpectedly", item.export_id)
            self.stop = Stop("an internal error stopped the pass")
            self._retry_later(
                item,
                "internal_error",
                "ScaleUp hit an internal error; it will try again.",
                None,
                unknown=wrote or item.prior_unknown,
            )

    def _lookup(self, item: Work) -> MirrorHit | None:
        hit, learned = mirror.live_lookup(self.adapter, item.keys)
        if learned:
            with unit_of_work(self.sessions) as session:
                mirror.upsert(
                    session,
                    team_id=self.view.team_id,
                    connection_id=self.view.connection_id,
                    entries=learned,
                    seen_at=self.config.now(),
                )
        return hit

    def _still_settling(self, item: Work) -> bool:
        """Defer a look-up that may be too early to see the earlier attempt (vendors with delayed visibility)."""
        if not self.caps.delayed_visibility:
            return False
        with unit_of_work(self.sessions) as session:
            last_claim = session.scalar(
                select(ExportEvent.at)
                .where(ExportEvent.export_id == item.export_id, ExportEvent.to_state == S.EXPORTING)
                .order_by(ExportEvent.id.desc())
                .offset(1)  # the claim this attempt made is the newest; the interrupted one is before it
                .limit(1)
            )
        grace = timedelta(seconds=self.config.visibility_grace_seconds)
        if last_claim is None or self.config.now() - last_claim >= grace:
            return False
        self._release_one(
            item,
            "waiting for the ATS to show an earlier attempt",
            unknown=True,
            next_attempt_at=last_claim + grace,
        )
        return True

    def _link_existing(self, item: Work) -> None:
        existing = item.existing
        assert existing is not None
        if not (self.caps.add_to_job and self.view.job_id):
            self._record(
                item,
                S.DUPLICATE,
                "already in the ATS; existing record linked",
                ats_candidate_id=existing.ats_candidate_id,
                ats_profile_url=existing.profile_url,
            )
            return
        try:
            created = self.adapter.add_to_job(
                existing.ats_candidate_id,
                job_id=self.view.job_id,
                stage_id=self.view.stage_id,
                prospect=self.view.export_as == ExportAs.PROSPECT,
            )
            application_id, url = created.application_id, created.profile_url or existing.profile_url
        except AlreadyExists:
            application_id, url = None, existing.profile_url  # already on the job: nothing left to do
        self._record(
            item,
            S.DUPLICATE,
            "already in the ATS; existing record added to the job",
            ats_candidate_id=existing.ats_candidate_id,
            ats_application_id=application_id,
            ats_profile_url=url,
        )

    def _created(self, item: Work, created: CreatedApplication) -> None:
        state = S.EXPORTED if created.visible else S.PROCESSING
        entries = {key: (created.candidate_id, created.profile_url) for key in item.keys}
        recorded = self._record(
            item,
            state,
            "created in the ATS",
            mirror_entries=entries,
            ats_candidate_id=created.candidate_id,
            ats_application_id=created.application_id,
            ats_profile_url=created.profile_url,
        )
        if recorded and state == S.PROCESSING:
            self.unconfirmed.append((item.export_id, created.candidate_id))

    def _already_exists(self, item: Work, exc: AlreadyExists) -> None:
        hit = MirrorHit(exc.candidate_id, None, ("id", "")) if exc.candidate_id else self._lookup(item)
        if hit is None:
            self._fail(item, exc.code, exc.user_message())
            return
        item.existing, item.prior_unknown = hit, False
        if not self.view.include_ats_candidates:
            self._record(
                item,
                S.EXCLUDED,
                "already in the ATS",
                ats_candidate_id=hit.ats_candidate_id,
                ats_profile_url=hit.profile_url,
            )
        else:
            self._link_existing(item)

    def _stale_mirror(self, item: Work) -> None:
        existing = item.existing
        assert existing is not None
        with unit_of_work(self.sessions) as session:
            mirror.forget(session, self.view.connection_id, existing.ats_candidate_id)
        self._release_one(item, "the ATS record the mirror named is gone; trying again", unknown=False)

    # --- record -----------------------------------------------------------------------------------------

    def _record(
        self,
        item: Work,
        state: ExportState,
        reason: str,
        *,
        mirror_entries: dict[Key, tuple[str, str | None]] | None = None,
        **changes: object,
    ) -> bool:
        with unit_of_work(self.sessions) as session:
            export = session.scalars(
                select(Export).where(Export.id == item.export_id).with_for_update()
            ).one()
            if export.state != S.EXPORTING or export.lease_owner != self.worker_id:
                # Our lease expired and another worker took the candidate over; it looks up before acting.
                log.warning(
                    "export %s was taken over by %s; outcome not recorded here", export.id, export.lease_owner
                )
                return False
            repo = ExportRepository(session, self.view.team_id)
            unknown = bool(changes.pop("outcome_unknown", False))
            repo.transition(
                export,
                state,
                actor=self.actor,
                reason=reason,
                lease_owner=None,
                lease_expires_at=None,
                outcome_unknown=unknown,
                **changes,
            )
            if mirror_entries:
                mirror.upsert(
                    session,
                    team_id=self.view.team_id,
                    connection_id=self.view.connection_id,
                    entries=mirror_entries,
                    seen_at=self.config.now(),
                )
            self._alert(export, item.name)
            self.alerts.flush(session)
        if state != S.PENDING:
            self._count(state)
        return True

    def _fail(self, item: Work, code: str, message: str) -> None:
        self._record(item, S.FAILED, message, last_error_code=code, last_error_message=message)

    def _retry_later(
        self,
        item: Work,
        code: str,
        message: str,
        retry_after: float | None,
        *,
        unknown: bool,
        counts: bool = True,
    ) -> None:
        with unit_of_work(self.sessions) as session:
            attempts = session.scalar(select(Export.attempts).where(Export.id == item.export_id)) or 0
        attempts += int(counts)
        if counts and attempts >= self.config.max_attempts:
            self._record(
                item,
                S.FAILED,
                f"gave up after {attempts} attempts: {message}",
                attempts=attempts,
                last_error_code=code,
                last_error_message=message,
                outcome_unknown=unknown,
            )
            return
        delay = self.config.backoff(max(attempts, 1), retry_after)
        if self._record(
            item,
            S.PENDING,
            f"will retry: {message}",
            attempts=attempts,
            outcome_unknown=unknown,
            next_attempt_at=self.config.now() + timedelta(seconds=delay),
            last_error_code=code,
            last_error_message=message,
        ):
            self.retrying += 1

    def _release_one(
        self, item: Work, reason: str, *, unknown: bool, next_attempt_at: datetime | None = None
    ) -> None:
        if self._record(item, S.PENDING, reason, outcome_unknown=unknown, next_attempt_at=next_attempt_at):
            self.released += 1

    def release(self, work: Sequence[Work], reason: str) -> None:
        """Put claimed candidates that were not sent back in line, as they were before the claim."""
        for item in work:
            self._release_one(item, f"released: {reason}", unknown=item.prior_unknown)
