"""The rules of a candidate upsert, applied row after row in memory to the candidates a chunk can reach.

`ingest.matching` loads, in a few set-based queries, every stored candidate a chunk of records may match
(by source id, email or LinkedIn URL) with their emails, their membership of the search and their
responses. `Replay.upsert` then takes the records one by one, in order, and decides each exactly as if the
rows before it were already stored: a person met twice in one file is created by the first row and
updated by the second, an address moved by one row is found by its new owner in the next. Nothing is
written here; `ingest.bulk_write` stores what the replay changed, in bulk.

The rules (what `upsert` decides for one record):
- Match by the source's id, else by each of the record's emails in preference order, else by its LinkedIn
  URL; when several candidates hold the address or URL, the one with the lowest id. A match by email or URL
  whose source id differs from the record's is refused (`Conflict`) before anything of the row is kept.
- A new person is created with every value given; a match gets each non-empty value that differs. Empty
  cells never erase.
- Each given email type gets the given address (an address of that type that differs is dropped); an
  address the candidate already holds under another type changes type.
- The candidate joins the search; the row's campaign is created on first sight and its response recorded
  once (campaign, candidate, type).
- Outcome: created; updated when a value, an email, the search or a response changed; else unchanged.
  The candidate "changed" (handed to `on_changed` after the commit: the export engine, and two-way sync for
  people already exported) when created, when an email, the search or a response arrived, or when a
  contact detail the ATS record carries changed (name, LinkedIn URL, phone) — a new title alone is no news.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from operator import attrgetter
from typing import Any

from core.vocabulary import EmailType
from ingest.records import CandidateIn
from ingest.results import Conflict, Outcome

#: Candidate columns a record may set, in the order they are loaded and written.
FIELDS = ("source_id", "first_name", "last_name", "linkedin_url", "title", "company", "location", "phone")
SOURCE, LINKEDIN = 0, 3  # their positions in FIELDS
#: The fields two-way sync writes to the ATS record of an exported candidate (`sync.contact`): a change of
#: one of them hands the candidate to `on_changed`, as a new address does.
CONTACT_FIELDS = frozenset(
    FIELDS.index(name) for name in ("first_name", "last_name", "linkedin_url", "phone")
)
_fields_of = attrgetter(*FIELDS)
#: Provisional ids of the chunk's new candidates: above every stored id, in the order they are created.
NEW_IDS = 1 << 62

_EMAIL_TYPES = tuple(EmailType)  # preference order (iterating the enum itself is slow)

#: Finds or creates the search's campaign called NAME; returns its id.
CampaignOf = Callable[[str], int]


class Mail:
    """One email of a candidate: stored (`id`) or new in this chunk (`id` None)."""

    __slots__ = ("address", "dirty", "id", "live", "type", "valid", "wrong")

    def __init__(
        self, id_: int | None, address: str, type_: EmailType, valid: bool, wrong: bool = False
    ) -> None:
        self.id, self.address, self.type, self.valid = id_, address, type_, valid
        self.wrong = wrong  # marked wrong in Slack: kept (so the mark is), never valid again
        self.dirty = False  # a stored email whose type or validity changed
        self.live = True  # False once dropped


class Person:
    """A candidate as the chunk sees it: stored (loaded) or created by one of its rows."""

    __slots__ = ("emails", "fields_changed", "id", "in_search", "new", "responses", "values")

    def __init__(self, id_: int, values: list[Any], *, new: bool, in_search: bool = False) -> None:
        self.id = id_
        self.values = values  # FIELDS, in order
        self.emails: list[Mail] = []
        self.new = new
        self.fields_changed = False
        self.in_search = in_search
        self.responses: set[tuple[int, str]] = set()  # (campaign id, type)

    @property
    def source_id(self) -> str | None:
        """Return the source's id of the candidate."""
        return self.values[SOURCE]


class Replay:
    """Decides a chunk's records in order against the candidates `ingest.matching` loaded."""

    def __init__(self, people: Iterable[Person], campaign_of: CampaignOf) -> None:
        self.campaign_of = campaign_of
        self.by_source: dict[str, Person] = {}
        self.by_email: dict[str, list[Person]] = {}
        self.by_linkedin: dict[str, list[Person]] = {}
        for person in people:
            self._hold(person)
        self.created: list[Person] = []
        self.updated: dict[int, Person] = {}  # stored candidates whose values changed, by id
        self.dirty_mails: list[Mail] = []
        self.new_mails: list[tuple[Person, Mail]] = []  # in the order they arrived
        self.dropped_mails: list[int] = []  # ids of stored emails to delete
        self.joined: list[Person] = []  # new memberships of the search, in order
        self.new_responses: list[tuple[int, Person, str]] = []
        self.changed: dict[int, Person] = {}  # handed to `on_changed`, by id() (new ones have no id yet)

    def upsert(self, record: CandidateIn) -> tuple[Outcome, Person]:
        """Create or update the candidate `record` describes; return what happened and the candidate.

        Raises:
            Conflict: an email or the LinkedIn URL belongs to a candidate with another source id (the
                record leaves nothing behind).
        """
        emails = record.typed()
        pairs = distinct(emails)
        person = self._match(record, pairs)
        if person is None:
            person = self._create(record, pairs)
            self._campaign_of_row(person, record)
            self.changed[id(person)] = person
            return Outcome.CREATED, person
        fields_changed, contact_changed = self._assign(person, record)
        arrived = self._apply_emails(person, emails, pairs)
        arrived |= self._join(person)
        arrived |= self._campaign_of_row(person, record)
        if arrived or contact_changed:
            self.changed[id(person)] = person
        return (Outcome.UPDATED if arrived or fields_changed else Outcome.UNCHANGED), person

    # -- matching ---------------------------------------------------------------------------------------

    def _match(self, record: CandidateIn, pairs: list[tuple[EmailType, str]]) -> Person | None:
        source = record.source_id
        if source:
            found = self.by_source.get(source)
            if found is not None:
                return found
        keys: list[tuple[str, str, dict[str, list[Person]]]] = [
            ("email", address, self.by_email) for _, address in pairs
        ]
        if record.linkedin_url:
            keys.append(("linkedin_url", record.linkedin_url, self.by_linkedin))
        for kind, value, holders in keys:
            owners = holders.get(value)
            if not owners:
                continue
            found = min(owners, key=_by_id)
            if source and found.source_id not in (None, source):
                raise Conflict(
                    "source_id",
                    f"the {kind} {value} belongs to the candidate with id {found.source_id!r}, not {source!r}",
                )
            return found
        return None

    def _hold(self, person: Person) -> None:
        """Index a candidate under every key it holds."""
        if person.values[SOURCE]:
            self.by_source[person.values[SOURCE]] = person
        if person.values[LINKEDIN]:
            self.by_linkedin.setdefault(person.values[LINKEDIN], []).append(person)
        for mail in person.emails:
            self.by_email.setdefault(mail.address, []).append(person)

    # -- changes ----------------------------------------------------------------------------------------

    def _create(self, record: CandidateIn, pairs: list[tuple[EmailType, str]]) -> Person:
        values = list(_fields_of(record))
        values[2] = values[2] or ""  # last_name is never NULL
        person = Person(NEW_IDS + len(self.created), values, new=True)
        person.emails = [Mail(None, address, type_, True) for type_, address in pairs]
        self.new_mails.extend((person, mail) for mail in person.emails)
        self.created.append(person)
        self._hold(person)
        self._join(person)
        return person

    def _assign(self, person: Person, record: CandidateIn) -> tuple[bool, bool]:
        """Set the record's given fields; return whether any changed and whether a contact field did."""
        changed = contact = False
        values = person.values
        for position, value in enumerate(_fields_of(record)):
            if value is None or values[position] == value:
                continue
            if position == SOURCE:  # only ever set where there was none: a matched source id is equal
                self.by_source[value] = person
            elif position == LINKEDIN:
                if values[position]:
                    self.by_linkedin[values[position]].remove(person)
                self.by_linkedin.setdefault(value, []).append(person)
            values[position] = value
            changed = True
            contact |= position in CONTACT_FIELDS
        if changed and not person.new:
            person.fields_changed = True
            self.updated[person.id] = person
        return changed, contact

    def _apply_emails(
        self, person: Person, emails: Mapping[EmailType, str], pairs: list[tuple[EmailType, str]]
    ) -> bool:
        """Make each given address the candidate's one email of its type; return True when any changed."""
        stale = [m for m in person.emails if m.type in emails and m.address != emails[m.type] and not m.wrong]
        for mail in stale:
            person.emails.remove(mail)
            self.by_email[mail.address].remove(person)
            mail.live = False
            if mail.id is not None:
                self.dropped_mails.append(mail.id)
        changed = bool(stale)
        for type_, address in pairs:
            existing = next((m for m in person.emails if m.address == address), None)
            if existing is None:
                mail = Mail(None, address, type_, True)
                person.emails.append(mail)
                self.new_mails.append((person, mail))
                self.by_email.setdefault(address, []).append(person)
                changed = True
            elif not existing.wrong and (existing.type != type_ or not existing.valid):
                existing.type, existing.valid = type_, True
                if existing.id is not None and not existing.dirty:
                    existing.dirty = True
                    self.dirty_mails.append(existing)
                changed = True
        return changed

    def _join(self, person: Person) -> bool:
        if person.in_search:
            return False
        person.in_search = True
        self.joined.append(person)
        return True

    def _campaign_of_row(self, person: Person, record: CandidateIn) -> bool:
        """Record the row's campaign and response, if any; return True when the response is new."""
        if not record.campaign:
            return False
        campaign_id = self.campaign_of(record.campaign)
        if record.response is None or (campaign_id, record.response) in person.responses:
            return False
        person.responses.add((campaign_id, record.response))
        self.new_responses.append((campaign_id, person, record.response))
        return True


def distinct(emails: Mapping[EmailType, str | None]) -> list[tuple[EmailType, str]]:
    """Return (type, address) pairs in preference order, each address once (the first type wins)."""
    seen: set[str] = set()
    pairs = []
    for type_ in _EMAIL_TYPES:
        address = emails.get(type_)
        if address and address not in seen:
            seen.add(address)
            pairs.append((type_, address))
    return pairs


def _by_id(person: Person) -> int:
    return person.id
