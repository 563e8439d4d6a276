"""Load, in a few set-based queries, every stored candidate a chunk of records can match.

A record is matched by its source id first; only when no stored candidate has it do its emails and
LinkedIn URL count (`ingest.replay`). So the chunk's source ids are looked up at once, then the emails and
URLs of the records whose source id was not found (or who have none), then everything the replay needs of
the candidates found: their emails, whether they are in the search, and their responses. Source ids are
never taken from a candidate, so a record matched here by its source id is matched by it whatever the rows
before it in the chunk do; the others are decided in memory against these candidates and the chunk's own.
Each look-up is an index search per key (`BulkSql.lookup`: a LATERAL search per value on PostgreSQL, an IN
list read from `json_each` on SQLite), whatever the size of the workspace and its statistics.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import Any

from core.vocabulary import EmailType
from ingest.bulk_sql import BulkSql
from ingest.records import EMAIL_FIELDS, CandidateIn
from ingest.replay import FIELDS, Mail, Person

_COLUMNS = "id, " + ", ".join(FIELDS)
_TEAM = " AND team_id = %s"
_emails_of = attrgetter(*EMAIL_FIELDS)


def reachable(
    sql: BulkSql, team_id: str, search_id: int, records: Sequence[CandidateIn], *, responses: bool
) -> list[Person]:
    """Return the stored candidates `records` may match, with their emails, membership and (if asked)
    responses."""
    people: dict[int, Person] = {}
    sources = {r.source_id for r in records if r.source_id}
    found: set[str] = set()
    if sources:
        for row in sql.lookup(_COLUMNS, "candidate", "source_id", sources, _TEAM, team_id):
            people[row[0]] = _person(row)
            found.add(row[1])
    addresses: set[str] = set()
    urls: set[str] = set()
    for record in records:
        if record.source_id not in found:
            addresses.update(_emails_of(record))
            if record.linkedin_url:
                urls.add(record.linkedin_url)
    addresses.discard(None)
    owners: set[int] = set()
    if addresses:
        found_owners = sql.lookup("candidate_id", "candidate_email", "address", addresses, _TEAM, team_id)
        owners.update(candidate_id for (candidate_id,) in found_owners)
    if urls:
        for row in sql.lookup(_COLUMNS, "candidate", "linkedin_url", urls, _TEAM, team_id):
            people.setdefault(row[0], _person(row))
    missing = owners - people.keys()
    if missing:
        for row in sql.lookup(_COLUMNS, "candidate", "id", missing, _TEAM, team_id):
            people[row[0]] = _person(row)
    if people:
        _complete(sql, search_id, people, responses=responses)
    return list(people.values())


def _person(row: tuple[Any, ...]) -> Person:
    return Person(int(row[0]), list(row[1:]), new=False)


def _complete(sql: BulkSql, search_id: int, people: dict[int, Person], *, responses: bool) -> None:
    """Load the candidates' emails (in id order), membership of the search and responses.

    The candidates are the workspace's (found above by team), so their rows are read by candidate alone:
    with `team_id` in the condition SQLite may read them by the (team, address) index, that is, scan every
    address of the workspace (`storage.statistics`).
    """
    ids = people.keys()
    mails = sql.lookup(
        "id, candidate_id, address, type, valid, wrong_at IS NOT NULL", "candidate_email", "candidate_id", ids
    )
    for mail_id, candidate_id, address, type_, valid, wrong in sorted(
        mails
    ):  # by id: the order they were added
        people[candidate_id].emails.append(Mail(mail_id, address, EmailType(type_), bool(valid), bool(wrong)))
    members = sql.lookup(
        "candidate_id", "search_candidate", "candidate_id", ids, " AND search_id = %s", search_id
    )
    for (candidate_id,) in members:
        people[candidate_id].in_search = True
    if responses:
        given = sql.lookup("campaign_id, candidate_id, type", "campaign_response", "candidate_id", ids)
        for campaign_id, candidate_id, type_ in given:
            people[candidate_id].responses.add((campaign_id, type_))
