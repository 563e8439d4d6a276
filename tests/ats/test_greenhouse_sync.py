"""Greenhouse Harvest v3 two-way sync over real HTTP: where an application stands, the changes poll, web hooks
(https://developers.greenhouse.io/webhooks.html), web hook set-up and corrected contact details.

Documented behaviour relied on:
- `GET /v3/applications` with `ids` and `updated_at=gte|…` (HD-OAS "List applications"); `status` is
  in_process|rejected|hired|converted; `stage_id`/`job_interview_stage_id` are null for prospects and
  terminal applications.
- `Signature: sha256 <hex HMAC-SHA256 of the body with the Secret Key>`; Unicode escaped before signing.
- `PATCH /v3/candidates/{id}`: array fields replace the whole collection (HD-OAS "Update candidate"), so an
  address is removed by leaving it out; `social_media_addresses` are untyped `{value}`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx
import pytest
from ats_rig import VendorRig, WebhookReceiver, paste_webhook, person

from ats.errors import NotFound, ValidationFailed, WebhookRejected
from ats.types import AtsStatus, ContactPatch, CreatedRecord, EmailAddress
from core.vocabulary import EmailType, Vendor

SECRET = "gh-web-hook-secret-key"
JOB, REVIEW, PHONE, TECH = "4001", "40010", "40011", "40012"
REASON = "Not in our hiring locations"  # seeded reason 801, "We rejected them"
ADA, ADA_APPLICATION = "9001", "7001"  # seeded: two addresses, an application at Phone Screen
NO_APPLICATION = "9002"  # seeded candidate without any application


@pytest.fixture
def gh(make_rig) -> VendorRig:
    return make_rig(Vendor.GREENHOUSE)


@pytest.fixture
def receiver(receiver: WebhookReceiver, gh: VendorRig) -> WebhookReceiver:
    """The conftest's receiver, set up as an admin does in Dev Center → Web Hooks: its URL and the Secret Key."""
    paste_webhook(gh, receiver.url, SECRET)
    return receiver


def _adapter(gh: VendorRig, secret: str = SECRET):
    return gh.adapter(secrets={"webhook_secret": secret})


def _export(adapter, email: str = "sync.me@example.org", stage_id: str | None = None) -> CreatedRecord:
    created = adapter.create_applicant(person(email), job_id=JOB, stage_id=stage_id)
    return CreatedRecord(created.candidate_id, created.application_id, JOB, prospect=False, stage_id=stage_id)


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def _signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"Signature": "sha256 " + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


# --- record_status and the poll -------------------------------------------------------------------------


def test_record_status_maps_the_application(gh: VendorRig) -> None:
    status = _adapter(gh).record_status(CreatedRecord(ADA, ADA_APPLICATION, JOB, prospect=False))

    assert (status.status, status.stage, status.stage_id) == (AtsStatus.ACTIVE, "Phone Screen", PHONE)
    assert (status.candidate_id, status.application_id, status.job_id) == (ADA, ADA_APPLICATION, JOB)
    assert status.prospect is False and status.reason is None
    assert status.record_url == "https://app.greenhouse.io/people/9001?application_id=7001"
    assert status.updated_at and status.updated_at.endswith("Z")
    assert [r.query for r in gh.emulator.requests("GET", "/v3/applications")] == [{"ids": ["7001"]}]


def test_a_move_is_seen_by_record_status_and_by_the_poll_from_the_previous_cursor(gh: VendorRig) -> None:
    adapter = _adapter(gh)
    record = _export(adapter)
    cursor = list(adapter.iter_status_pages(None))[-1].cursor

    gh.emulator.move_application(record.application_id, stage_id=TECH)

    assert adapter.record_status(record).stage == "Technical Interview"
    pages = list(adapter.iter_status_pages(cursor))
    moved = [s for p in pages for s in p.statuses if s.application_id == record.application_id]
    assert [(s.stage, s.stage_id) for s in moved] == [("Technical Interview", TECH)]
    first = gh.emulator.requests("GET", "/v3/applications")[-len(pages)]
    assert first.query["updated_at"] == [f"gte|{cursor}"]


def test_the_poll_cursor_never_passes_the_start_of_its_listing(gh: VendorRig) -> None:
    """An application changed on a page already read, while a later page's one changed after it, is still
    found by the next poll: the cursor stops at the listing's start (less clock skew), not the newest stamp."""
    adapter = _adapter(gh)
    records = [_export(adapter, f"p{i}@example.org") for i in range(5)]  # newest id first, 2 a page
    listing = adapter.iter_status_pages(None)
    first = next(listing)
    early, late = first.statuses[1].application_id, records[0].application_id
    gh.emulator.move_application(early, stage_id=TECH)
    time.sleep(0.005)  # the later page's change is stamped after it
    gh.emulator.move_application(late, stage_id=PHONE)
    rest = list(listing)
    assert late in {s.application_id for p in rest for s in p.statuses}

    again = {s.application_id: s for p in adapter.iter_status_pages(rest[-1].cursor) for s in p.statuses}
    assert again[early].stage_id == TECH


def test_a_rejection_carries_its_reason_and_unrejecting_brings_the_stage_back(gh: VendorRig) -> None:
    adapter = _adapter(gh)
    record = _export(adapter, stage_id=PHONE)

    gh.emulator.move_application(record.application_id, status="rejected", reason=REASON)
    rejected = adapter.record_status(record)
    gh.emulator.move_application(record.application_id, status="active")
    back = adapter.record_status(record)

    assert (rejected.status, rejected.reason, rejected.stage_id) == (AtsStatus.REJECTED, REASON, None)
    assert (back.status, back.stage_id, back.reason) == (AtsStatus.ACTIVE, PHONE, None)


def test_a_hired_application_is_hired(gh: VendorRig) -> None:
    adapter = _adapter(gh)
    record = _export(adapter)
    gh.emulator.move_application(record.application_id, status="hired")
    assert adapter.record_status(record).status is AtsStatus.HIRED


def test_a_prospect_without_an_application_says_so(gh: VendorRig) -> None:
    status = _adapter(gh).record_status(CreatedRecord(NO_APPLICATION, None, None, prospect=True))

    assert (status.application_id, status.stage, status.stage_id) == (None, None, None)
    assert status.prospect is True and status.status is AtsStatus.ACTIVE
    assert status.record_url == "https://app.greenhouse.io/people/9002"


def test_a_prospect_application_has_no_stage(gh: VendorRig) -> None:
    adapter = _adapter(gh)
    created = adapter.create_prospect(person("prospect.sync@example.org"), job_id=JOB)

    status = adapter.record_status(CreatedRecord(created.candidate_id, created.application_id, JOB, True))

    assert status.prospect is True and status.application_id == created.application_id
    assert (status.stage, status.stage_id, status.job_id) == (None, None, JOB)


def test_a_converted_prospect_is_followed_to_its_candidate_application(gh: VendorRig) -> None:
    adapter = _adapter(gh)
    prospect = adapter.create_prospect(person("converted@example.org"), job_id=JOB)
    applied = adapter.add_to_job(prospect.candidate_id, job_id=JOB, stage_id=TECH, prospect=False)
    with gh.emulator.lock:  # what convert_to_candidate leaves behind: the prospect application `converted`
        gh.emulator.table("applications")[prospect.application_id]["status"] = "converted"

    status = adapter.record_status(CreatedRecord(prospect.candidate_id, prospect.application_id, JOB, True))

    assert (status.application_id, status.stage_id, status.prospect) == (applied.application_id, TECH, False)


def test_a_deleted_application_or_candidate_is_not_found(gh: VendorRig) -> None:
    adapter = _adapter(gh)
    record = _export(adapter)
    gh.emulator.delete_candidate(record.candidate_id)

    with pytest.raises(NotFound):
        adapter.record_status(record)
    with pytest.raises(NotFound):
        adapter.record_status(CreatedRecord(record.candidate_id, None, None, prospect=True))


# --- web hooks ------------------------------------------------------------------------------------------


def test_a_stage_change_web_hook_verifies_and_carries_the_whole_picture(
    gh: VendorRig, receiver: WebhookReceiver
) -> None:
    adapter = _adapter(gh)
    record = _export(adapter)

    gh.emulator.move_application(record.application_id, stage_id=TECH)

    headers, body = receiver.wait_for(1)[0]
    assert _lower(headers)["signature"].startswith("sha256 ") and _lower(headers)["greenhouse-event-id"]
    assert json.loads(body)["action"] == "candidate_stage_change"
    [event] = adapter.read_webhook(headers, body)
    assert (event.kind, event.candidate_id, event.application_id) == (
        "candidate_stage_change",
        record.candidate_id,
        record.application_id,
    )
    assert event.status == adapter.record_status(record)  # the same picture the API gives


def test_a_rejection_web_hook_carries_the_reason(gh: VendorRig, receiver: WebhookReceiver) -> None:
    adapter = _adapter(gh)
    record = _export(adapter)

    gh.emulator.move_application(record.application_id, status="rejected", reason=REASON)

    [event] = adapter.read_webhook(*receiver.wait_for(1)[0])
    assert event.kind == "reject_candidate"
    assert (event.status.status, event.status.reason) == (AtsStatus.REJECTED, REASON)
    assert (event.status.stage, event.status.stage_id) == ("Application Review", None)


def test_a_hire_web_hook_leaves_the_status_to_a_read(gh: VendorRig, receiver: WebhookReceiver) -> None:
    """The documented hired payload has no `status`, `current_stage` or `last_activity_at`."""
    adapter = _adapter(gh)
    record = _export(adapter)

    gh.emulator.move_application(record.application_id, status="hired")

    [event] = adapter.read_webhook(*receiver.wait_for(1)[0])
    assert (event.kind, event.application_id, event.status) == ("hire_candidate", record.application_id, None)
    assert adapter.record_status(record).status is AtsStatus.HIRED


def test_a_deleted_candidate_web_hook_names_the_person(gh: VendorRig, receiver: WebhookReceiver) -> None:
    adapter = _adapter(gh)
    record = _export(adapter)

    gh.emulator.delete_candidate(record.candidate_id)

    [event] = adapter.read_webhook(*receiver.wait_for(1)[0])
    assert (event.kind, event.candidate_id, event.application_id, event.status) == (
        "delete_candidate",
        record.candidate_id,
        None,
        None,
    )


def test_a_redelivery_has_a_new_event_id_and_the_same_delivery_id(
    gh: VendorRig, receiver: WebhookReceiver
) -> None:
    adapter = _adapter(gh)
    record = _export(adapter)
    gh.emulator.move_application(record.application_id, stage_id=TECH)
    first = receiver.wait_for(1)[0]

    gh.emulator.redeliver(gh.emulator.webhooks.wait_for(1)[0])

    second = receiver.wait_for(2)[1]
    event_ids = [_lower(headers)["greenhouse-event-id"] for headers, _ in (first, second)]
    assert event_ids[0] != event_ids[1] and second[1] == first[1]
    assert adapter.read_webhook(*first)[0].delivery_id == adapter.read_webhook(*second)[0].delivery_id


def test_a_web_hook_is_rejected_with_a_wrong_secret_a_tampered_body_or_no_signature(
    gh: VendorRig, receiver: WebhookReceiver
) -> None:
    adapter = _adapter(gh)
    record = _export(adapter)
    gh.emulator.move_application(record.application_id, stage_id=TECH)
    headers, body = receiver.wait_for(1)[0]
    tampered = body.replace(b"Technical Interview", b"Offer Accepted!!!!!")
    unsigned = {k: v for k, v in headers.items() if k != "Signature"}

    for bad_headers, bad_body, secret in [
        (headers, body, "another-secret"),
        (headers, tampered, SECRET),
        (unsigned, body, SECRET),
        ({**headers, "Signature": headers["Signature"].replace("sha256", "sha1")}, body, SECRET),
        ({**headers, "Signature": "sha256"}, body, SECRET),
    ]:
        with pytest.raises(WebhookRejected):
            _adapter(gh, secret).read_webhook(bad_headers, bad_body)
    with pytest.raises(WebhookRejected, match="no secret"):
        gh.adapter().read_webhook(headers, body)
    # Header names are case-insensitive, and so is the hex digest.
    lowered = _lower(headers) | {"signature": "sha256 " + headers["Signature"].split(" ", 1)[1].upper()}
    assert adapter.read_webhook(lowered, body)


def test_the_body_is_verified_exactly_as_sent_with_greenhouses_unicode_escapes(
    gh: VendorRig, receiver: WebhookReceiver
) -> None:
    adapter = _adapter(gh)
    created = adapter.create_applicant(
        person("zoe@example.org", first_name="Zoë", last_name="<b>Ça</b> & co"), job_id=JOB, stage_id=None
    )
    gh.emulator.move_application(created.application_id, stage_id=TECH)

    headers, body = receiver.wait_for(1)[0]

    assert b"Zo\\u00eb" in body and b"\\u003cb\\u003e" in body and b"\\u0026" in body
    assert adapter.read_webhook(headers, body)[0].application_id == created.application_id


@pytest.mark.parametrize(
    "message",
    [
        {"action": "ping", "payload": {"web_hook_id": 1}},
        {"action": "job_created", "payload": {"job": {"id": 4001}}},
        {"action": "offer_created", "payload": {"id": 1, "application_id": 7001}},
    ],
)
def test_events_the_app_does_not_use_verify_and_announce_nothing(gh: VendorRig, message: dict) -> None:
    body = json.dumps(message).encode()
    assert _adapter(gh).read_webhook(_signed(body), body) == []


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe not utf-8",
        b'"just a string"',
        b'{"payload": {}}',
        b'{"action": "reject_candidate"}',
        b'{"action": "reject_candidate", "payload": {"application": {"id": {"nested": 1}}}}',
        b'{"action": "reject_candidate", "payload": {"application": []}}',
        b'{"action": "delete_candidate", "payload": {"person": {"id": true}}}',
        b'{"action": 7, "payload": {}}',
    ],
)
def test_a_signed_body_not_shaped_like_greenhouses_is_rejected_not_raised(gh: VendorRig, body: bytes) -> None:
    with pytest.raises(WebhookRejected):
        _adapter(gh).read_webhook(_signed(body), body)


def test_an_oversized_body_is_refused_before_its_signature_is_computed(gh: VendorRig) -> None:
    body = b'{"action": "ping", "payload": {"pad": "' + b"x" * 1_000_000 + b'"}}'
    with pytest.raises(WebhookRejected, match="over 1 MB"):
        _adapter(gh).read_webhook(_signed(body), body)


def test_web_hook_set_up_is_left_to_an_admin_in_the_dev_center(gh: VendorRig) -> None:
    adapter = _adapter(gh)
    url = "https://scaleup.example/ats/webhooks/greenhouse/3"

    setup = adapter.register_webhooks(url)

    assert setup.registered is False and not adapter.capabilities.webhook_registration
    assert "Configure → Dev Center → Web Hooks" in setup.instructions and url in setup.instructions
    assert (
        "Candidate Stage Change" in setup.instructions and "Candidate/Prospect Rejected" in setup.instructions
    )
    assert SECRET not in setup.instructions
    assert set(setup.events) >= {"candidate_stage_change", "reject_candidate", "hire_candidate"}
    assert gh.emulator.requests() == []  # partners-only `POST /v3/webhooks` is never called


# --- corrected contact details out ---------------------------------------------------------------------


def test_read_contact_returns_what_greenhouse_holds(gh: VendorRig) -> None:
    details = _adapter(gh).read_contact(ADA)

    assert (details.first_name, details.last_name) == ("Ada", "Lovelace")
    assert details.emails == ("ada@example.com", "ada.lovelace@engines.example")
    assert details.phones == () and details.merged_into is None
    assert details.linkedin_url == "https://www.linkedin.com/in/ada-lovelace"


def test_update_contact_adds_an_address_and_a_phone_and_keeps_the_others(gh: VendorRig) -> None:
    adapter = _adapter(gh)
    patch = ContactPatch(
        add_emails=(
            EmailAddress("ADA@example.com", EmailType.PRIMARY),
            EmailAddress("ada@new.example", EmailType.WORK),
        ),
        phone="+44 20 7946 0000",
    )

    adapter.update_contact(ADA, patch, current=adapter.read_contact(ADA))

    (sent,) = gh.emulator.requests("PATCH", f"/v3/candidates/{ADA}")
    assert sent.json == {
        "email_addresses": [
            {"value": "ada@example.com", "type": "personal"},
            {"value": "ada.lovelace@engines.example", "type": "work"},
            {"value": "ada@new.example", "type": "work"},
        ],
        "phone_numbers": [{"value": "+44 20 7946 0000", "type": "mobile"}],
    }
    assert adapter.read_contact(ADA).emails == (
        "ada@example.com",
        "ada.lovelace@engines.example",
        "ada@new.example",
    )


def test_a_name_change_sends_only_the_names(gh: VendorRig) -> None:
    adapter = _adapter(gh)

    adapter.update_contact(
        ADA, ContactPatch(first_name="Augusta Ada", last_name="Lovelace"), current=adapter.read_contact(ADA)
    )

    (sent,) = gh.emulator.requests("PATCH", f"/v3/candidates/{ADA}")
    assert sent.json == {"first_name": "Augusta Ada"}  # the last name is unchanged
    assert len(gh.emulator.requests("GET", "/v3/candidates")) == 1  # no list changes: no second read
    assert adapter.read_contact(ADA).first_name == "Augusta Ada"


def test_linkedin_replaces_the_linkedin_entry_and_keeps_other_social_entries(gh: VendorRig) -> None:
    adapter = _adapter(gh)
    gh.emulator.table("candidates")[ADA]["social_media_addresses"].append({"value": "https://github.com/ada"})
    url = "https://www.linkedin.com/in/augusta-ada"

    adapter.update_contact(ADA, ContactPatch(linkedin_url=url), current=adapter.read_contact(ADA))

    (sent,) = gh.emulator.requests("PATCH", f"/v3/candidates/{ADA}")
    assert sent.json == {"social_media_addresses": [{"value": url}, {"value": "https://github.com/ada"}]}
    assert adapter.read_contact(ADA).linkedin_url == url


def test_linkedin_is_added_where_the_candidate_has_none(gh: VendorRig) -> None:
    adapter = _adapter(gh)
    record = _export(adapter, "no.link@example.org")
    gh.emulator.edit_person(record.candidate_id, linkedin_url=None)
    url = "https://www.linkedin.com/in/no-link"

    adapter.update_contact(
        record.candidate_id, ContactPatch(linkedin_url=url), current=adapter.read_contact(record.candidate_id)
    )

    assert adapter.read_contact(record.candidate_id).linkedin_url == url


def test_an_address_is_removed_only_when_the_patch_names_it(gh: VendorRig) -> None:
    adapter = _adapter(gh)

    adapter.update_contact(
        ADA, ContactPatch(remove_emails=("ADA.Lovelace@engines.example",)), current=adapter.read_contact(ADA)
    )

    (sent,) = gh.emulator.requests("PATCH", f"/v3/candidates/{ADA}")
    assert sent.json == {"email_addresses": [{"value": "ada@example.com", "type": "personal"}]}
    assert adapter.read_contact(ADA).emails == ("ada@example.com",)


def test_an_address_a_person_added_after_the_read_is_kept(gh: VendorRig) -> None:
    adapter = _adapter(gh)
    current = adapter.read_contact(ADA)
    gh.emulator.edit_person(ADA, emails=[*current.emails, "ada@person.example"])

    adapter.update_contact(
        ADA, ContactPatch(add_emails=(EmailAddress("ada@new.example", EmailType.WORK),)), current=current
    )

    assert adapter.read_contact(ADA).emails == (
        "ada@example.com",
        "ada.lovelace@engines.example",
        "ada@person.example",
        "ada@new.example",
    )


def test_nothing_is_sent_when_nothing_changes(gh: VendorRig) -> None:
    adapter = _adapter(gh)
    current = adapter.read_contact(ADA)
    before = len(gh.emulator.requests())
    same = ContactPatch(
        first_name="Ada",
        last_name="Lovelace",
        add_emails=(EmailAddress("Ada@Example.com", EmailType.WORK),),
        remove_emails=("gone@example.org",),
        linkedin_url="http://linkedin.com/in/ada-lovelace/",
    )

    adapter.update_contact(ADA, same, current=current)
    adapter.update_contact(ADA, ContactPatch(), current=current)

    assert len(gh.emulator.requests()) == before


def test_a_phone_with_the_same_digits_is_not_sent_again(gh: VendorRig) -> None:
    adapter = _adapter(gh)
    adapter.update_contact(ADA, ContactPatch(phone="+1 555 0100"), current=adapter.read_contact(ADA))

    adapter.update_contact(ADA, ContactPatch(phone="+1 (555) 0100"), current=adapter.read_contact(ADA))

    assert len(gh.emulator.requests("PATCH", f"/v3/candidates/{ADA}")) == 1


def test_an_edit_in_greenhouse_is_what_read_contact_returns(gh: VendorRig) -> None:
    adapter = _adapter(gh)

    gh.emulator.edit_person(ADA, first_name="Augusta", emails=["augusta@example.com"], phones=["+1 555 0199"])

    details = adapter.read_contact(ADA)
    assert (details.first_name, details.emails, details.phones) == (
        "Augusta",
        ("augusta@example.com",),
        ("+1 555 0199",),
    )


def test_a_deleted_candidate_is_not_found(gh: VendorRig) -> None:
    adapter = _adapter(gh)
    current = adapter.read_contact(ADA)
    gh.emulator.delete_person(ADA)

    with pytest.raises(NotFound):
        adapter.read_contact(ADA)
    with pytest.raises(NotFound):
        adapter.update_contact(ADA, ContactPatch(phone="+1 555 0100"), current=current)
    with pytest.raises(NotFound):
        adapter.read_contact("not-a-number")


def test_the_control_api_edits_and_deletes_a_person(gh: VendorRig) -> None:
    url = gh.emulator.url + "/_emulator/"
    edited = httpx.post(url + "edit", json={"person_id": ADA, "last_name": "King", "linkedin_url": None})
    assert edited.status_code == 200 and edited.json()["last_name"] == "King"
    assert edited.json()["social_media_addresses"] == []
    assert httpx.post(url + "delete", json={"person_id": ADA}).status_code == 200
    assert httpx.post(url + "delete", json={"person_id": ADA}).status_code == 404
    with pytest.raises(NotFound):
        _adapter(gh).read_contact(ADA)


def test_emulator_patch_takes_documented_fields_and_types_only(gh: VendorRig) -> None:
    adapter = _adapter(gh)
    path = f"/v3/candidates/{ADA}"
    with pytest.raises(ValidationFailed):
        adapter._request("PATCH", path, json={"emails": ["x@example.org"]})
    with pytest.raises(ValidationFailed):
        adapter._request(
            "PATCH", path, json={"email_addresses": [{"value": "x@example.org", "type": "primary"}]}
        )
    replaced = adapter._request("PATCH", path, json={"tags": ["Sync"]}).json()
    assert replaced["tags"] == ["Sync"] and len(replaced["email_addresses"]) == 2
