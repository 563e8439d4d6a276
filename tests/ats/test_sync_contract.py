"""Two-way sync's vendor contract, written once and run over real HTTP on every vendor whose capabilities say so.

A person moves an exported record in the vendor's emulator (`Emulator.move_application`); the adapter must see
it through `record_status`, through `iter_status_pages` from the cursor of the listing before, and through the
vendor's signed webhook delivered to a loopback receiver. Vendors without `status_sync` / `webhooks` /
`contact_update` skip the tests that need them; vendors without a profile in ats_rig.py skip all.
"""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from ats_rig import Received, VendorRig, WebhookReceiver, paste_webhook, person

from ats.base import AtsAdapter
from ats.errors import NotFound, NotSupported, WebhookRejected
from ats.registry import spec_of
from ats.types import AtsStatus, CreatedRecord, EmailAddress, RecordStatus, Stage, WebhookEvent
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

    adapter.update_contact(record.candidate_id, emails=[second], phone="+1 555 0100")
    adapter.update_contact(record.candidate_id, emails=[third], phone=None)
    adapter.update_contact(record.candidate_id, emails=[second, third], phone="+1 555 0100")

    found = adapter.get_candidate(record.candidate_id)
    assert found is not None
    assert sorted(found.emails) == ["first@example.org", "second@example.org", "third@example.org"]
