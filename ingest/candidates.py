"""Upsert a chunk of candidate records into a search, set-based: the one path of the import, the ingest API
and the Slack forms that add a person.

Load what the chunk can match (`ingest.matching`), decide every record in order in memory
(`ingest.replay`), then store the changes with a statement per kind (`ingest.bulk_write`). The results are
those of storing the records one at a time: per record, created / updated / unchanged or the reason it was
refused (a refused record leaves nothing behind), and the candidates to hand to `on_changed`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ingest.bulk_sql import BulkSql
from ingest.bulk_write import write
from ingest.catalog import Catalog
from ingest.matching import reachable
from ingest.records import CandidateIn
from ingest.replay import Person, Replay
from ingest.results import IngestError, Outcome
from storage.base import utcnow
from storage.models import Search


@dataclass(frozen=True)
class ChunkResult:
    """What storing a chunk did: per record, in order, its outcome or why it was refused (a refused record
    left nothing behind) and its candidate's id (None when refused); the ids of the candidates that changed.
    """

    outcomes: list[Outcome | IngestError]
    candidate_ids: list[int | None]
    changed: set[int]


def store_candidates(
    session: Session, team_id: str, search: Search, records: Sequence[CandidateIn], catalog: Catalog
) -> ChunkResult:
    """Create or update the candidates `records` describe and put them in `search` (never commits)."""
    if not records:
        return ChunkResult([], [], set())
    sql = BulkSql(session)
    people = reachable(sql, team_id, search.id, records, responses=any(r.campaign for r in records))

    def campaign_of(name: str) -> int:
        return catalog.settle_campaign(search, catalog.find_campaign(search, name, None), name, None).id

    replay = Replay(people, campaign_of)
    outcomes: list[Outcome | IngestError] = []
    persons: list[Person | None] = []
    for record in records:
        try:
            outcome, person = replay.upsert(record)
        except IngestError as exc:  # raised before the record changed anything
            outcomes.append(exc)
            persons.append(None)
            continue
        outcomes.append(outcome)
        persons.append(person)
    if any(person is not None for person in persons):  # some record was accepted
        write(sql, team_id, search.id, replay, utcnow())
    ids = [None if p is None else p.id for p in persons]  # new candidates have their ids once written
    return ChunkResult(outcomes, ids, {p.id for p in replay.changed.values()})
