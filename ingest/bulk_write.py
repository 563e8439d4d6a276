"""Store what a chunk's replay changed, a statement per kind of change instead of one per row.

New candidates get their ids first (from the table's own sequence on PostgreSQL; SQLite's next rowids,
under the write lock) in the order the rows created them, so ids follow the file as they did row by row.
Then, in the unit of work's transaction: dropped emails are deleted (before anything is inserted, so an
address moving between types never meets its old row), changed emails and candidates updated, and new
candidates, emails, memberships and responses inserted (COPY on PostgreSQL, executemany on SQLite).
A row is only written when something in it changed, so `updated_at` moves only then, as the ORM did.
"""

from __future__ import annotations

from datetime import datetime

from ingest.bulk_sql import BulkSql
from ingest.replay import FIELDS, Replay
from storage.models import CampaignResponse, Candidate, CandidateEmail, SearchCandidate

_CANDIDATE = Candidate.__table__
_EMAIL = CandidateEmail.__table__
_MEMBER = SearchCandidate.__table__
_RESPONSE = CampaignResponse.__table__


def write(sql: BulkSql, team_id: str, search_id: int, replay: Replay, now: datetime) -> None:
    """Store the replay's changes; give its new candidates their ids."""
    for person, new_id in zip(replay.created, sql.new_ids(_CANDIDATE, len(replay.created)), strict=True):
        person.id = new_id
    # By id, a statement per row (one executemany): a plan that stays an index search however many.
    sql.run_many(
        "DELETE FROM candidate_email WHERE id = %s", [(mail_id,) for mail_id in replay.dropped_mails]
    )
    stamp = sql.stored(_CANDIDATE, "updated_at", now)
    valid = sql.stored(_EMAIL, "valid", True)
    sql.run_many(
        "UPDATE candidate_email SET type = %s, valid = %s, updated_at = %s WHERE id = %s",
        [(str(m.type), valid, stamp, m.id) for m in replay.dirty_mails if m.live],
    )
    assignments = ", ".join(f"{name} = %s" for name in FIELDS)
    sql.run_many(
        f"UPDATE candidate SET {assignments}, updated_at = %s WHERE id = %s",
        [(*p.values, stamp, p.id) for p in replay.updated.values()],
    )
    if replay.created:
        sql.insert(
            _CANDIDATE,
            ("id", "team_id", *FIELDS, "created_at", "updated_at"),
            ((p.id, team_id, *p.values, stamp, stamp) for p in replay.created),
        )
    if replay.new_mails:
        sql.insert(
            _EMAIL,
            ("team_id", "candidate_id", "address", "type", "valid", "created_at", "updated_at"),
            (
                (team_id, p.id, m.address, str(m.type), valid, stamp, stamp)
                for p, m in replay.new_mails
                if m.live
            ),
        )
    if replay.joined:
        sql.insert(
            _MEMBER,
            ("team_id", "search_id", "candidate_id", "added_at"),
            ((team_id, search_id, p.id, stamp) for p in replay.joined),
        )
    if replay.new_responses:
        sql.insert(
            _RESPONSE,
            ("team_id", "campaign_id", "candidate_id", "type", "received_at"),
            (
                (team_id, campaign_id, p.id, str(type_), stamp)
                for campaign_id, p, type_ in replay.new_responses
            ),
        )
