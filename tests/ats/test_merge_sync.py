"""Merge's two-way sync: where a record stands, the `modified_after` poll of applications, and signed
"Changed data" webhooks, over loopback with the emulator standing in for a person moving a candidate."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from ats_rig import HandClock, WebhookReceiver, fast_options, person

from ats import registry
from ats.budgets import NullBudget
from ats.errors import NotFound, NotSupported, WebhookRejected
from ats.merge import MergeAdapter
from ats.types import AtsStatus, CreatedRecord
from core.vocabulary import Vendor
from devkit.ats.merge import DEMO_API_KEY, MergeEmulator, signature
from devkit.ats.registry import load_seed
from devkit.ats.webhooks import WebhookTarget

OPEN_JOB = "178cd950-dfd0-52f5-9361-36827572e88d"
WEBHOOK_KEY = "merge-webhook-signature-key"


@pytest.fixture
def emulator(clock: HandClock) -> Iterator[MergeEmulator]:
    with MergeEmulator(seed=load_seed(Vendor.MERGE), clock=clock) as emu:
        yield emu


@pytest.fixture
def receiver(receiver: WebhookReceiver, emulator: MergeEmulator) -> WebhookReceiver:
    """The conftest's receiver, made the Merge organization's webhook (signed with `WEBHOOK_KEY`)."""
    emulator.webhooks.register(WebhookTarget(receiver.url, WEBHOOK_KEY))
    return receiver


@pytest.fixture
def adapter(emulator: MergeEmulator) -> Iterator[MergeAdapter]:
    credentials = {Vendor.MERGE.value: {"api_key": DEMO_API_KEY, "webhook_secret": WEBHOOK_KEY}}
    made = registry.create_adapter(
        emulator.connection_config(),
        budget=NullBudget(),
        http_options=fast_options(app_credentials=credentials),
    )
    assert isinstance(made, MergeAdapter)
    yield made
    made.close()


def exported(adapter: MergeAdapter, email: str) -> CreatedRecord:
    created = adapter.create_applicant(person(email), job_id=OPEN_JOB, stage_id=None)
    return CreatedRecord(created.candidate_id, created.application_id, OPEN_JOB, prospect=False)


def test_record_status_follows_a_person_moving_and_rejecting(emulator, adapter) -> None:
    record = exported(adapter, "moved@example.org")
    stages = adapter.list_stages(OPEN_JOB)
    before = adapter.record_status(record)
    assert (before.status, before.stage, before.job_id) == (AtsStatus.ACTIVE, stages[0].name, OPEN_JOB)

    emulator.move_application(str(record.application_id), stage_id=stages[2].id)
    assert adapter.record_status(record).stage == stages[2].name
    emulator.move_application(str(record.application_id), status="rejected")
    assert adapter.record_status(record).status is AtsStatus.REJECTED


def test_record_status_of_a_prospect_without_application_and_of_a_gone_record(adapter) -> None:
    created = adapter.create_prospect(person("lone@example.org"), job_id=None)
    status = adapter.record_status(CreatedRecord(created.candidate_id, None, None, prospect=True))
    assert status.application_id is None and status.status is AtsStatus.ACTIVE
    with pytest.raises(NotFound):
        adapter.record_status(CreatedRecord("c", "00000000-0000-4000-8000-0000000000aa", OPEN_JOB, False))


def test_the_poll_lists_changed_applications_after_its_cursor(emulator, adapter, clock) -> None:
    record = exported(adapter, "polled@example.org")
    first = list(adapter.iter_status_pages(None))
    assert record.application_id in {s.application_id for p in first for s in p.statuses}
    clock.at += 3600
    emulator.move_application(str(record.application_id), stage_id=adapter.list_stages(OPEN_JOB)[1].id)
    later = [s for p in adapter.iter_status_pages(first[-1].cursor) for s in p.statuses]
    assert [s.application_id for s in later] == [record.application_id]


def test_a_signed_delivery_names_the_changed_application(emulator, adapter, receiver) -> None:
    record = exported(adapter, "hooked@example.org")
    emulator.move_application(str(record.application_id), stage_id=adapter.list_stages(OPEN_JOB)[3].id)
    headers, body = receiver.wait_for(1)[-1]
    (event,) = adapter.read_webhook(headers, body)
    assert (event.kind, event.application_id, event.candidate_id) == (
        "Application.changed",
        record.application_id,
        record.candidate_id,
    )
    again = adapter.read_webhook(headers, body)  # a redelivery carries the same id
    assert again[0].delivery_id == event.delivery_id

    with pytest.raises(WebhookRejected):
        adapter.read_webhook(headers, body.replace(b"Application", b"Applicatiom"))
    with pytest.raises(WebhookRejected):
        adapter.read_webhook({}, body)
    with pytest.raises(WebhookRejected):  # a header value that is not ASCII compares unequal, never raises
        adapter.read_webhook({"X-Merge-Webhook-Signature": headers["X-Merge-Webhook-Signature"] + "é"}, body)


def test_a_signed_body_nested_deeper_than_the_parser_goes_is_rejected_not_raised(adapter) -> None:
    body = b"[" * 100_000
    with pytest.raises(WebhookRejected, match="not JSON"):
        adapter.read_webhook({"X-Merge-Webhook-Signature": signature(WEBHOOK_KEY, body)}, body)


def test_deliveries_about_other_accounts_and_pings_yield_nothing(emulator, adapter) -> None:
    other = {
        "hook": {"event": "Application.changed"},
        "linked_account": {"id": "someone-else"},
        "data": {"id": "a"},
    }
    for payload in (other, {"response": "Success! This URL will be notified."}):
        body = json.dumps(payload).encode()
        assert adapter.read_webhook({"X-Merge-Webhook-Signature": signature(WEBHOOK_KEY, body)}, body) == []


def test_without_the_webhook_key_deliveries_are_refused_and_the_setting_named(emulator) -> None:
    keyless = registry.create_adapter(
        emulator.connection_config(), budget=NullBudget(), http_options=fast_options()
    )
    try:
        assert not keyless.capabilities.webhooks and keyless.capabilities.status_sync
        with pytest.raises(NotSupported) as caught:
            keyless.read_webhook({}, b"{}")
        assert "SCALEUP_MERGE_WEBHOOK_KEY" in caught.value.user_message()
    finally:
        keyless.close()


def test_registering_says_what_the_merge_admin_sets_up(adapter) -> None:
    setup = adapter.register_webhooks("https://scaleup.example.com/webhooks/merge")
    assert not setup.registered and "https://scaleup.example.com/webhooks/merge" in setup.instructions
    assert "Application.changed" in setup.events and adapter.capabilities.webhooks
