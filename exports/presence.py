"""Whether the ATS has a candidate, how we know, and what each link did with them.

The sourcing side asks this (through the ingest API) to leave people the ATS already has out of a search, or
to mark them: the dedupe mirror is matched on every address and the LinkedIn URL of the candidate, as an
export would, and the export records say whether the record is one we created or one that was there.
Nothing here calls the ATS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ats.registry import exclusion_only
from core.vocabulary import Vendor
from exports.eligibility import load_facts, lookup_keys
from exports.mirror import MirrorHit, first_hit, match_many
from storage.models import Export, Link, Search
from storage.repositories import ConnectionRepository
from storage.states import ExportState
from storage.sync_models import AtsRecord

#: One export of the candidate: state, ATS id and URL, search id and name, ATS activity.
Record = tuple[ExportState, str | None, str | None, str | None, str, "AtsActivity | None"]

#: Export states in which the ATS record is one this app created.
CREATED_BY_US = frozenset({ExportState.EXPORTED, ExportState.PROCESSING})


@dataclass(frozen=True)
class AtsActivity:
    """Where a record stands in the ATS now, as two-way sync last heard (`storage.sync_models.AtsRecord`).

    `kind` is "prospect" or "applicant"; `stage` None with `no_application` set: the vendor keeps no
    application for this prospect, so the ATS records no stage activity for them (say so, not nothing).
    """

    kind: str
    status: str
    stage: str | None
    reason: str | None
    updated_at: datetime | None
    record_url: str | None
    no_application: bool


@dataclass(frozen=True)
class LinkState:
    """Where a candidate stands on one linked search, and in the ATS for that search's job."""

    search_id: str | None
    search: str
    state: ExportState
    activity: AtsActivity | None = None


@dataclass(frozen=True)
class AtsPresence:
    """What the app knows of one candidate in the workspace's ATS.

    Attributes:
        in_ats: the ATS holds a record of them.
        matched_by: what found them: "email" or "linkedin" (the mirror of the ATS), "record" (only an export
            record names them), None when they are not in the ATS.
        exported_by_us: the record is one this app created (else it was there already).
        exclusion_only: the ATS only serves to leave people out (BambooHR): in it means "leave them out".
        links: the candidate's state on each linked search that holds a record of them.
    """

    vendor: Vendor | None
    in_ats: bool
    matched_by: str | None = None
    record_id: str | None = None
    record_url: str | None = None
    exported_by_us: bool = False
    exclusion_only: bool = False
    links: tuple[LinkState, ...] = ()

    @property
    def activity(self) -> AtsActivity | None:
        """Return the ATS activity of the record this app created, else of the first record it found."""
        ours = [s.activity for s in self.links if s.activity and s.state in CREATED_BY_US]
        known = [s.activity for s in self.links if s.activity]
        return (ours or known or [None])[0]


def presence(session: Session, team_id: str, candidate_ids: Sequence[int]) -> dict[int, AtsPresence]:
    """Return, by candidate id, what the workspace's ATS has of each candidate (two or three queries)."""
    ids = sorted(set(candidate_ids))
    connection = ConnectionRepository(session, team_id).get_current()
    if connection is None:
        return {cid: AtsPresence(vendor=None, in_ats=False) for cid in ids}
    facts = load_facts(session, team_id, ids)
    keys = {cid: lookup_keys(person, ()) for cid, person in facts.items()}
    hits = match_many(session, connection.id, [key for person_keys in keys.values() for key in person_keys])
    records: dict[int, list[Record]] = {}
    rows = session.execute(
        select(
            Export.candidate_id,
            Export.state,
            Export.ats_candidate_id,
            Export.ats_profile_url,
            Search.source_id,
            Search.name,
            AtsRecord,
        )
        .join(Link, Link.id == Export.link_id)
        .join(Search, Search.id == Link.search_id)
        .outerjoin(AtsRecord, AtsRecord.export_id == Export.id)
        .where(Export.team_id == team_id, Export.candidate_id.in_(ids), Link.connection_id == connection.id)
        .order_by(Export.id)
    )
    for candidate_id, state, ats_id, url, search_id, search, record in rows:
        activity = _activity(record) if record is not None else None
        records.setdefault(candidate_id, []).append(
            (ExportState(state), ats_id, url, search_id, search, activity)
        )
    only_excludes = exclusion_only(connection.vendor, connection.exclusion_only)
    found = {}
    for cid in ids:
        hit = first_hit(keys.get(cid, ()), hits)
        found[cid] = _presence(connection.vendor, only_excludes, hit, records.get(cid, []))
    return found


def _activity(record: AtsRecord) -> AtsActivity:
    return AtsActivity(
        kind="prospect" if record.prospect else "applicant",
        status=record.status,
        stage=record.stage,
        reason=record.reason,
        updated_at=record.activity_at or record.synced_at,
        record_url=record.record_url,
        no_application=record.prospect and record.ats_application_id is None,
    )


def _presence(
    vendor: Vendor,
    exclusion_only: bool,
    hit: MirrorHit | None,
    records: list[Record],
) -> AtsPresence:
    known = [(state, ats_id, url) for state, ats_id, url, _, _, _ in records if ats_id]
    ours = next(((ats_id, url) for state, ats_id, url in known if state in CREATED_BY_US), None)
    record_id, record_url = ours or (known[0][1:] if known else (None, None))
    if record_id is None and hit is not None:
        record_id, record_url = hit.ats_candidate_id, hit.profile_url
    matched_by = hit.matched[0] if hit is not None else ("record" if record_id else None)
    return AtsPresence(
        vendor=vendor,
        in_ats=record_id is not None,
        matched_by=matched_by,
        record_id=record_id,
        record_url=record_url or (hit.profile_url if hit is not None else None),
        exported_by_us=ours is not None,
        exclusion_only=exclusion_only,
        links=tuple(
            LinkState(sid, search, state, activity) for state, _, _, sid, search, activity in records
        ),
    )
