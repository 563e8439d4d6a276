"""Workable two-way sync over loopback HTTP: where a candidate stands, changes since `updated_after`, signed
subscriptions, and corrected contact details.

- the candidate read back: https://workable.readme.io/reference/job-candidates-show, keys as in
  https://workable.readme.io/reference/job-candidates-index and /candidate-events
- subscriptions: https://workable.readme.io/reference/webhook-subscriptions (target unique, 409 otherwise)
- signature: https://workable.readme.io/reference/webhook-subscriptions-candidates-employees (HMAC SHA256 of
  the payload keyed with the account token, in X-Workable-Signature)
- contact details: https://workable.readme.io/reference/update-candidate

A person's moves come through the emulator's `POST /_emulator/move`; webhooks go to ats_rig's `WebhookReceiver`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from ats_rig import (
    FUZZ,
    JSONISH,
    Received,
    VendorRig,
    WebhookReceiver,
    all_statuses,
    move,
    person,
    webhook_receiver,
)
from hypothesis import given
from hypothesis import strategies as st

from ats.errors import NotFound, NotSupported, WebhookRejected
from ats.types import AtsStatus, ContactField, ContactPatch, CreatedRecord, EmailAddress
from ats.workable import MAX_WEBHOOK_BYTES, SPEC, SUBSCRIBED_EVENT, WorkableAdapter
from core.vocabulary import EmailType, Vendor
from devkit.ats.workable import DEMO_TOKEN

JOB = "A1B2C3D4E5"


@pytest.fixture
def wk(make_rig) -> VendorRig:
    return make_rig(Vendor.WORKABLE)


def adapter_of(rig: VendorRig, **secrets: str) -> WorkableAdapter:
    adapter = rig.adapter(secrets={"webhook_secret": "the-app-generated-secret", **secrets})
    assert isinstance(adapter, WorkableAdapter)
    return adapter


def exported(
    adapter: WorkableAdapter, email: str = "new.person@example.org", stage: str = "phone-screen"
) -> CreatedRecord:
    created = adapter.create_applicant(person(email), job_id=JOB, stage_id=stage)
    return CreatedRecord(created.candidate_id, None, JOB, prospect=False, stage_id=stage)


def stored(rig: VendorRig, candidate_id: str) -> dict[str, Any]:
    return next(c for c in rig.emulator.records("candidates") if c["id"] == candidate_id)


def signed(body: bytes, key: str = DEMO_TOKEN) -> dict[str, str]:
    return {"X-Workable-Signature": hmac.new(key.encode(), body, hashlib.sha256).hexdigest()}


def moved_deliveries(receiver: WebhookReceiver, count: int = 1) -> list[Received]:
    return receiver.wait_for(count, event_type=SUBSCRIBED_EVENT)


# --- capabilities and record_status --------------------------------------------------------------------


def test_sync_capabilities_are_declared() -> None:
    caps = SPEC.capabilities
    assert (caps.status_sync, caps.webhooks, caps.webhook_registration, caps.contact_update) == (True,) * 4


def test_a_moved_candidate_is_seen_by_record_status(wk: VendorRig) -> None:
    adapter = adapter_of(wk)
    record = exported(adapter)

    before = adapter.record_status(record)
    assert (before.status, before.stage, before.stage_id) == (
        AtsStatus.ACTIVE,
        "Phone Screen",
        "phone-screen",
    )
    assert (before.candidate_id, before.application_id, before.job_id) == (record.candidate_id,) * 2 + (JOB,)
    assert before.prospect is False
    assert before.record_url == stored(wk, record.candidate_id)["profile_url"]
    assert before.updated_at and before.updated_at.endswith("Z")

    move(wk.emulator, record.candidate_id, stage_id="interview")

    after = adapter.record_status(record)
    assert (after.status, after.stage, after.stage_id) == (AtsStatus.ACTIVE, "Interview", "interview")
    assert len(wk.emulator.requests(path="/spi/v3/stages")) == 1  # the account's stages are read once


@pytest.mark.parametrize(
    ("change", "status", "stage", "reason"),
    [
        ({"status": "rejected", "reason": "Not a fit"}, AtsStatus.REJECTED, "Phone Screen", "Not a fit"),
        ({"status": "hired"}, AtsStatus.HIRED, "Hired", None),
    ],
    ids=["disqualified", "hired"],
)
def test_disqualification_and_hire_come_through(
    wk: VendorRig, change: dict[str, str], status: AtsStatus, stage: str, reason: str | None
) -> None:
    adapter = adapter_of(wk)
    record = exported(adapter)

    move(wk.emulator, record.candidate_id, **change)

    seen = adapter.record_status(record)
    assert (seen.status, seen.stage, seen.reason) == (status, stage, reason)


def test_sourced_and_talent_pool_prospects(wk: VendorRig) -> None:
    adapter = adapter_of(wk)
    sourced = adapter.create_prospect(person("sourced@example.org"), job_id=JOB)
    pooled = adapter.create_prospect(person("pooled@example.org"), job_id=None)

    on_job = adapter.record_status(CreatedRecord(sourced.candidate_id, None, JOB, prospect=True))
    in_pool = adapter.record_status(CreatedRecord(pooled.candidate_id, None, None, prospect=True))

    assert (on_job.prospect, on_job.stage, on_job.stage_id) == (True, "Sourced", "sourced")
    assert (in_pool.application_id, in_pool.job_id, in_pool.stage, in_pool.prospect) == (
        None,
        None,
        None,
        True,
    )
    assert in_pool.status is AtsStatus.ACTIVE


def test_a_gone_candidate_is_not_found(wk: VendorRig) -> None:
    with pytest.raises(NotFound, match="no candidate"):
        adapter_of(wk).record_status(CreatedRecord("gone123", None, JOB, prospect=False))


# --- iter_status_pages ---------------------------------------------------------------------------------


def test_the_poll_from_the_previous_cursor_sees_the_move(wk: VendorRig) -> None:
    adapter = adapter_of(wk)
    record = exported(adapter)
    first, cursor = all_statuses(adapter, None)
    assert record.candidate_id in {s.candidate_id for s in first}
    assert cursor
    seeded = {c["id"] for c in wk.emulator.records("candidates")} - {record.candidate_id}

    move(wk.emulator, record.candidate_id, stage_id="offer")
    changed, next_cursor = all_statuses(adapter, cursor)

    mine = [s for s in changed if s.candidate_id == record.candidate_id]
    assert [(s.stage, s.stage_id, s.status) for s in mine] == [("Offer", "offer", AtsStatus.ACTIVE)]
    assert not seeded & {s.candidate_id for s in changed}  # the seed's older records are not listed again
    assert next_cursor
    assert any("updated_after" in r.query for r in wk.emulator.requests(path="/spi/v3/candidates"))


def test_the_poll_reports_a_disqualification_with_its_reason(wk: VendorRig) -> None:
    adapter = adapter_of(wk)
    record = exported(adapter)
    _, cursor = all_statuses(adapter, None)

    move(wk.emulator, record.candidate_id, status="rejected", reason="Salary expectations")

    (mine,) = [s for s in all_statuses(adapter, cursor)[0] if s.candidate_id == record.candidate_id]
    assert (mine.status, mine.reason) == (AtsStatus.REJECTED, "Salary expectations")


# --- webhooks ------------------------------------------------------------------------------------------


def test_a_subscription_delivers_a_move_that_read_webhook_verifies(
    wk: VendorRig, receiver: WebhookReceiver
) -> None:
    adapter = adapter_of(wk)
    record = exported(adapter)

    setup = adapter.register_webhooks(receiver.url)

    assert setup.registered is True and setup.events == (SUBSCRIBED_EVENT,)
    assert DEMO_TOKEN not in setup.instructions
    (subscription,) = wk.emulator.records("subscriptions")
    assert (subscription["target"], subscription["event"]) == (receiver.url, SUBSCRIBED_EVENT)
    (sent,) = wk.emulator.requests("POST", "/spi/v3/subscriptions")
    assert sent.json == {"target": receiver.url, "event": SUBSCRIBED_EVENT}

    move(wk.emulator, record.candidate_id, stage_id="interview")

    (delivery,) = moved_deliveries(receiver)
    (event,) = adapter.read_webhook(delivery.headers, delivery.body)
    assert (event.kind, event.candidate_id, event.application_id) == (
        SUBSCRIBED_EVENT,
        record.candidate_id,
        record.candidate_id,
    )
    assert event.status is not None
    assert (event.status.stage, event.status.status, event.status.job_id) == (
        "Interview",
        AtsStatus.ACTIVE,
        JOB,
    )
    assert event.delivery_id == f"workable:{delivery.json()['id']}"


def test_a_disqualification_arrives_with_its_reason(wk: VendorRig, receiver: WebhookReceiver) -> None:
    adapter = adapter_of(wk)
    record = exported(adapter)
    adapter.register_webhooks(receiver.url)

    move(wk.emulator, record.candidate_id, status="rejected", reason="Went with another candidate")

    (delivery,) = moved_deliveries(receiver)
    (event,) = adapter.read_webhook(delivery.headers, delivery.body)
    assert event.status is not None
    assert (event.status.status, event.status.reason) == (AtsStatus.REJECTED, "Went with another candidate")


def test_read_webhook_rejects_another_token_a_tampered_body_and_a_missing_signature(
    wk: VendorRig, receiver: WebhookReceiver
) -> None:
    adapter = adapter_of(wk)
    record = exported(adapter)
    adapter.register_webhooks(receiver.url)
    move(wk.emulator, record.candidate_id, stage_id="offer")
    (delivery,) = moved_deliveries(receiver)

    # Workable keys the signature with the account token, so another connection's token does not verify it.
    other = adapter_of(wk, api_key="workable-readonly-token")
    with pytest.raises(WebhookRejected, match="does not match"):
        other.read_webhook(delivery.headers, delivery.body)
    tampered = delivery.body.replace(b'"Offer"', b'"Hired"')
    assert tampered != delivery.body
    with pytest.raises(WebhookRejected, match="does not match"):
        adapter.read_webhook(delivery.headers, tampered)
    with pytest.raises(WebhookRejected, match="without an X-Workable-Signature"):
        adapter.read_webhook({"content-type": "application/json"}, delivery.body)
    # The page names no encoding for the digest: base64 of the same HMAC is accepted as well as hex.
    digest = hmac.new(DEMO_TOKEN.encode(), delivery.body, hashlib.sha256).digest()
    assert (
        len(adapter.read_webhook({"X-Workable-Signature": base64.b64encode(digest).decode()}, delivery.body))
        == 1
    )


def test_a_replay_has_the_same_delivery_id(wk: VendorRig) -> None:
    # "Response status should be 200 so that Workable won't … replay"
    with webhook_receiver(statuses=[500]) as receiver:
        adapter = adapter_of(wk)
        record = exported(adapter)
        adapter.register_webhooks(receiver.url)

        move(wk.emulator, record.candidate_id, stage_id="interview")

        first, again = moved_deliveries(receiver, count=2)[:2]
        assert first.body == again.body
        ids = {e.delivery_id for r in (first, again) for e in adapter.read_webhook(r.headers, r.body)}
        assert len(ids) == 1
        assert [d.status for d in wk.emulator.webhooks.wait_for(2)][:2] == [500, 200]


def test_registering_twice_keeps_one_subscription(wk: VendorRig, receiver: WebhookReceiver) -> None:
    adapter_of(wk).register_webhooks(receiver.url)
    again = adapter_of(wk).register_webhooks(receiver.url)

    assert again.registered is True
    assert len(wk.emulator.records("subscriptions")) == 1
    assert len(wk.emulator.requests("POST", "/spi/v3/subscriptions")) == 1
    assert len(wk.emulator.requests("GET", "/spi/v3/subscriptions")) == 2


def test_a_conflict_means_the_target_is_subscribed_already(wk: VendorRig, receiver: WebhookReceiver) -> None:
    # A subscription the listing does not show (lapsed, `valid_until` passed) still holds the target: 409.
    wk.emulator.seed(
        {
            "subscriptions": [
                {
                    "id": "77",
                    "target": receiver.url,
                    "event": SUBSCRIBED_EVENT,
                    "created_at": "2020-01-01T00:00:00Z",
                    "valid_until": "2021-01-01T00:00:00Z",
                    "job_shortcode": "",
                    "stage_slug": "",
                    "_token": DEMO_TOKEN,
                }
            ]
        }
    )

    assert adapter_of(wk).register_webhooks(receiver.url).registered is True
    assert len(wk.emulator.records("subscriptions")) == 1


def test_a_token_without_r_candidates_gets_instructions(wk: VendorRig, receiver: WebhookReceiver) -> None:
    wk.emulator.seed({"tokens": [{"id": "jobs-only-token", "scopes": ["r_jobs"]}]})

    setup = adapter_of(wk, api_key="jobs-only-token").register_webhooks(receiver.url)

    assert setup.registered is False and "r_candidates" in setup.instructions
    assert "jobs-only-token" not in setup.instructions
    assert wk.emulator.records("subscriptions") == []


def test_employee_events_and_unknown_resources_announce_nothing(wk: VendorRig) -> None:
    adapter = adapter_of(wk)
    for payload in (
        {"event_type": "employee_created", "resource_type": "employee", "data": {"id": "e1"}},
        {"event_type": "candidate_moved", "resource_type": "job", "data": {"id": "j1"}},
    ):
        body = json.dumps(payload).encode()
        assert adapter.read_webhook(signed(body), body) == []


def test_the_documented_payload_alone_is_read_and_a_deletion_names_the_candidate(wk: VendorRig) -> None:
    adapter = adapter_of(wk)
    bare = json.dumps(
        {
            "data": {
                "id": "c1a2b3d",
                "job": {"shortcode": JOB},
                "stage": "Offer",
                "updated_at": "2026-09-01T10:00:00Z",
            }
        }
    ).encode()
    deleted = json.dumps({"id": "d-1", "event_type": "candidate_deleted", "data": {"id": "c1a2b3d"}}).encode()

    (one,) = adapter.read_webhook(signed(bare), bare)
    (two,) = adapter.read_webhook(signed(deleted), deleted)

    assert (one.kind, one.candidate_id, one.delivery_id) == (
        "candidate",
        "c1a2b3d",
        "workable:candidate:c1a2b3d:2026-09-01T10:00:00Z",
    )
    assert one.status is not None and one.status.stage == "Offer"
    assert (two.kind, two.candidate_id, two.status, two.delivery_id) == (
        "candidate_deleted",
        "c1a2b3d",
        None,
        "workable:d-1",
    )


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"nope",
        b"[]",
        b"null",
        b"{}",
        b'{"data": []}',
        b'{"data": {"id": 5}}',
        b'{"event_type": 7, "data": {"id": "x"}}',
        b'{"event_type": "candidate_moved", "data": {"id": ""}}',
        b'{"data": {"id": "x", "job": {"shortcode": "J"}, "stage": {"a": 1}}}',
        b"\xc3\x28",
        b"{" * 100_000,
    ],
    ids=lambda b: repr(b[:30]),
)
def test_signed_bodies_of_the_wrong_shape_are_rejected(wk: VendorRig, body: bytes) -> None:
    with pytest.raises(WebhookRejected):
        adapter_of(wk).read_webhook(signed(body), body)


def test_a_body_over_one_megabyte_is_refused_before_it_is_read(wk: VendorRig) -> None:
    body = b'{"data": {"id": "x", "pad": "' + b"x" * MAX_WEBHOOK_BYTES + b'"}}'
    with pytest.raises(WebhookRejected, match="over 1,048,576 bytes"):
        adapter_of(wk).read_webhook(signed(body), body)


@FUZZ
@given(
    event=st.sampled_from([None, "candidate_moved", "candidate_deleted", "employee_created"]), data=JSONISH
)
def test_signed_odd_payloads_give_events_or_a_rejection(wk: VendorRig, event: str | None, data: Any) -> None:
    payload: dict[str, Any] = {"data": data} if event is None else {"event_type": event, "data": data}
    body = json.dumps(payload).encode()
    try:
        events = adapter_of(wk).read_webhook(signed(body), body)
    except WebhookRejected:
        return
    assert isinstance(events, list)


# --- update_contact ------------------------------------------------------------------------------------


def patches(rig: VendorRig) -> list[Any]:
    return [r.json for r in rig.emulator.requests("PATCH")]


def test_update_contact_sets_the_phone_and_keeps_the_email(wk: VendorRig) -> None:
    adapter = adapter_of(wk)
    record = exported(adapter, "same@example.org")
    patch = ContactPatch(
        add_emails=(EmailAddress("Same@Example.org", EmailType.PRIMARY),), phone="+30 210 000 0000"
    )

    adapter.update_contact(record.candidate_id, patch, current=adapter.read_contact(record.candidate_id))

    after = stored(wk, record.candidate_id)
    assert (after["email"], after["phone"]) == ("same@example.org", "+30 210 000 0000")
    assert patches(wk) == [{"candidate": {"phone": "+30 210 000 0000"}}]
    again = ContactPatch(add_emails=patch.add_emails, phone="+30 (210) 000-0000")
    before = len(wk.emulator.requests())
    adapter.update_contact(record.candidate_id, again, current=adapter.read_contact(record.candidate_id))
    assert len(wk.emulator.requests()) == before + 1  # the read only: nothing new is sent


def test_read_contact_returns_the_one_email_and_phone(wk: VendorRig) -> None:
    adapter = adapter_of(wk)
    record = exported(adapter, "same@example.org")

    details = adapter.read_contact(record.candidate_id)

    assert (details.first_name, details.last_name) == ("New", "Person")
    assert details.emails == ("same@example.org",) and details.phones == ()
    assert details.linkedin_url == "https://www.linkedin.com/in/new-person" and details.merged_into is None


def test_a_name_change_and_linkedin_go_in_one_patch_keeping_other_profiles(wk: VendorRig) -> None:
    adapter = adapter_of(wk)
    record = exported(adapter, "same@example.org")
    with wk.emulator.lock:
        wk.emulator.table("candidates")[record.candidate_id]["social_profiles"].append(
            {"type": "github", "url": "https://github.com/new-person"}
        )
    url = "https://www.linkedin.com/in/newer-person"

    adapter.update_contact(
        record.candidate_id,
        ContactPatch(first_name="Newer", last_name="Person", linkedin_url=url),
        current=adapter.read_contact(record.candidate_id),
    )

    assert patches(wk) == [
        {
            "candidate": {
                "firstname": "Newer",
                "social_profiles": [
                    {"type": "github", "url": "https://github.com/new-person"},
                    {"type": "linkedin", "url": url},
                ],
            }
        }
    ]
    details = adapter.read_contact(record.candidate_id)
    assert (details.first_name, details.linkedin_url) == ("Newer", url)


def test_email_removal_is_ignored_and_nothing_is_sent(wk: VendorRig) -> None:
    adapter = adapter_of(wk)
    record = exported(adapter, "kept@example.org")
    current = adapter.read_contact(record.candidate_id)

    adapter.update_contact(
        record.candidate_id, ContactPatch(remove_emails=("kept@example.org",)), current=current
    )

    assert ContactField.REMOVE_EMAIL not in adapter.capabilities.contact_fields
    assert patches(wk) == [] and stored(wk, record.candidate_id)["email"] == "kept@example.org"


def test_update_contact_gives_a_candidate_without_email_one(wk: VendorRig) -> None:
    wk.emulator.seed(
        {
            "candidates": [
                {
                    "id": "noemail",
                    "firstname": "No",
                    "lastname": "Email",
                    "job": {"shortcode": JOB, "title": "x"},
                }
            ]
        }
    )
    adapter = adapter_of(wk)

    adapter.update_contact(
        "noemail",
        ContactPatch(add_emails=(EmailAddress("found@example.org", EmailType.WORK),)),
        current=adapter.read_contact("noemail"),
    )

    assert stored(wk, "noemail")["email"] == "found@example.org"


def test_update_contact_never_replaces_the_one_email_a_candidate_has(wk: VendorRig) -> None:
    adapter = adapter_of(wk)
    record = exported(adapter, "kept@example.org")
    patch = ContactPatch(add_emails=(EmailAddress("other@example.org", EmailType.WORK),), phone="+1 555 0100")

    with pytest.raises(NotSupported, match="one email per candidate") as refused:
        adapter.update_contact(record.candidate_id, patch, current=adapter.read_contact(record.candidate_id))

    assert "other@example.org" not in refused.value.user_message()  # channel messages carry no addresses
    after = stored(wk, record.candidate_id)
    assert (after["email"], after["phone"]) == ("kept@example.org", "+1 555 0100")  # the phone still went out


def test_an_edit_in_workable_is_read_and_a_deleted_candidate_is_not_found(wk: VendorRig) -> None:
    adapter = adapter_of(wk)
    record = exported(adapter, "kept@example.org")
    current = adapter.read_contact(record.candidate_id)

    wk.emulator.edit_person(
        record.candidate_id, last_name="Persson", phones=["+1 555 0199"], linkedin_url=None
    )
    edited = adapter.read_contact(record.candidate_id)
    assert (edited.last_name, edited.phones, edited.linkedin_url) == ("Persson", ("+1 555 0199",), None)

    wk.emulator.delete_person(record.candidate_id)
    with pytest.raises(NotFound):
        adapter.read_contact(record.candidate_id)
    with pytest.raises(NotFound):
        adapter.update_contact(
            record.candidate_id, ContactPatch(linkedin_url="https://linkedin.com/in/x"), current=current
        )
