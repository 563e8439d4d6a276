"""Ashby two-way sync over loopback HTTP: where a record stands, changes since a sync token, signed webhooks,
their registration, and corrected contact details.

- application.info / application.list / candidate.update / webhook.create|info|update: tests/specs/ashby-openapi.yml
  (every request the adapter sends is checked against it on teardown, as in test_ashby.py)
- `Ashby-Signature: sha256=<hex HMAC-SHA256 of the body>`: https://developers.ashbyhq.com/docs/authenticating-webhooks
- retries of failed deliveries: https://developers.ashbyhq.com/docs/retries

A person's moves come through the emulator's `POST /_emulator/move`; webhooks go to ats_rig's
`WebhookReceiver`, a plain http.server on 127.0.0.1:0 that keeps the headers and raw body of every POST.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from ats_rig import FUZZ, JSONISH, VendorRig, WebhookReceiver, all_statuses, move, person, webhook_receiver
from hypothesis import given
from hypothesis import strategies as st
from openapi_core import OpenAPI
from test_ashby import ashby_spec, assert_within_spec  # noqa: F401 (ashby_spec is a fixture)

from ats.ashby import MAX_WEBHOOK_BYTES, REGISTERED_WEBHOOKS, SPEC, AshbyAdapter
from ats.errors import NotFound, WebhookRejected
from ats.types import AtsStatus, ContactField, ContactPatch, CreatedRecord, EmailAddress
from core.vocabulary import EmailType, Vendor

BACKEND_JOB = "fe44a7d3-3d51-5f03-9423-c02b9707a62b"
RECRUITER_SCREEN = "08e3a97b-9b23-5b74-8564-ef4c7b067338"
TECHNICAL_INTERVIEW = "d2d7d8f7-016a-5b27-8b84-0fcd79bfa854"
SECRET = "whsec-ashby-connection-7"


# --- rig -----------------------------------------------------------------------------------------------


@pytest.fixture
def rig(
    make_rig: Callable[..., VendorRig],
    ashby_spec: tuple[OpenAPI, Mapping[str, Any]],  # noqa: F811 (the fixture imported above)
) -> Iterator[VendorRig]:
    """Serve a seeded Ashby; afterwards, fail if any request broke the published spec."""
    built = make_rig(Vendor.ASHBY)
    yield built
    assert_within_spec(ashby_spec, built.emulator)


def sync_adapter(rig: VendorRig, **fields: str) -> AshbyAdapter:
    adapter = rig.adapter(secrets={"webhook_secret": SECRET}, fields=fields)
    assert isinstance(adapter, AshbyAdapter)
    return adapter


def exported(adapter: AshbyAdapter, email: str = "new.person@example.org") -> CreatedRecord:
    created = adapter.create_applicant(person(email), job_id=BACKEND_JOB, stage_id=RECRUITER_SCREEN)
    return CreatedRecord(
        created.candidate_id, created.application_id, BACKEND_JOB, prospect=False, stage_id=RECRUITER_SCREEN
    )


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"Ashby-Signature": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


# --- capabilities and record_status --------------------------------------------------------------------


def test_sync_capabilities_are_declared() -> None:
    caps = SPEC.capabilities
    assert (caps.status_sync, caps.webhooks, caps.webhook_registration, caps.contact_update) == (True,) * 4


def test_a_moved_application_is_seen_by_record_status(rig: VendorRig) -> None:
    adapter = sync_adapter(rig)
    record = exported(adapter)

    before = adapter.record_status(record)
    assert (before.status, before.stage, before.stage_id) == (
        AtsStatus.ACTIVE,
        "Recruiter Screen",
        RECRUITER_SCREEN,
    )
    assert (before.application_id, before.job_id, before.prospect) == (
        record.application_id,
        BACKEND_JOB,
        False,
    )
    assert before.record_url and record.candidate_id in before.record_url
    assert before.updated_at and before.updated_at.endswith("Z")

    move(rig.emulator, str(record.application_id), stage_id=TECHNICAL_INTERVIEW)

    after = adapter.record_status(record)
    assert (after.status, after.stage, after.stage_id) == (
        AtsStatus.ACTIVE,
        "Technical Interview",
        TECHNICAL_INTERVIEW,
    )
    assert [r.path for r in rig.emulator.requests()[-2:]] == ["/application.info", "/candidate.info"]


@pytest.mark.parametrize(
    ("change", "status", "reason"),
    [
        ({"status": "rejected", "reason": "Too inexperienced"}, AtsStatus.REJECTED, "Too inexperienced"),
        (
            {"status": "rejected", "reason": "Accepted another offer"},
            AtsStatus.REJECTED,
            "Accepted another offer",
        ),
        ({"status": "archived", "reason": "Added by mistake"}, AtsStatus.ARCHIVED, "Added by mistake"),
        ({"status": "hired"}, AtsStatus.HIRED, None),
    ],
    ids=["rejected-by-org", "rejected-by-candidate", "archived-other", "hired"],
)
def test_rejection_archive_and_hire_come_through_with_the_reason(
    rig: VendorRig, change: dict[str, str], status: AtsStatus, reason: str | None
) -> None:
    adapter = sync_adapter(rig)
    record = exported(adapter)

    move(rig.emulator, str(record.application_id), **change)

    seen = adapter.record_status(record)
    assert (seen.status, seen.reason) == (status, reason)
    assert seen.stage == ("Hired" if status is AtsStatus.HIRED else "Archived")


def test_a_lead_is_a_prospect_and_a_candidate_without_a_job_has_no_application(rig: VendorRig) -> None:
    adapter = sync_adapter(rig)
    lead = adapter.create_prospect(person("lead@example.org"), job_id=BACKEND_JOB)
    alone = adapter.create_prospect(person("alone@example.org"), job_id=None)

    on_job = adapter.record_status(
        CreatedRecord(lead.candidate_id, lead.application_id, BACKEND_JOB, prospect=True)
    )
    no_job = adapter.record_status(CreatedRecord(alone.candidate_id, None, None, prospect=True))

    assert (on_job.prospect, on_job.stage, on_job.status) == (True, "Lead", AtsStatus.ACTIVE)
    assert (no_job.application_id, no_job.job_id, no_job.stage, no_job.prospect) == (None, None, None, True)
    assert no_job.record_url and alone.candidate_id in no_job.record_url


def test_a_gone_record_is_not_found(rig: VendorRig) -> None:
    adapter = sync_adapter(rig)
    missing = "00000000-0000-4000-8000-00000000abcd"
    with pytest.raises(NotFound):
        adapter.record_status(CreatedRecord(missing, missing, BACKEND_JOB, prospect=False))
    with pytest.raises(NotFound):
        adapter.record_status(CreatedRecord(missing, None, None, prospect=True))


# --- iter_status_pages ---------------------------------------------------------------------------------


def test_the_poll_from_the_previous_sync_token_sees_the_move(rig: VendorRig) -> None:
    adapter = sync_adapter(rig)
    moved, still = exported(adapter, "moved@example.org"), exported(adapter, "still@example.org")
    exported(adapter, "third@example.org")  # 3 applications: more than one page of 2

    first, cursor = all_statuses(adapter, None)
    assert {s.application_id for s in first} >= {moved.application_id, still.application_id}
    assert cursor

    move(rig.emulator, str(moved.application_id), stage_id=TECHNICAL_INTERVIEW)
    changed, next_cursor = all_statuses(adapter, cursor)

    assert [(s.application_id, s.stage, s.status) for s in changed] == [
        (moved.application_id, "Technical Interview", AtsStatus.ACTIVE)
    ]
    assert next_cursor and next_cursor != cursor
    assert all_statuses(adapter, next_cursor)[0] == []  # nothing changed since
    listings = [r.json for r in rig.emulator.requests(path="/application.list")]
    assert {"syncToken": "[redacted]", "limit": 2} in listings  # the request log hides tokens


def test_an_expired_sync_token_lists_every_application_again(make_rig: Callable[..., VendorRig]) -> None:
    rig = make_rig(Vendor.ASHBY, sync_token_ttl=-1.0)
    adapter = sync_adapter(rig)
    record = exported(adapter)
    _, cursor = all_statuses(adapter, None)

    again, _ = all_statuses(adapter, cursor)

    assert record.application_id in {s.application_id for s in again}


# --- webhooks ------------------------------------------------------------------------------------------


def test_registered_webhooks_deliver_a_move_that_read_webhook_verifies(
    rig: VendorRig, receiver: WebhookReceiver
) -> None:
    adapter = sync_adapter(rig)
    record = exported(adapter)

    setup = adapter.register_webhooks(receiver.url)

    assert setup.registered is True and setup.events == REGISTERED_WEBHOOKS and len(setup.ids) == 3
    assert SECRET not in setup.instructions
    hooks = rig.emulator.records("webhooks")
    assert sorted((h["webhookType"], h["requestUrl"], h["secretToken"]) for h in hooks) == sorted(
        (kind, receiver.url, SECRET) for kind in REGISTERED_WEBHOOKS
    )
    pings = receiver.wait_for(3)
    assert all(adapter.read_webhook(p.headers, p.body) == [] for p in pings)  # pings announce nothing

    move(rig.emulator, str(record.application_id), status="rejected", reason="Too inexperienced")

    delivery = receiver.wait_for(action="applicationUpdate")[-1]
    assert delivery.headers["Ashby-Signature"].startswith("sha256=")
    (event,) = adapter.read_webhook(delivery.headers, delivery.body)
    assert (event.kind, event.candidate_id, event.application_id) == (
        "applicationUpdate",
        record.candidate_id,
        record.application_id,
    )
    assert event.status is not None
    assert (event.status.status, event.status.reason, event.status.stage) == (
        AtsStatus.REJECTED,
        "Too inexperienced",
        "Archived",
    )
    # Only the registered type reaches the URL: the stage-change and hire webhooks are not asked for.
    assert receiver.of(action="candidateStageChange") == []


def test_read_webhook_rejects_a_wrong_secret_a_tampered_body_and_a_missing_signature(
    rig: VendorRig, receiver: WebhookReceiver
) -> None:
    adapter = sync_adapter(rig)
    record = exported(adapter)
    adapter.register_webhooks(receiver.url)
    move(rig.emulator, str(record.application_id), stage_id=TECHNICAL_INTERVIEW)
    delivery = receiver.wait_for(action="applicationUpdate")[0]

    wrong = rig.adapter(secrets={"webhook_secret": "another-connections-secret"})
    with pytest.raises(WebhookRejected, match="does not match"):
        wrong.read_webhook(delivery.headers, delivery.body)
    tampered = delivery.body.replace(b"Technical Interview", b"Offer Accepted!!!!!")
    with pytest.raises(WebhookRejected, match="does not match"):
        adapter.read_webhook(delivery.headers, tampered)
    unsigned = {k: v for k, v in delivery.headers.items() if k != "Ashby-Signature"}
    with pytest.raises(WebhookRejected, match="without an Ashby-Signature"):
        adapter.read_webhook(unsigned, delivery.body)
    no_secret = rig.adapter()
    with pytest.raises(WebhookRejected, match="no webhook secret"):
        no_secret.read_webhook(delivery.headers, delivery.body)
    # The header's name is case-insensitive; the value is checked as sent.
    for name in ("ASHBY-SIGNATURE", "ashby-signature"):
        assert len(adapter.read_webhook({name: delivery.headers["Ashby-Signature"]}, delivery.body)) == 1


def test_a_redelivery_has_the_same_delivery_id(rig: VendorRig) -> None:
    # 3 pings, then the first try of the move fails.
    with webhook_receiver(statuses=[200, 200, 200, 503]) as receiver:
        adapter = sync_adapter(rig)
        record = exported(adapter)
        adapter.register_webhooks(receiver.url)
        receiver.wait_for(3)

        move(rig.emulator, str(record.application_id), stage_id=TECHNICAL_INTERVIEW)

        first, again = receiver.wait_for(2, action="applicationUpdate")[:2]
        ids = {e.delivery_id for r in (first, again) for e in adapter.read_webhook(r.headers, r.body)}
        assert len(ids) == 1
        deliveries = rig.emulator.webhooks.wait_for(5)  # 3 pings and 2 tries, as the emulator recorded them
        assert [d.status for d in deliveries if d.event == "applicationUpdate"][:2] == [503, 200]


def test_a_rejected_delivery_is_not_retried(rig: VendorRig) -> None:
    with webhook_receiver(statuses=[200, 200, 200, 401]) as receiver:  # "401 Unauthorized" is not retried
        adapter = sync_adapter(rig)
        record = exported(adapter)
        adapter.register_webhooks(receiver.url)
        move(rig.emulator, str(record.application_id), stage_id=TECHNICAL_INTERVIEW)
        receiver.wait_for(action="applicationUpdate")
        time.sleep(0.5)  # longer than the emulator's first retry delay (0.1 s)
        assert len(receiver.of(action="applicationUpdate")) == 1


def test_registering_twice_keeps_one_registration_per_type(rig: VendorRig, receiver: WebhookReceiver) -> None:
    adapter = sync_adapter(rig)
    first = adapter.register_webhooks(receiver.url)
    again = adapter.register_webhooks(receiver.url)
    assert again.ids == first.ids

    # A fresh adapter (another process, after a restart) finds them through the ids the caller kept.
    later = sync_adapter(rig, webhook_ids=",".join(first.ids))
    creates = len(rig.emulator.requests(path="/webhook.create"))
    assert later.register_webhooks(receiver.url).ids == first.ids
    assert len(rig.emulator.requests(path="/webhook.create")) == creates == 3
    assert len(rig.emulator.records("webhooks")) == 3


def test_a_disabled_webhook_is_enabled_again_and_a_deleted_one_made_again(
    rig: VendorRig, receiver: WebhookReceiver
) -> None:
    adapter = sync_adapter(rig)
    first = adapter.register_webhooks(receiver.url)
    disabled, deleted, _ = first.ids
    with rig.emulator.lock:
        rig.emulator.table("webhooks")[disabled]["enabled"] = False  # its ping failed (setting-up-webhooks)
        del rig.emulator.table("webhooks")[deleted]  # an admin deleted it in Ashby

    again = sync_adapter(rig, webhook_ids=",".join(first.ids)).register_webhooks(receiver.url)

    hooks = {h["id"]: h for h in rig.emulator.records("webhooks")}
    assert hooks[disabled]["enabled"] is True
    assert len(hooks) == 3 and deleted not in hooks and len(set(again.ids) - set(first.ids)) == 1
    (update,) = rig.emulator.requests(path="/webhook.update")
    assert update.json["webhookId"] == disabled and update.json["enabled"] is True


def test_a_new_address_repoints_the_known_webhooks(rig: VendorRig, receiver: WebhookReceiver) -> None:
    old_address = "http://127.0.0.1:9/ats/webhooks/ashby/old"  # nothing listens there
    first = sync_adapter(rig).register_webhooks(old_address)

    again = sync_adapter(rig, webhook_ids=",".join(first.ids)).register_webhooks(receiver.url)

    assert again.ids == first.ids
    assert {h["requestUrl"] for h in rig.emulator.records("webhooks")} == {receiver.url}
    assert len(rig.emulator.requests(path="/webhook.update")) == 3


def test_a_key_without_api_keys_write_gets_instructions(rig: VendorRig, receiver: WebhookReceiver) -> None:
    adapter = rig.adapter(secrets={"api_key": "ashby-readonly-key", "webhook_secret": SECRET})

    setup = adapter.register_webhooks(receiver.url)

    assert setup.registered is False and setup.ids == ()
    assert receiver.url in setup.instructions and "Admin → Integrations → Webhooks" in setup.instructions
    assert all(kind in setup.instructions for kind in REGISTERED_WEBHOOKS)
    assert SECRET not in setup.instructions
    assert rig.emulator.records("webhooks") == []


def test_candidate_deleted_and_merged_name_the_candidate_gone(rig: VendorRig) -> None:
    adapter = sync_adapter(rig)
    gone = "6b4d6b8e-1c1f-4c39-9a0f-0a7cfd1b2f11"
    deleted = json.dumps({"action": "candidateDelete", "data": {"candidate": {"id": gone}}}).encode()
    merged = json.dumps(
        {
            "action": "candidateMerge",
            "data": {"deletedCandidate": {"id": gone}, "mergedCandidate": {"id": "x"}},
        }
    ).encode()

    (one,) = adapter.read_webhook(signed(deleted), deleted)
    (two,) = adapter.read_webhook(signed(merged), merged)

    assert (one.kind, one.candidate_id, one.status) == ("candidateDelete", gone, None)
    assert (two.kind, two.candidate_id) == ("candidateMerge", gone)
    assert one.delivery_id != two.delivery_id
    assert adapter.read_webhook(signed(deleted), deleted)[0].delivery_id == one.delivery_id


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[1, 2]",
        b'"text"',
        b"{}",
        b'{"action": "applicationUpdate"}',
        b'{"action": "applicationUpdate", "data": []}',
        b'{"action": "applicationUpdate", "data": {"application": "x"}}',
        b'{"action": "applicationUpdate", "data": {"application": {"id": "a"}}}',
        b'{"action": "candidateDelete", "data": {"candidate": {"id": 7}}}',
        b'{"action": 3, "data": {}}',
        b"\xff\xfe{",
        b"[" * 100_000,
    ],
    ids=lambda b: repr(b[:30]),
)
def test_signed_bodies_of_the_wrong_shape_are_rejected(rig: VendorRig, body: bytes) -> None:
    adapter = sync_adapter(rig)
    with pytest.raises(WebhookRejected):
        adapter.read_webhook(signed(body), body)


def test_a_body_over_one_megabyte_is_refused_before_it_is_read(rig: VendorRig) -> None:
    adapter = sync_adapter(rig)
    body = b'{"action": "ping", "data": {"pad": "' + b"x" * MAX_WEBHOOK_BYTES + b'"}}'
    with pytest.raises(WebhookRejected, match="over 1,048,576 bytes"):
        adapter.read_webhook(signed(body), body)
    assert (
        adapter.read_webhook(signed(b'{"action": "ping", "data": {}}'), b'{"action": "ping", "data": {}}')
        == []
    )


@FUZZ
@given(
    action=st.sampled_from(
        ["applicationUpdate", "candidateHire", "candidateDelete", "candidateMerge", "ping", "x"]
    ),
    data=JSONISH,
)
def test_signed_odd_payloads_give_events_or_a_rejection(rig: VendorRig, action: str, data: Any) -> None:
    adapter = sync_adapter(rig)
    body = json.dumps({"action": action, "data": data}).encode()
    try:
        events = adapter.read_webhook(signed(body), body)
    except WebhookRejected:
        return
    assert isinstance(events, list)


# --- update_contact ------------------------------------------------------------------------------------


def test_update_contact_adds_addresses_and_the_phone_and_drops_none(rig: VendorRig) -> None:
    adapter = sync_adapter(rig)
    record = exported(adapter, "first@example.org")
    with rig.emulator.lock:  # a recruiter added an address of their own in Ashby
        rig.emulator.table("candidates")[record.candidate_id]["emailAddresses"].append(
            {"value": "by.hand@example.org", "type": "Work", "isPrimary": False}
        )
    patch = ContactPatch(
        add_emails=(
            EmailAddress("First@Example.org", EmailType.PRIMARY),  # already there, in another case
            EmailAddress("new.work@example.org", EmailType.WORK),
            EmailAddress("new.home@example.org", EmailType.PERSONAL),
        ),
        phone="+1 555 010 0199",
    )

    adapter.update_contact(record.candidate_id, patch, current=adapter.read_contact(record.candidate_id))

    details = adapter.read_contact(record.candidate_id)
    assert details.emails == (
        "first@example.org",
        "by.hand@example.org",
        "new.work@example.org",
        "new.home@example.org",
    )
    assert details.phones == ("+1 555 010 0199",)
    updates = [r.json for r in rig.emulator.requests(path="/candidate.update")]
    assert updates == [
        {
            "candidateId": record.candidate_id,
            "phoneNumber": "+1 555 010 0199",
            "alternateEmail": "new.work@example.org",
            "sendNotifications": False,
        },
        {
            "candidateId": record.candidate_id,
            "alternateEmail": "new.home@example.org",
            "sendNotifications": False,
        },
    ]

    again = ContactPatch(add_emails=patch.add_emails, phone="+1 (555) 010-0199")
    before = len(rig.emulator.requests())
    adapter.update_contact(record.candidate_id, again, current=details)  # nothing new: nothing sent
    assert len(rig.emulator.requests()) == before


def test_read_contact_splits_the_name_and_finds_the_linkedin_link(rig: VendorRig) -> None:
    adapter = sync_adapter(rig)
    record = exported(adapter, "first@example.org")

    details = adapter.read_contact(record.candidate_id)

    assert (details.first_name, details.last_name) == ("New", "Person")
    assert details.emails == ("first@example.org",) and details.phones == ()
    assert details.linkedin_url == "https://www.linkedin.com/in/new-person" and details.merged_into is None


def test_a_name_change_and_linkedin_go_in_one_update(rig: VendorRig) -> None:
    adapter = sync_adapter(rig)
    record = exported(adapter, "first@example.org")
    url = "https://www.linkedin.com/in/newer-person"

    adapter.update_contact(
        record.candidate_id,
        ContactPatch(first_name="Newer", linkedin_url=url),
        current=adapter.read_contact(record.candidate_id),
    )

    (update,) = [r.json for r in rig.emulator.requests(path="/candidate.update")]
    assert update == {
        "candidateId": record.candidate_id,
        "name": "Newer Person",
        "linkedInUrl": url,
        "sendNotifications": False,
    }
    details = adapter.read_contact(record.candidate_id)
    assert (details.first_name, details.last_name, details.linkedin_url) == ("Newer", "Person", url)


def test_email_removal_is_ignored_as_ashby_documents_none(rig: VendorRig) -> None:
    adapter = sync_adapter(rig)
    record = exported(adapter, "first@example.org")
    current = adapter.read_contact(record.candidate_id)

    adapter.update_contact(
        record.candidate_id, ContactPatch(remove_emails=("first@example.org",)), current=current
    )

    assert ContactField.REMOVE_EMAIL not in adapter.capabilities.contact_fields
    assert rig.emulator.requests(path="/candidate.update") == []


def test_update_contact_gives_a_candidate_without_email_a_primary_one(rig: VendorRig) -> None:
    adapter = sync_adapter(rig)
    created = adapter.create_prospect(person("x@example.org", emails=()), job_id=None)
    patch = ContactPatch(add_emails=(EmailAddress("found@example.org", EmailType.WORK),))

    adapter.update_contact(created.candidate_id, patch, current=adapter.read_contact(created.candidate_id))

    mine = next(c for c in rig.emulator.records("candidates") if c["id"] == created.candidate_id)
    assert mine["primaryEmailAddress"]["value"] == "found@example.org"


def test_an_edit_in_ashby_is_read_and_a_deleted_candidate_is_not_found(rig: VendorRig) -> None:
    adapter = sync_adapter(rig)
    record = exported(adapter, "first@example.org")
    current = adapter.read_contact(record.candidate_id)

    rig.emulator.edit_person(record.candidate_id, last_name="Persson", emails=["edited@example.org"])
    edited = adapter.read_contact(record.candidate_id)
    assert (edited.last_name, edited.emails) == ("Persson", ("edited@example.org",))

    rig.emulator.delete_person(record.candidate_id)
    with pytest.raises(NotFound):
        adapter.read_contact(record.candidate_id)
    with pytest.raises(NotFound):
        adapter.update_contact(record.candidate_id, ContactPatch(phone="+1 555 0100"), current=current)
