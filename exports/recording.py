"""Record what happened to a claimed candidate: the last step of claim → send → record.

Each outcome is written in a transaction of its own, after the ATS call, and only by the worker whose lease
still holds the candidate: a worker whose lease ran out and was taken over writes nothing (the new owner looks
the candidate up in the ATS before acting). Recruiters hear of the outcomes through the pass's alerts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ats.types import NewCandidate
from exports import mirror
from exports.alerts import PassAlerts
from exports.links import LinkSnapshot
from exports.mirror import Key, MirrorHit
from exports.types import EngineConfig
from storage.ats_records import AtsRecordRepository
from storage.contact_records import SentContact
from storage.db import unit_of_work
from storage.enums import ExportAs
from storage.export_repository import ExportRepository
from storage.models import Export
from storage.runs import RunRepository
from storage.states import CREATED_STATES, ExportState

log = logging.getLogger(__name__)

NO_EMAIL = "no valid email of the link's types"


@dataclass
class Claimed:
    """One claimed candidate and what to do with it once the claim is committed.

    Attributes:
        keys: every address and LinkedIn URL the candidate is known by, for look-ups in the ATS.
        prior_unknown: an earlier attempt may have reached the ATS; look the candidate up before creating.
        person: what to create, when the candidate is to be created.
        existing: the ATS record the candidate is, when one is known.
    """

    export_id: int
    candidate_id: int
    name: str
    keys: tuple[Key, ...]
    prior_unknown: bool
    person: NewCandidate | None = None
    existing: MirrorHit | None = None


@dataclass
class Recorder:
    """Writes the outcomes of one pass (or one manual export) of a link, and counts them.

    Attributes:
        counts: outcomes recorded, per state (`pending` aside: see `retrying` and `released`).
        retrying: candidates put back in line after a transient failure.
        released: candidates given back untouched (the pass stopped, or another attempt must settle first).
    """

    sessions: sessionmaker[Session]
    link: LinkSnapshot
    config: EngineConfig
    worker_id: str
    actor: str
    alerts: PassAlerts
    counts: dict[ExportState, int] = field(default_factory=dict)
    retrying: int = 0
    released: int = 0

    def settle(
        self,
        repo: ExportRepository,
        export: Export,
        name: str,
        state: ExportState,
        reason: str,
        hit: MirrorHit | None = None,
    ) -> None:
        """Settle a candidate while claiming it, in the claim's transaction (no ATS call was needed)."""
        changes = {}
        if hit is not None:
            changes = {"ats_candidate_id": hit.ats_candidate_id, "ats_profile_url": hit.profile_url}
        repo.transition(export, state, actor=self.actor, reason=reason, run_id=self.run_id, **changes)
        self.count(state)
        self._alert(export, name)

    @property
    def run_id(self) -> str:
        """Return the id of this pass or manual export (its alerts' id), recorded with every change."""
        return self.alerts.pass_id

    def count(self, state: ExportState, by: int = 1) -> None:
        """Count `by` more outcomes of `state` (negative: moved on to another state since)."""
        self.counts[state] = self.counts.get(state, 0) + by

    def record(
        self,
        item: Claimed,
        state: ExportState,
        reason: str,
        *,
        mirror_entries: dict[Key, tuple[str, str | None]] | None = None,
        **changes: object,
    ) -> bool:
        """Write the outcome of a sent candidate, unless our lease was taken over; return True if written.

        Args:
            mirror_entries: what the ATS now holds under the candidate's keys (a create), remembered in the
                dedupe mirror in the same transaction.
            changes: columns of the export to set with the state (`outcome_unknown` included).
        """
        with unit_of_work(self.sessions) as session:
            export = session.scalars(
                select(Export).where(Export.id == item.export_id).with_for_update()
            ).one()
            if export.state != ExportState.EXPORTING or export.lease_owner != self.worker_id:
                # Our lease expired and another worker took the candidate over; it looks up before acting.
                log.warning(
                    "export %s was taken over by %s; outcome not recorded here", export.id, export.lease_owner
                )
                return False
            unknown = bool(changes.pop("outcome_unknown", False))
            ExportRepository(session, self.link.team_id).transition(
                export,
                state,
                actor=self.actor,
                reason=reason,
                run_id=self.run_id,
                lease_owner=None,
                lease_expires_at=None,
                outcome_unknown=unknown,
                **changes,
            )
            if export.run_id == self.run_id and state in CREATED_STATES:
                RunRepository(session, self.link.team_id).note_created(
                    self.run_id, link_id=self.link.id, actor=self.actor
                )
            if state in CREATED_STATES or state == ExportState.DUPLICATE:
                link = self.link  # where the record went: two-way sync reads it back from there
                prospect = link.export_as == ExportAs.PROSPECT
                AtsRecordRepository(session, link.team_id).placed(
                    export, stage=link.stage_name, prospect=prospect, sent=sent_contact(item, state)
                )
            if mirror_entries:
                mirror.upsert(
                    session,
                    team_id=self.link.team_id,
                    connection_id=self.link.connection_id,
                    entries=mirror_entries,
                    seen_at=self.config.now(),
                )
            self._alert(export, item.name)
            self.alerts.flush(session)
        if state != ExportState.PENDING:
            self.count(state)
        return True

    def in_ats(
        self, item: Claimed, state: ExportState, reason: str, hit: MirrorHit, **changes: object
    ) -> None:
        """Record that the candidate is the ATS record `hit` (exported, linked or excluded)."""
        self.record(
            item,
            state,
            reason,
            ats_candidate_id=hit.ats_candidate_id,
            ats_profile_url=changes.pop("ats_profile_url", hit.profile_url),
            **changes,
        )

    def fail(self, item: Claimed, code: str, message: str) -> None:
        """Record a permanent failure; the recruiter sees `message` and may press Retry."""
        self.record(item, ExportState.FAILED, message, last_error_code=code, last_error_message=message)

    def retry_later(
        self,
        item: Claimed,
        code: str,
        message: str,
        retry_after: float | None,
        *,
        unknown: bool,
        counts: bool = True,
    ) -> None:
        """Put the candidate back in line after a transient failure, or fail it once its attempts ran out.

        Args:
            unknown: the failed attempt may have reached the ATS (look up before the next create).
            counts: the attempt counts towards `max_attempts` (a 429 does not: the vendor asked us to wait).
        """
        with unit_of_work(self.sessions) as session:
            attempts = session.scalar(select(Export.attempts).where(Export.id == item.export_id)) or 0
        attempts += int(counts)
        if counts and attempts >= self.config.max_attempts:
            self.record(
                item,
                ExportState.FAILED,
                f"gave up after {attempts} attempts: {message}",
                attempts=attempts,
                last_error_code=code,
                last_error_message=message,
                outcome_unknown=unknown,
            )
            return
        delay = self.config.backoff(max(attempts, 1), retry_after)
        if self.record(
            item,
            ExportState.PENDING,
            f"will retry: {message}",
            attempts=attempts,
            outcome_unknown=unknown,
            next_attempt_at=self.config.now() + timedelta(seconds=delay),
            last_error_code=code,
            last_error_message=message,
        ):
            self.retrying += 1

    def release_one(
        self, item: Claimed, reason: str, *, unknown: bool, next_attempt_at: datetime | None = None
    ) -> None:
        """Give one claimed candidate back untouched."""
        if self.record(
            item, ExportState.PENDING, reason, outcome_unknown=unknown, next_attempt_at=next_attempt_at
        ):
            self.released += 1

    def release(self, items: Sequence[Claimed], reason: str) -> None:
        """Put claimed candidates that were not sent back in line, as they were before the claim."""
        for item in items:
            self.release_one(item, f"released: {reason}", unknown=item.prior_unknown)

    def _alert(self, export: Export, name: str) -> None:
        self.alerts.outcome(
            export.state,
            export.candidate_id,
            export_id=export.id,
            name=name,
            code=export.last_error_code if export.state == ExportState.FAILED else None,
            message=export.last_error_message if export.state == ExportState.FAILED else None,
            ats_candidate_id=export.ats_candidate_id,
        )


def sent_contact(item: Claimed, state: ExportState) -> SentContact | None:
    """Return what a create sent (the baseline of corrected contact details out); None for a record the
    app found rather than created, whose details are the ATS's own."""
    person = item.person
    if state not in CREATED_STATES or person is None:
        return None
    return SentContact(
        first_name=person.first_name,
        last_name=person.last_name,
        phone=person.phone,
        linkedin_url=person.linkedin_url,
        emails=tuple(e.address.lower() for e in person.emails),
        confirmed=False,
    )
