"""Corrected contact details out: when a candidate's email, phone, name or LinkedIn URL changes after their
export, the change is written to the ATS record this app created, once.

Called with the candidates an ingest changed (the API or `scaleup import`, through `bot.changes`), after the
Add email button, and after Wrong contact. Each record is read first (`AtsAdapter.read_contact`) and compared
with what the app last sent it (`ats_record.contact_sent`): a change someone made in the ATS since wins
(`sync.contact_plan`). The writes go through the connection's adapter from `adapter_for`
(`ExportEngine.adapter_for`: the same adapter, and so the same shared rate budget, as the exports). A record
deleted or merged in the ATS is reported once and never recreated. Every outcome is recorded for the
candidate's history, and the link's channel hears of it in one digest per push, without the values. A big
change (a whole file) is left out, as its exports are left to the worker: corrections come a few at a time.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy.orm import Session, sessionmaker

from ats.base import AtsAdapter
from ats.errors import AtsError, NotFound
from core.errors import ScaleUpError
from core.vocabulary import Vendor
from storage.base import utcnow
from storage.db import unit_of_work
from sync import contact_store
from sync.contact_plan import Action, Field, baseline, plan
from sync.contact_store import Target

log = logging.getLogger(__name__)

#: Changes of at most this many candidates are pushed at once (the export-at-once bound of `exports.changes`).
PUSH_AT_ONCE_LIMIT = 25


@dataclass(frozen=True)
class RecordPush:
    """What one push did to one ATS record (field names and actions, never values).

    Attributes:
        gone: `deleted` or `merged` when the record is no longer in the ATS.
        kept: addresses marked wrong the ATS holds that the app did not add (left to the ATS's users).
        failed: the error code when the ATS refused or did not answer (nothing recorded; the next change
            tries again).
    """

    candidate_id: int
    export_id: int
    link_id: int
    vendor: Vendor
    record_url: str | None
    outcomes: tuple[tuple[Field, Action], ...] = ()
    gone: str | None = None
    kept: int = 0
    failed: str | None = None

    def did(self, action: Action) -> bool:
        """Return True when the push did `action` to some field of the record."""
        return any(a is action for _, a in self.outcomes)


@dataclass(frozen=True)
class PushReport:
    """What one `push_contacts` call did, record by record; `counts` per outcome."""

    records: tuple[RecordPush, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def written(self) -> int:
        """Return how many records were written to."""
        return sum(any(a.wrote for _, a in r.outcomes) for r in self.records)


def push_contacts(
    sessions: sessionmaker[Session],
    adapter_for: Callable[[int], AtsAdapter],
    team_id: str,
    candidate_ids: Sequence[int],
    *,
    limit: int = PUSH_AT_ONCE_LIMIT,
    actor: str = "ingest",
) -> PushReport:
    """Bring the records this app created for the changed candidates up to date; return what it did.

    Errors are logged (their codes, never a value) and never raised: the data is stored either way.
    `actor` is recorded with each outcome (`ingest`, `slack:U…`).
    """
    ids = sorted(set(candidate_ids))
    if not ids or len(ids) > limit:
        return PushReport()
    with unit_of_work(sessions) as session:
        found = contact_store.targets(session, team_id, ids)
    done = []
    for target in found:
        try:
            adapter = adapter_for(target.connection_id)
        except ScaleUpError as exc:  # the connection was removed since: nothing to push to
            log.info("contact push skipped for export %s: %s", target.export_id, type(exc).__name__)
            continue
        if adapter.capabilities.contact_update:
            done.append(_push_one(sessions, adapter, team_id, target, actor))
    _tell(sessions, team_id, done)
    counts: Counter[str] = Counter()
    for record in done:
        counts.update(a.value for _, a in record.outcomes)
        counts.update(
            ["failed"] * bool(record.failed) + ["unchanged"] * (not (record.outcomes or record.failed))
        )
    return PushReport(tuple(done), dict(counts))


def _push_one(
    sessions: sessionmaker[Session], adapter: AtsAdapter, team_id: str, target: Target, actor: str
) -> RecordPush:
    """Read the record, write what changed on our side only, and store the outcome."""
    result = RecordPush(
        target.candidate_id, target.export_id, target.link_id, target.vendor, target.record_url
    )
    try:
        current = adapter.read_contact(target.ats_candidate_id)
        if current.merged_into:
            return _gone(sessions, team_id, target, result, "merged", actor)
        base = baseline(target.sent, current, target.wanted, target.known)
        caps = adapter.capabilities
        decided = plan(
            base,
            current,
            target.wanted,
            caps.contact_fields,
            target.told,
            single_email=not caps.multiple_emails,
        )
        if not decided.patch.empty:
            adapter.update_contact(target.ats_candidate_id, decided.patch, current=current)
    except NotFound:
        return _gone(sessions, team_id, target, result, "deleted", actor)
    except AtsError as exc:
        log.info("contact details of export %s not pushed: %s", target.export_id, exc.code)
        return replace(result, failed=exc.code)
    with unit_of_work(sessions) as session:
        contact_store.save(
            session,
            team_id,
            target,
            sent=decided.sent,
            told=decided.told,
            outcomes=decided.outcomes,
            actor=actor,
            now=utcnow(),
        )
    return replace(result, outcomes=decided.outcomes, kept=len(decided.kept))


def _gone(
    sessions: sessionmaker[Session], team_id: str, target: Target, result: RecordPush, how: str, actor: str
) -> RecordPush:
    """Mark the record gone (never pushed to or recreated again) and record it for the history."""
    outcomes = ((Field.RECORD, Action.RECORD_GONE),)
    with unit_of_work(sessions) as session:
        contact_store.save(
            session,
            team_id,
            target,
            sent=None,
            told=None,
            outcomes=outcomes,
            actor=actor,
            now=utcnow(),
            gone=how,
        )
    return replace(result, outcomes=outcomes, gone=how)


def _tell(sessions: sessionmaker[Session], team_id: str, done: list[RecordPush]) -> None:
    """Write one digest per link of what this push did that a channel should hear of."""
    by_link: dict[int, list[RecordPush]] = {}
    for record in done:
        if record.outcomes:
            by_link.setdefault(record.link_id, []).append(record)
    if not by_link:
        return
    with unit_of_work(sessions) as session:
        for link_id, records in by_link.items():
            entries: list[dict[str, object]] = [
                {
                    "candidate_id": r.candidate_id,
                    "export_id": r.export_id,
                    "message": contact_store.digest_line(r.vendor, r.outcomes, r.gone),
                }
                for r in records
            ]
            tally = contact_store.tally_of([(r.outcomes, r.gone) for r in records])
            contact_store.raise_digest(session, team_id, link_id, entries, tally)
