"""Claim → send → record for one batch of a link's candidates.

The order is what makes exports idempotent: a candidate is claimed (`exporting`, lease, `outcome_unknown`)
and COMMITTED before the ATS is called, and the outcome is recorded in a second transaction after
(`exports.recording`). A worker that dies in between leaves `outcome_unknown` set, so whoever takes the
candidate over looks it up in the ATS before creating anything. Database locks are never held across an
ATS call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ats.base import AtsAdapter
from ats.errors import CONNECTION_ERRORS, TRANSIENT_ERRORS, AlreadyExists, AtsError, NotFound, RateLimited
from ats.registry import spec_of
from ats.types import Capabilities, CreatedApplication, NewCandidate
from exports import claims, mirror
from exports.attribution import SCHEDULER_ACTORS, campaign_names, new_candidate, slack_user
from exports.confirmation import confirm_visible
from exports.eligibility import Verdict, decide_many, load_candidates
from exports.links import LinkSnapshot
from exports.mirror import EMAIL, MirrorHit
from exports.recording import NO_EMAIL, Claimed, Recorder
from exports.types import Stop
from storage.db import unit_of_work
from storage.enums import ExportAs
from storage.export_repository import ExportRepository
from storage.models import Export, ExportEvent
from storage.states import ExportState

log = logging.getLogger(__name__)


#: Creates a candidate in the ATS: the one call whose outcome the claim protects.
Create = Callable[[AtsAdapter, LinkSnapshot, NewCandidate], CreatedApplication]


def create_in_ats(adapter: AtsAdapter, link: LinkSnapshot, person: NewCandidate) -> CreatedApplication:
    """Create `person` in the ATS as the link says: an applicant on its job and stage, or a prospect (at its
    stage where the ATS has prospect stages)."""
    if link.export_as == ExportAs.APPLICANT:
        if not link.job_id:
            raise NotFound(spec_of(link.vendor).label, "this link has no job to add applicants to")
        return adapter.create_applicant(person, job_id=link.job_id, stage_id=link.stage_id)
    stage_id = link.stage_id if adapter.capabilities.prospect_stages and link.job_id else None
    return adapter.create_prospect(person, job_id=link.job_id, stage_id=stage_id)


@dataclass
class BatchExporter:
    """Exports a link's candidates batch by batch for one pass or one manual request.

    Attributes:
        create: the ATS create (`create_in_ats`; tests substitute one that dies around the call).
        stop: why the batches stopped early, once something stopped them.
    """

    sessions: sessionmaker[Session]
    adapter: AtsAdapter
    recorder: Recorder
    create: Create = create_in_ats
    stop: Stop | None = None
    #: Batches claimed so far; the mirror is refreshed before every one but the first (see `claim`).
    claims_made: int = 0
    #: (export id, ATS candidate id) of this batch's creates the ATS may not show yet (`confirm_created`).
    unconfirmed: list[tuple[int, str]] = field(default_factory=list)

    @property
    def link(self) -> LinkSnapshot:
        """Return the link exported to."""
        return self.recorder.link

    @property
    def caps(self) -> Capabilities:
        """Return what the connection's adapter can do (an instance may differ from its class)."""
        return self.adapter.capabilities

    # --- claim ------------------------------------------------------------------------------------------

    def claim(
        self, limit: int, *, candidate_ids: Sequence[int] | None = None, due_only: bool = True
    ) -> tuple[list[Claimed], int]:
        """Claim up to `limit` pending candidates; settle those that need no ATS call at once.

        Returns:
            The candidates to send, and how many records were claimed in all (0: nothing left).
        """
        link, config, recorder = self.link, self.recorder.config, self.recorder
        if self.claims_made and not self._refresh_mirror():
            return [], 0
        self.claims_made += 1
        now = config.now()
        claimed: list[Claimed] = []
        with unit_of_work(self.sessions) as session:
            rows = claims.lock_pending(
                session,
                link.team_id,
                link.id,
                now=now,
                limit=limit,
                candidate_ids=candidate_ids,
                due_only=due_only,
            )
            if not rows:
                return [], 0
            repo = ExportRepository(session, link.team_id)
            candidates = load_candidates(session, link.team_id, [row.candidate_id for row in rows])
            decisions = decide_many(session, link, self.caps, candidates.values())
            campaigns = campaign_names(session, link.team_id, link.search_id, list(candidates))
            lease: dict[str, object] = {
                "lease_owner": recorder.worker_id,
                "lease_expires_at": now + timedelta(seconds=config.lease_seconds),
                "outcome_unknown": True,
            }
            if recorder.actor not in SCHEDULER_ACTORS:
                lease["requested_by"] = (slack_user(recorder.actor) or recorder.actor)[:32]

            def person(candidate, emails, export: Export) -> NewCandidate:
                return new_candidate(
                    candidate,
                    emails,
                    idempotency_key=export.idempotency_key,
                    actor=recorder.actor,
                    search_name=link.search_name,
                    campaigns=campaigns.get(candidate.id, []),
                )

            for export in rows:
                candidate = candidates[export.candidate_id]
                decision = decisions[export.candidate_id]
                item = Claimed(
                    export.id, candidate.id, candidate.full_name, decision.keys, export.outcome_unknown
                )
                changes: dict[str, object] = {}
                if export.outcome_unknown:
                    # An earlier attempt may have reached the ATS: never trust the mirror, look it up live.
                    if export.email_sent and (EMAIL, export.email_sent) not in item.keys:
                        item.keys = (*item.keys, (EMAIL, export.email_sent))
                    if export.ats_candidate_id:
                        item.existing = MirrorHit(export.ats_candidate_id, export.ats_profile_url, ("id", ""))
                    elif not item.keys:
                        recorder.settle(repo, export, item.name, ExportState.REACHOUT_ON_LINKEDIN, NO_EMAIL)
                        continue
                    else:
                        item.person = person(candidate, decision.emails, export)
                elif decision.verdict == Verdict.REACHOUT:
                    recorder.settle(repo, export, item.name, ExportState.REACHOUT_ON_LINKEDIN, NO_EMAIL)
                    continue
                elif decision.verdict in (Verdict.EXCLUDED, Verdict.NONE) and decision.hit is not None:
                    recorder.settle(
                        repo, export, item.name, ExportState.EXCLUDED, "already in the ATS", decision.hit
                    )
                    continue
                elif decision.verdict == Verdict.DUPLICATE and decision.hit is not None:
                    reason = "already in the ATS; existing record linked"
                    recorder.settle(repo, export, item.name, ExportState.DUPLICATE, reason, decision.hit)
                    continue
                elif decision.verdict == Verdict.LINK_EXISTING:
                    item.existing = decision.hit
                    changes = {"ats_candidate_id": decision.hit.ats_candidate_id}
                else:
                    item.person = person(candidate, decision.emails, export)
                    changes = {"email_sent": decision.emails[0].address}
                reason = "claimed; looking the candidate up first" if export.outcome_unknown else "claimed"
                repo.transition(
                    export,
                    ExportState.EXPORTING,
                    actor=recorder.actor,
                    reason=reason,
                    run_id=recorder.run_id,
                    **lease,
                    **changes,
                )
                claimed.append(item)
            recorder.alerts.flush(session)
        return claimed, len(rows)

    def _refresh_mirror(self) -> bool:
        """Catch the dedupe mirror up with the ATS before deciding another batch; False when the ATS stopped us.

        The pass read the mirror before its first batch. Someone may have added a person to the ATS since (a
        recruiter by hand, another tool): deciding the next batch on a stale mirror would create them a
        second profile. The incremental listing costs one request when nothing changed.
        """
        try:
            mirror.refresh(
                self.sessions,
                self.adapter,
                team_id=self.link.team_id,
                connection_id=self.link.connection_id,
                now=self.recorder.config.now(),
                max_age_seconds=self.recorder.config.mirror_max_age_seconds,
            )
        except AtsError as exc:
            self.stop = Stop(exc.user_message(), exc)
            return False
        return True

    # --- send -------------------------------------------------------------------------------------------

    def run(self, batch: Sequence[Claimed], *, deadline: float | None = None) -> None:
        """Send each claimed candidate and record the outcome; on a stop, release what is left.

        Creates the ATS may show late (`processing`) are then confirmed together (`confirm_created`) where
        one request asks about many (Greenhouse), unless the ATS itself stopped the batch; elsewhere the
        scheduled confirmation reads them back, a while after they were sent.
        """
        clock = self.recorder.config.clock
        for index, item in enumerate(batch):
            if self.stop is None and deadline is not None and clock() >= deadline:
                self.stop = Stop("the pass ran out of time", out_of_time=True)
            if self.stop is not None:
                self.recorder.release(batch[index:], self.stop.reason)
                break
            self.send(item)
        if self.stop is None or self.stop.error is None:
            self.confirm_created()

    def confirm_created(self) -> None:
        """Move this batch's `processing` creates the ATS shows already to `exported`, in one look-up.

        A vendor that may show a record late (Greenhouse) is asked once per batch instead of once per
        create; what it does not show yet stays `processing` for the scheduled confirmation.
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
        confirmed = confirm_visible(self.sessions, self.link.team_id, ids, actor=self.recorder.actor)
        self.recorder.count(ExportState.PROCESSING, -confirmed)
        self.recorder.count(ExportState.EXPORTED, confirmed)

    def send(self, item: Claimed) -> None:
        """Export one claimed candidate: look up, create or link, and record what happened."""
        recorder = self.recorder
        until = recorder.config.now() + timedelta(seconds=recorder.config.lease_seconds)
        with unit_of_work(self.sessions) as session:
            if not claims.renew(session, item.export_id, owner=recorder.worker_id, until=until):
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
                    recorder.in_ats(
                        item, ExportState.EXPORTED, "found in the ATS after an interrupted attempt", hit
                    )
                    return
                if hit is None and item.prior_unknown:
                    if self._still_settling(item):
                        return
                    if item.person is not None and not item.person.emails:
                        # Not in the ATS, and the addresses it was sent with are no longer valid.
                        recorder.record(item, ExportState.REACHOUT_ON_LINKEDIN, NO_EMAIL)
                        return
                item.existing = hit
            if item.existing is not None:
                if not self.link.include_ats_candidates and not item.prior_unknown:
                    recorder.in_ats(item, ExportState.EXCLUDED, "already in the ATS", item.existing)
                    return
                wrote = True
                self._link_existing(item)
                return
            wrote = True
            assert item.person is not None
            self._created(item, self.create(self.adapter, self.link, item.person))
        except AlreadyExists as exc:
            self._already_exists(item, exc)
        except NotFound as exc:
            if item.existing is not None and item.existing.matched[0] != "id":
                self._stale_mirror(item)
            else:
                self.stop = Stop(exc.user_message(), exc, pause_link=True)
                recorder.release_one(item, exc.user_message(), unknown=item.prior_unknown)
        except CONNECTION_ERRORS as exc:
            self.stop = Stop(exc.user_message(), exc)
            recorder.release_one(item, exc.user_message(), unknown=item.prior_unknown)
        except TRANSIENT_ERRORS as exc:
            self.stop = Stop(exc.user_message(), exc)
            recorder.retry_later(
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
            recorder.fail(item, exc.code, exc.user_message())
        except Exception:  # a bug with one candidate must not leave the rest of the batch claimed
            log.exception("export %s failed unexpectedly", item.export_id)
            self.stop = Stop("an internal error stopped the pass")
            recorder.retry_later(
                item,
                "internal_error",
                "ScaleUp hit an internal error; it will try again.",
                None,
                unknown=wrote or item.prior_unknown,
            )

    def _lookup(self, item: Claimed) -> MirrorHit | None:
        hit, learned = mirror.live_lookup(self.adapter, item.keys)
        if learned:
            with unit_of_work(self.sessions) as session:
                mirror.upsert(
                    session,
                    team_id=self.link.team_id,
                    connection_id=self.link.connection_id,
                    entries=learned,
                    seen_at=self.recorder.config.now(),
                )
        return hit

    def _still_settling(self, item: Claimed) -> bool:
        """Defer a look-up that may come too early to see the earlier attempt (delayed visibility)."""
        if not self.caps.delayed_visibility:
            return False
        with unit_of_work(self.sessions) as session:
            last_claim = session.scalar(
                select(ExportEvent.at)
                .where(ExportEvent.export_id == item.export_id, ExportEvent.to_state == ExportState.EXPORTING)
                .order_by(ExportEvent.id.desc())
                .offset(1)  # the claim this attempt made is the newest; the interrupted one is before it
                .limit(1)
            )
        config = self.recorder.config
        grace = timedelta(seconds=config.visibility_grace_seconds)
        if last_claim is None or config.now() - last_claim >= grace:
            return False
        self.recorder.release_one(
            item,
            "waiting for the ATS to show an earlier attempt",
            unknown=True,
            next_attempt_at=last_claim + grace,
        )
        return True

    def _link_existing(self, item: Claimed) -> None:
        existing = item.existing
        assert existing is not None
        link = self.link
        if not (self.caps.add_to_job and link.job_id):
            self.recorder.in_ats(
                item, ExportState.DUPLICATE, "already in the ATS; existing record linked", existing
            )
            return
        try:
            created = self.adapter.add_to_job(
                existing.ats_candidate_id,
                job_id=link.job_id,
                stage_id=link.stage_id,
                prospect=link.export_as == ExportAs.PROSPECT,
            )
            application_id, url = created.application_id, created.profile_url or existing.profile_url
        except AlreadyExists:
            application_id, url = None, existing.profile_url  # already on the job: nothing left to do
        self.recorder.in_ats(
            item,
            ExportState.DUPLICATE,
            "already in the ATS; existing record added to the job",
            existing,
            ats_application_id=application_id,
            ats_profile_url=url,
            **self.link.placement(),
        )

    def _created(self, item: Claimed, created: CreatedApplication) -> None:
        state = ExportState.EXPORTED if created.visible else ExportState.PROCESSING
        recorded = self.recorder.record(
            item,
            state,
            "created in the ATS",
            mirror_entries={key: (created.candidate_id, created.profile_url) for key in item.keys},
            ats_candidate_id=created.candidate_id,
            ats_application_id=created.application_id,
            ats_profile_url=created.profile_url,
            **self.link.placement(),
        )
        if recorded and state == ExportState.PROCESSING and self.caps.batch_visibility:
            self.unconfirmed.append((item.export_id, created.candidate_id))

    def _already_exists(self, item: Claimed, exc: AlreadyExists) -> None:
        hit = MirrorHit(exc.candidate_id, None, ("id", "")) if exc.candidate_id else self._lookup(item)
        if hit is None:
            self.recorder.fail(item, exc.code, exc.user_message())
            return
        item.existing, item.prior_unknown = hit, False
        if not self.link.include_ats_candidates:
            self.recorder.in_ats(item, ExportState.EXCLUDED, "already in the ATS", hit)
        else:
            self._link_existing(item)

    def _stale_mirror(self, item: Claimed) -> None:
        existing = item.existing
        assert existing is not None
        with unit_of_work(self.sessions) as session:
            mirror.forget(session, self.link.connection_id, existing.ats_candidate_id)
        self.recorder.release_one(
            item, "the ATS record the mirror named is gone; trying again", unknown=False
        )
