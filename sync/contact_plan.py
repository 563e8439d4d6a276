"""What one push of corrected contact details does to one ATS record: a pure function of three views of the
person — what the app last sent (the baseline), what the ATS holds now, what the candidate is now.

For each field the candidate changed since the baseline: the ATS still holds the baseline (or nothing), so
the change is written; the ATS holds the new value already, so only the baseline moves; or someone changed
the field in the ATS since, so the ATS wins: nothing is written and the conflict is told once while it
lasts. Addresses are only ever added, except one the app added and someone marked wrong, which is removed
where the vendor's API can (`ContactField.REMOVE_EMAIL`) and otherwise told to remove by hand, once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TypeVar

from ats.types import ContactDetails, ContactField, ContactPatch, EmailAddress
from ats.values import phone_digits
from core.contacts import normalize_linkedin_url
from storage.contact_records import SentContact

T = TypeVar("T")

#: The `told` entry of a record whose vendor keeps one address, so a new one was not added (told once).
ONE_ADDRESS_TOLD = "email_one"


class Field(StrEnum):
    """What an outcome is about (history and digests name fields, never values)."""

    NAME = "name"
    EMAIL = "email"
    PHONE = "phone"
    LINKEDIN = "linkedin"
    RECORD = "record"  # the record itself (gone)


class Action(StrEnum):
    """What a push did about one field of one record."""

    ADDED = "added"
    REMOVED = "removed"
    UPDATED = "updated"
    CONFLICT = "conflict"  # changed in the ATS since the export: theirs kept, nothing written
    NOT_SUPPORTED = "not_supported"  # an address marked wrong the vendor's API cannot remove
    RECORD_GONE = "record_gone"  # deleted or merged in the ATS: reported, never recreated
    ONE_ADDRESS = "one_address"  # the vendor keeps one address per person and the record has one: not added

    @property
    def wrote(self) -> bool:
        """Return True for the actions that changed the ATS record."""
        return self in (Action.ADDED, Action.REMOVED, Action.UPDATED)


@dataclass(frozen=True)
class Wanted:
    """The candidate as ScaleUp has them now.

    Attributes:
        emails: the valid addresses the record's link exports, preferred first.
        wrong: every address of the candidate someone marked wrong.
    """

    first_name: str | None
    last_name: str | None
    phone: str | None
    linkedin_url: str | None
    emails: tuple[EmailAddress, ...]
    wrong: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    """What to write to one record, what it means, and the baseline once it is written.

    Attributes:
        kept: addresses marked wrong the ATS holds but the app did not add there (theirs to keep).
        told: the fields in conflict the channel has been told of, this push's included.
    """

    patch: ContactPatch
    outcomes: tuple[tuple[Field, Action], ...]
    sent: SentContact
    told: frozenset[str]
    kept: tuple[str, ...] = ()


def baseline(
    stored: SentContact | None, current: ContactDetails, wanted: Wanted, known: Iterable[str]
) -> SentContact:
    """Return the baseline to compare with: the stored one, read back once after the create (only the
    addresses the record took stay "added by the app").

    A record exported before baselines were kept starts from what the ATS holds now: a field it holds counts
    as sent as ScaleUp has it now (a difference may be someone's edit there, and the ATS wins), a field it
    lacks as never sent (ScaleUp's value fills it); the candidate's own addresses (`known`) the record
    holds count as added by the app.
    """
    have = {e.lower() for e in current.emails}
    if stored is None:
        ours = {a.lower() for a in known}
        named = bool(current.first_name or current.last_name)
        return SentContact(
            first_name=wanted.first_name if named else None,
            last_name=wanted.last_name if named else None,
            phone=wanted.phone if current.phones else None,
            linkedin_url=wanted.linkedin_url if current.linkedin_url else None,
            emails=tuple(sorted(have & ours)),
        )
    if not stored.confirmed:
        return replace(stored, emails=tuple(a for a in stored.emails if a in have), confirmed=True)
    return stored


def plan(
    base: SentContact,
    current: ContactDetails,
    wanted: Wanted,
    fields: frozenset[ContactField],
    told: frozenset[str] = frozenset(),
    *,
    single_email: bool = False,
) -> Plan:
    """Return what to write to the record (only `fields` the vendor can write) and what it means.

    `single_email`: the vendor keeps one address per person (Workable), so a record that has one gets no
    other; told once, as the ATS's own address is kept."""
    outcomes: list[tuple[Field, Action]] = []
    told_now = set(told)
    patch: dict[str, object] = {}
    sent = base

    def decide(field: Field, verdict: str, can: bool) -> bool:
        """Record the outcome of a scalar field; return True when the new value becomes the baseline."""
        if verdict == "conflict":
            if field.value not in told_now:
                outcomes.append((field, Action.CONFLICT))
                told_now.add(field.value)
            return False
        told_now.discard(field.value)
        if verdict == "write" and can:
            outcomes.append((field, Action.UPDATED))
            return True
        return verdict == "move"

    ours_name = (wanted.first_name or "", wanted.last_name or "")
    name = _verdict(
        ours_name if any(ours_name) else None,
        (base.first_name or "", base.last_name or ""),
        (current.first_name or "", current.last_name or "")
        if (current.first_name or current.last_name)
        else None,
        lambda a, b: tuple(p.strip().casefold() for p in a) == tuple(p.strip().casefold() for p in b),
    )
    if decide(Field.NAME, name, ContactField.NAME in fields):
        if name == "write":
            patch["first_name"], patch["last_name"] = ours_name
        sent = replace(sent, first_name=ours_name[0], last_name=ours_name[1])

    phone = _verdict_many(
        wanted.phone, base.phone, current.phones, lambda a, b: phone_digits(a) == phone_digits(b)
    )
    if decide(Field.PHONE, phone, ContactField.PHONE in fields):
        if phone == "write":
            patch["phone"] = wanted.phone
        sent = replace(sent, phone=wanted.phone)

    linkedin = _verdict(wanted.linkedin_url, base.linkedin_url, current.linkedin_url, _same_linkedin)
    if decide(Field.LINKEDIN, linkedin, ContactField.LINKEDIN in fields):
        if linkedin == "write":
            patch["linkedin_url"] = wanted.linkedin_url
        sent = replace(sent, linkedin_url=wanted.linkedin_url)

    have = {e.lower() for e in current.emails}
    added = set(base.emails)
    wrong = {a.lower() for a in wanted.wrong}
    adds: list[EmailAddress] = []
    removed_there = False
    for email in wanted.emails:
        address = email.address.lower()
        if address in wrong or address in have:
            continue
        if address in added:
            removed_there = True  # the app added it and someone removed it in the ATS: theirs kept
        elif all(a.address.lower() != address for a in adds):
            adds.append(email)
    if adds and single_email and have:
        adds = []
        if ONE_ADDRESS_TOLD not in told_now:
            outcomes.append((Field.EMAIL, Action.ONE_ADDRESS))
            told_now.add(ONE_ADDRESS_TOLD)
    if adds and ContactField.EMAILS in fields:
        patch["add_emails"] = tuple(adds)
        outcomes.append((Field.EMAIL, Action.ADDED))
        sent = replace(sent, emails=(*sent.emails, *(a.address.lower() for a in adds)))
    if removed_there:
        if Field.EMAIL.value not in told_now:
            outcomes.append((Field.EMAIL, Action.CONFLICT))
            told_now.add(Field.EMAIL.value)
    else:
        told_now.discard(Field.EMAIL.value)

    removes = tuple(sorted(a for a in wrong if a in have and a in added))
    if removes and ContactField.REMOVE_EMAIL in fields:
        patch["remove_emails"] = removes
        outcomes.append((Field.EMAIL, Action.REMOVED))
        sent = replace(sent, emails=tuple(a for a in sent.emails if a not in removes))
    elif removes:
        untold = tuple(a for a in removes if a not in base.by_hand)
        if untold:
            outcomes.append((Field.EMAIL, Action.NOT_SUPPORTED))
            sent = replace(sent, by_hand=(*sent.by_hand, *untold))
    kept = tuple(sorted(a for a in wrong if a in have and a not in added))
    return Plan(
        ContactPatch(**patch), tuple(outcomes), replace(sent, confirmed=True), frozenset(told_now), kept
    )  # type: ignore[arg-type]


def _verdict(ours: T | None, base: T | None, theirs: T | None, same: Callable[[T, T], bool]) -> str:
    """Return `none` (nothing of ours changed), `move` (the ATS has ours already), `write` (the ATS still
    holds the baseline or nothing) or `conflict` (someone changed it in the ATS since)."""
    if not ours or (base and same(ours, base)):
        return "none"
    if theirs and same(theirs, ours):
        return "move"
    if not theirs or (base and same(theirs, base)):
        return "write"
    return "conflict"


def _verdict_many(
    ours: str | None, base: str | None, theirs: tuple[str, ...], same: Callable[[str, str], bool]
) -> str:
    """`_verdict` for a field the ATS may hold several of (phones): any of them counts."""
    if not ours or (base and same(ours, base)):
        return "none"
    if any(same(t, ours) for t in theirs):
        return "move"
    if not theirs or (base and any(same(t, base) for t in theirs)):
        return "write"
    return "conflict"


def _same_linkedin(a: str, b: str) -> bool:
    return (normalize_linkedin_url(a) or a.strip().lower()) == (
        normalize_linkedin_url(b) or b.strip().lower()
    )
