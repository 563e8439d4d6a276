"""The contact plan's rules as a pure function: what a push writes, given the baseline, the ATS and ScaleUp."""

from __future__ import annotations

from ats.types import ContactDetails, ContactField, EmailAddress
from core.vocabulary import EmailType
from storage.contact_records import SentContact
from sync.contact_plan import Action, Field, Wanted, plan

ALL = frozenset(ContactField)
ADA = Wanted("Ada", "Lovelace", None, None, (EmailAddress("ada@new.example", EmailType.WORK),))


def test_a_new_address_is_added_where_the_record_has_room() -> None:
    decided = plan(SentContact(), ContactDetails("Ada", "Lovelace", emails=("ada@old.example",)), ADA, ALL)
    assert [a.address for a in decided.patch.add_emails] == ["ada@new.example"]
    assert decided.outcomes == ((Field.EMAIL, Action.ADDED),)


def test_a_vendor_keeping_one_address_gets_none_added_and_it_is_told_once() -> None:
    current = ContactDetails("Ada", "Lovelace", emails=("ada@old.example",))
    first = plan(SentContact(), current, ADA, ALL, single_email=True)
    assert first.patch.empty and first.outcomes == ((Field.EMAIL, Action.ONE_ADDRESS),)
    again = plan(first.sent, current, ADA, ALL, first.told, single_email=True)
    assert again.patch.empty and again.outcomes == ()


def test_a_vendor_keeping_one_address_gets_one_where_the_record_has_none() -> None:
    decided = plan(SentContact(), ContactDetails("Ada", "Lovelace"), ADA, ALL, single_email=True)
    assert [a.address for a in decided.patch.add_emails] == ["ada@new.example"]


def test_a_name_changed_in_the_ats_since_the_export_is_kept_and_told_once() -> None:
    base = SentContact(first_name="Ada", last_name="Byron")
    current = ContactDetails(first_name="Augusta", last_name="King", emails=("ada@new.example",))
    first = plan(base, current, ADA, ALL)
    assert first.patch.empty and first.outcomes == ((Field.NAME, Action.CONFLICT),)
    assert plan(base, current, ADA, ALL, first.told).outcomes == ()
