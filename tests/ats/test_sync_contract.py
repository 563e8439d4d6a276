"""Two-way sync's vendor contract, written once and run over real HTTP on every vendor whose capabilities say so.

A person moves an exported record in the vendor's emulator (`Emulator.move_application`); the adapter must see
it through `record_status`, through `iter_status_pages` from the cursor of the listing before, and through the
vendor's signed webhook delivered to a loopback receiver. Contact corrections go out through `update_contact`
and come back through `read_contact`; a person's edit or delete in the ATS is `Emulator.edit_person` /
`delete_person`. Vendors without `status_sync` / `webhooks` / `contact_update` skip the tests that need them
(those without `contact_update` must refuse plainly); vendors without a profile in ats_rig.py skip all.
"""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from ats_rig import Received, VendorRig, WebhookReceiver, paste_webhook, person

from ats.base import AtsAdapter
from ats.errors import NotFound, NotSupported, WebhookRejected
from ats.registry import spec_of
from ats.types import (
    AtsStatus,
    ContactDetails,
    ContactField,
    ContactPatch,
    CreatedRecord,
    EmailAddress,
    RecordStatus,
    Stage,
    WebhookEvent,
)
from ats.values import phone_digits
from core.vocabulary import EmailType

SECRET = "contract-webhook-secret-0123456789"
APP_URL = "https://scaleup.example/ats/webhooks/vendor/7"


def _skip_unless(rig: VendorRig, capability: str) -> AtsAdapter:
    adapter = rig.adapter(secrets={"webhook_secret": SECRET})
    if not getattr(adapter.capabilities, capability):
        pytest.skip(f"{spec_of(rig.profile.vendor).label} does not offer {capability}")
    return adapter


def _export(rig: VendorRig, adapter: AtsAdapter, email: str) -> CreatedRecord:
    job = min(rig.profile.open_job_ids)
    created = adapter.create_applicant(person(email), job_id=job, stage_id=None)
    return CreatedRecord(created.candidate_id, created.application_id, job, prospect=False)


def _moved(record: CreatedRecord) -> str:
    """Return the id a person moves: the application, or the candidate where the vendor keeps stages on the
    candidate (Workable's candidate belongs to one job)."""
    return record.application_id or record.candidate_id


def _next_stages(adapter: AtsAdapter, record: CreatedRecord) -> list[Stage]:
    """Return the stages a recruiter moves a new applicant to next: in pipeline order, after the one the export
    placed it at, applicants' stages only (the last ones may be terminal, Ashby's "Hired")."""
    where = adapter.record_status(record).stage_id
    stages = [s for s in adapter.list_stages(record.job_id) if s.for_applicants]
    ids = [s.id for s in stages]
    return stages[ids.index(where) + 1 :] if where in ids else stages[1:]


def _is_utc_iso(stamp: str | None) -> bool:
    return stamp is not None and datetime.fromisoformat(stamp).utcoffset().total_seconds() == 0


def _listing(adapter: AtsAdapter, since: str | None) -> tuple[dict[str, RecordStatus], str | None]:
    pages = list(adapter.iter_status_pages(since))
    assert pages, "a listing yields at least one page, whose cursor the next poll starts from"
    return {s.application_id or s.candidate_id: s for p in pages for s in p.statuses}, pages[-1].cursor


def _announced(
    adapter: AtsAdapter, receiver: WebhookReceiver, skip: int = 0
) -> tuple[Received, list[WebhookEvent]]:
    """Return the first delivery after the first `skip` that announces a change, with its events (a vendor
    may send others first, e.g. a ping when a webhook is registered)."""
    deadline = time.monotonic() + 10
    seen = skip
    while time.monotonic() < deadline:
        received = receiver.wait_for(seen + 1)
        for delivery in received[seen:]:
            if events := adapter.read_webhook(*delivery):
                return delivery, events
        seen = len(received)
    pytest.fail("no delivery announced the change")


def _subscribe(rig: VendorRig, adapter: AtsAdapter, receiver: WebhookReceiver) -> None:
    """Register the receiver through the vendor's API where it has one, else do what an admin does in the
    vendor's settings: paste the app's URL and secret."""
    if adapter.capabilities.webhook_registration and adapter.register_webhooks(receiver.url).registered:
        return
    paste_webhook(rig, receiver.url, SECRET)


# --- where a record stands --------------------------------------------------------------------------------


def test_a_moved_record_is_seen_by_record_status_and_by_the_poll_from_the_last_cursor(rig: VendorRig) -> None:
    adapter = _skip_unless(rig, "status_sync")
    record = _export(rig, adapter, "moved@example.org")
    before = adapter.record_status(record)
    _, cursor = _listing(adapter, None)
    target = _next_stages(adapter, record)[0]

    rig.emulator.move_application(_moved(record), stage_id=target.id)

    now = adapter.record_status(record)
    assert before.status is AtsStatus.ACTIVE and before.stage_id != target.id
    assert (now.status, now.stage_id, now.stage) == (AtsStatus.ACTIVE, target.id, target.name)
    assert (now.candidate_id, now.job_id) == (record.candidate_id, record.job_id)
    assert now.application_id == record.application_id or record.application_id is None
    assert _is_utc_iso(now.updated_at)
    polled, next_cursor = _listing(adapter, cursor)
    assert polled[_moved(record)].stage_id == target.id
    assert next_cursor is not None


def test_a_rejection_comes_back_with_its_reason(rig: VendorRig) -> None:
    adapter = _skip_unless(rig, "status_sync")
    if rig.profile.reject_reason is None:
        pytest.skip("the profile names no rejection reason")
    record = _export(rig, adapter, "rejected@example.org")

    rig.emulator.move_application(_moved(record), status="rejected", reason=rig.profile.reject_reason)

    # Lever's interface calls a non-hired archive "archived"; the others "rejected".
    now = adapter.record_status(record)
    assert now.status in (AtsStatus.REJECTED, AtsStatus.ARCHIVED)
    assert now.reason == rig.profile.reject_reason


def test_a_record_gone_from_the_vendor_is_not_found(rig: VendorRig) -> None:
    adapter = _skip_unless(rig, "status_sync")
    missing = CreatedRecord(
        rig.profile.missing_job_id, rig.profile.missing_job_id, min(rig.profile.open_job_ids), prospect=False
    )
    with pytest.raises(NotFound):
        adapter.record_status(missing)


# --- webhooks ------------------------------------------------------------------------------------------


def test_a_delivered_webhook_verifies_and_names_the_record(rig: VendorRig, receiver: WebhookReceiver) -> None:
    adapter = _skip_unless(rig, "webhooks")
    record = _export(rig, adapter, "hooked@example.org")
    _subscribe(rig, adapter, receiver)
    target = _next_stages(adapter, record)[0]

    rig.emulator.move_application(_moved(record), stage_id=target.id)

    _, events = _announced(adapter, receiver)
    assert len(events) == 1 and events[0].delivery_id
    event = events[0]
    assert record.application_id in (event.application_id, None)
    assert record.candidate_id in (event.candidate_id, None) and (event.application_id or event.candidate_id)
    # The payload's picture when it carries one, else the record read again: the same answer.
    status = event.status or adapter.record_status(record)
    assert status.stage_id == target.id and status.status is AtsStatus.ACTIVE


def test_a_webhook_with_a_wrong_or_no_secret_is_rejected(rig: VendorRig, receiver: WebhookReceiver) -> None:
    adapter = _skip_unless(rig, "webhooks")
    record = _export(rig, adapter, "forged@example.org")
    _subscribe(rig, adapter, receiver)
    rig.emulator.move_application(_moved(record), stage_id=_next_stages(adapter, record)[0].id)
    (headers, body), _ = _announced(adapter, receiver)

    key = rig.profile.webhook_key
    for secrets in ({key: "not-the-secret-at-all"}, {key: ""}):
        other = rig.adapter(secrets=secrets)
        # Without a secret a vendor may say it offers no webhooks for this connection (NotSupported, the
        # Protocol's answer when `capabilities.webhooks` is False) rather than reject each delivery.
        with pytest.raises(WebhookRejected if other.capabilities.webhooks else NotSupported):
            other.read_webhook(headers, body)
    with pytest.raises(WebhookRejected):
        adapter.read_webhook({}, b"{}")  # unsigned


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b"x" * 1_000_001, b"{" * 100_000])
def test_a_webhook_body_of_the_wrong_shape_or_size_is_rejected_not_raised(
    rig: VendorRig, body: bytes
) -> None:
    adapter = _skip_unless(rig, "webhooks")
    with pytest.raises(WebhookRejected):
        adapter.read_webhook({"Content-Type": "application/json"}, body)


def test_a_redelivery_keeps_its_delivery_id_and_another_change_gets_a_new_one(
    rig: VendorRig, receiver: WebhookReceiver
) -> None:
    adapter = _skip_unless(rig, "webhooks")
    record = _export(rig, adapter, "twice@example.org")
    _subscribe(rig, adapter, receiver)
    stages = _next_stages(adapter, record)

    rig.emulator.move_application(_moved(record), stage_id=stages[0].id)
    first, once = _announced(adapter, receiver)
    # A person's next change comes in a later millisecond: Lever's delivery id holds `triggeredAt`, in
    # milliseconds, so two changes of one opportunity within one millisecond would read as one delivery.
    time.sleep(0.002)
    rig.emulator.move_application(_moved(record), stage_id=stages[1].id)
    _, other = _announced(adapter, receiver, skip=receiver.received.index(first) + 1)

    again = adapter.read_webhook(*first)
    assert [e.delivery_id for e in once] == [e.delivery_id for e in again]
    assert {e.delivery_id for e in once}.isdisjoint(e.delivery_id for e in other)


def test_webhook_setup_names_the_url_and_never_the_secret(rig: VendorRig) -> None:
    adapter = _skip_unless(rig, "webhooks")
    setup = adapter.register_webhooks(APP_URL)
    assert setup.events and SECRET not in setup.instructions
    if not adapter.capabilities.webhook_registration:
        assert not setup.registered and APP_URL in setup.instructions


# --- corrected contact details out ---------------------------------------------------------------------


def test_update_contact_adds_addresses_and_never_drops_one(rig: VendorRig) -> None:
    adapter = _skip_unless(rig, "contact_update")
    if not adapter.capabilities.multiple_emails:
        pytest.skip("the vendor keeps one email per candidate; its own tests cover what update_contact does")
    record = _export(rig, adapter, "first@example.org")
    second = EmailAddress("second@example.org", EmailType.WORK)
    third = EmailAddress("third@example.org", EmailType.PERSONAL)
    cid = record.candidate_id

    adapter.update_contact(
        cid, ContactPatch(add_emails=(second,), phone="+1 555 0100"), current=adapter.read_contact(cid)
    )
    adapter.update_contact(cid, ContactPatch(add_emails=(third,)), current=adapter.read_contact(cid))
    adapter.update_contact(
        cid, ContactPatch(add_emails=(second, third), phone="+1 555 0100"), current=adapter.read_contact(cid)
    )

    details = adapter.read_contact(cid)
    assert sorted(e.lower() for e in details.emails) == [
        "first@example.org",
        "second@example.org",
        "third@example.org",
    ]
    assert [phone_digits(p) for p in details.phones] == ["15550100"]


def test_read_contact_shows_the_export_and_a_person_s_edit(rig: VendorRig) -> None:
    adapter = _skip_unless(rig, "contact_update")
    record = _export(rig, adapter, "first@example.org")

    created = adapter.read_contact(record.candidate_id)
    rig.emulator.edit_person(record.candidate_id, first_name="Edited", emails=["edited@example.org"])
    edited = adapter.read_contact(record.candidate_id)

    assert (created.first_name, created.last_name) == ("New", "Person")
    assert [e.lower() for e in created.emails] == ["first@example.org"]
    assert created.linkedin_url == "https://www.linkedin.com/in/new-person"
    assert (edited.first_name, edited.last_name, edited.emails) == (
        "Edited",
        "Person",
        ("edited@example.org",),
    )


def test_name_and_linkedin_corrections_round_trip(rig: VendorRig) -> None:
    adapter = _skip_unless(rig, "contact_update")
    fields = adapter.capabilities.contact_fields
    record = _export(rig, adapter, "first@example.org")
    url = "https://www.linkedin.com/in/corrected-person"
    patch = ContactPatch(first_name="Corrected", last_name="Name", linkedin_url=url)

    adapter.update_contact(record.candidate_id, patch, current=adapter.read_contact(record.candidate_id))

    details = adapter.read_contact(record.candidate_id)
    if ContactField.NAME in fields:
        assert (details.first_name, details.last_name) == ("Corrected", "Name")
    if ContactField.LINKEDIN in fields:
        assert details.linkedin_url == url


def test_an_address_is_removed_only_where_the_vendor_allows(rig: VendorRig) -> None:
    adapter = _skip_unless(rig, "contact_update")
    if not adapter.capabilities.multiple_emails:
        pytest.skip("one email per candidate")
    record = _export(rig, adapter, "first@example.org")
    cid = record.candidate_id
    wrong = EmailAddress("wrong@example.org", EmailType.WORK)
    adapter.update_contact(cid, ContactPatch(add_emails=(wrong,)), current=adapter.read_contact(cid))

    adapter.update_contact(
        cid, ContactPatch(remove_emails=("WRONG@example.org",)), current=adapter.read_contact(cid)
    )

    left = sorted(e.lower() for e in adapter.read_contact(cid).emails)
    if ContactField.REMOVE_EMAIL in adapter.capabilities.contact_fields:
        assert left == ["first@example.org"]
    else:
        assert left == ["first@example.org", "wrong@example.org"]


def test_nothing_is_sent_when_the_patch_changes_nothing(rig: VendorRig) -> None:
    adapter = _skip_unless(rig, "contact_update")
    record = _export(rig, adapter, "first@example.org")
    current = adapter.read_contact(record.candidate_id)
    before = len(rig.emulator.requests())
    same = ContactPatch(
        first_name=current.first_name,
        last_name=current.last_name,
        add_emails=tuple(EmailAddress(e.upper(), EmailType.WORK) for e in current.emails),
        linkedin_url=current.linkedin_url,
    )

    adapter.update_contact(record.candidate_id, same, current=current)
    adapter.update_contact(record.candidate_id, ContactPatch(), current=current)

    assert len(rig.emulator.requests()) == before


def test_a_deleted_person_is_not_found(rig: VendorRig) -> None:
    adapter = _skip_unless(rig, "contact_update")
    record = _export(rig, adapter, "first@example.org")
    current = adapter.read_contact(record.candidate_id)

    rig.emulator.delete_person(record.candidate_id)

    with pytest.raises(NotFound):
        adapter.read_contact(record.candidate_id)
    with pytest.raises(NotFound):
        adapter.update_contact(record.candidate_id, ContactPatch(phone="+1 555 0100"), current=current)


def test_vendors_without_contact_fields_refuse_plainly(rig: VendorRig) -> None:
    adapter = rig.adapter(secrets={"webhook_secret": SECRET})
    if adapter.capabilities.contact_update:
        pytest.skip(f"{spec_of(rig.profile.vendor).label} corrects contact details")
    before = len(rig.emulator.requests())  # Merge reads the account's available actions for its capabilities
    with pytest.raises(NotSupported):
        adapter.read_contact("1")
    with pytest.raises(NotSupported):
        adapter.update_contact("1", ContactPatch(first_name="X"), current=ContactDetails())
    assert len(rig.emulator.requests()) == before
