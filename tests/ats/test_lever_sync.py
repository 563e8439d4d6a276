"""Lever two-way sync over real HTTP: where an opportunity stands, the changes poll, webhooks, webhook set-up and
corrected contact details (https://hire.lever.co/developer/documentation).

Documented behaviour relied on:
- the opportunity's `stage` (expandable to {id, text}), `archived` {archivedAt, reason}, `applications` ("up to
  one"), `updatedAt` (moves with stage and archived state), `urls.show`; `updated_at_start` on the list
  (#opportunities, #list-all-opportunities); archive reasons' `type` hired|non-hired (#archive-reasons).
- webhooks: `{id, event, triggeredAt, data, token, signature}`, `signature` = hex HMAC-SHA256 of
  `token + triggeredAt` under the webhook's signature token (#webhooks, "Request signing").
- `GET`/`PUT /contacts/:contact` with `emails` and `phones` (#contacts).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from ats_rig import VendorRig, WebhookReceiver, paste_webhook, person

from ats.errors import NotFound, ValidationFailed, WebhookRejected
from ats.types import AtsStatus, ContactField, ContactPatch, CreatedRecord, EmailAddress
from core.vocabulary import EmailType, Vendor

TOKEN = "5f2c0a9e1d7b4c3a8e6f0b2d4c6a8e0f1a3b5c7d9e1f3a5b"  # a webhook's signature token, as Lever shows it
JOB = "a1b2c3d4-0000-4000-8000-000000000001"
SCREEN, ONSITE = "c7131fa5-7ddd-443d-afbf-0ab5c2e5e7f4", "8a7e2c5b-4a57-4b9b-9d0e-0d2f8f3b4c11"
ADA_OPPORTUNITY, ADA = "0f1e2d3c-0000-4000-8000-000000000101", "c0000000-0000-4000-8000-000000000001"
UNDERQUALIFIED = "Underqualified"  # a seeded active non-hired archive reason


@pytest.fixture
def lever(make_rig) -> VendorRig:
    return make_rig(Vendor.LEVER)


@pytest.fixture
def receiver(receiver: WebhookReceiver, lever: VendorRig) -> WebhookReceiver:
    """The conftest's receiver, set up as a Super Admin turns the webhooks on in Settings (the secret stands
    for the token Lever shows)."""
    paste_webhook(lever, receiver.url, TOKEN)
    return receiver


def _adapter(lever: VendorRig, secret: str = TOKEN):
    return lever.adapter(secrets={"webhook_secret": secret})


def _export(adapter, email: str = "sync.me@example.org", stage_id: str | None = SCREEN) -> CreatedRecord:
    created = adapter.create_applicant(person(email), job_id=JOB, stage_id=stage_id)
    return CreatedRecord(created.candidate_id, created.application_id, JOB, prospect=False, stage_id=stage_id)


def _delivery(event: str, data: dict, *, key: str = TOKEN, triggered: int | None = None) -> bytes:
    """Return a body signed Lever's documented way (what its settings page and deliveries send)."""
    triggered = int(time.time() * 1000) if triggered is None else triggered
    token = "ab" * 24
    signature = hmac.new(key.encode(), f"{token}{triggered}".encode(), hashlib.sha256).hexdigest()
    body = {"id": "e1", "event": event, "triggeredAt": triggered, "data": data}
    return json.dumps(body | {"token": token, "signature": signature}).encode()


# --- record_status and the poll -------------------------------------------------------------------------


def test_record_status_maps_the_opportunity(lever: VendorRig) -> None:
    adapter = _adapter(lever)
    record = _export(adapter)

    status = adapter.record_status(record)

    assert (status.status, status.stage, status.stage_id) == (AtsStatus.ACTIVE, "Recruiter screen", SCREEN)
    assert (status.candidate_id, status.application_id, status.job_id) == (
        record.candidate_id,
        record.application_id,
        JOB,
    )
    assert status.prospect is False and status.reason is None
    assert status.record_url == f"https://hire.lever.co/candidates/{record.application_id}"
    assert status.updated_at and status.updated_at.endswith("Z")
    (read,) = lever.emulator.requests("GET", f"/v1/opportunities/{record.application_id}")
    assert read.query == {"expand": ["stage", "applications"]}


def test_a_lead_without_a_posting_is_a_prospect_with_its_stage(lever: VendorRig) -> None:
    """Lever keeps stages for leads too: the opportunity is the record, with no application on a posting."""
    status = _adapter(lever).record_status(CreatedRecord(ADA, ADA_OPPORTUNITY, None, prospect=True))

    assert (status.application_id, status.job_id, status.prospect) == (ADA_OPPORTUNITY, None, True)
    assert (status.stage, status.stage_id) == ("New lead", "lead-new")


def test_a_move_is_seen_by_record_status_and_by_the_poll_from_the_previous_cursor(lever: VendorRig) -> None:
    adapter = _adapter(lever)
    record = _export(adapter)
    cursor = list(adapter.iter_status_pages(None))[-1].cursor

    lever.emulator.move_application(record.application_id, stage_id=ONSITE)

    assert adapter.record_status(record).stage == "On-site interview"
    pages = list(adapter.iter_status_pages(cursor))
    moved = [s for p in pages for s in p.statuses if s.application_id == record.application_id]
    assert [(s.stage, s.stage_id) for s in moved] == [("On-site interview", ONSITE)]
    listed = [r.query for r in lever.emulator.requests("GET", "/v1/opportunities")][-len(pages)]
    assert listed["updated_at_start"] == [cursor] and listed["expand"] == ["stage", "applications"]


def test_archiving_hiring_and_unarchiving(lever: VendorRig) -> None:
    adapter = _adapter(lever)
    archived, hired = _export(adapter, "archived@example.org"), _export(adapter, "hired@example.org")

    lever.emulator.move_application(archived.application_id, status="rejected", reason=UNDERQUALIFIED)
    lever.emulator.move_application(hired.application_id, status="hired")
    was = adapter.record_status(archived)
    lever.emulator.move_application(archived.application_id, status="active")

    assert (was.status, was.reason) == (AtsStatus.REJECTED, UNDERQUALIFIED)
    assert (adapter.record_status(hired).status, adapter.record_status(hired).reason) == (
        AtsStatus.HIRED,
        None,
    )
    back = adapter.record_status(archived)
    assert (back.status, back.reason, back.stage_id) == (AtsStatus.ACTIVE, None, SCREEN)
    # Archive reasons are listed once for the adapter (the rig pages by 2: only the first request has no offset).
    listed = lever.emulator.requests("GET", "/v1/archive_reasons")
    assert len([r for r in listed if "offset" not in r.query]) == 1


def test_a_deleted_opportunity_is_not_found(lever: VendorRig) -> None:
    adapter = _adapter(lever)
    gone, flagged = _export(adapter, "gone@example.org"), _export(adapter, "flagged@example.org")
    lever.emulator.delete_opportunity(gone.application_id)
    with lever.emulator.lock:  # `deletedAt` "only appears for deleted Opportunities"
        lever.emulator.table("opportunities")[flagged.application_id]["deletedAt"] = 1_790_000_000_000

    for record in (gone, flagged):
        with pytest.raises(NotFound):
            adapter.record_status(record)
    listed = {s.application_id for p in adapter.iter_status_pages(None) for s in p.statuses}
    assert flagged.application_id not in listed


# --- webhooks ------------------------------------------------------------------------------------------


def test_a_stage_change_webhook_verifies_and_names_the_opportunity(
    lever: VendorRig, receiver: WebhookReceiver
) -> None:
    adapter = _adapter(lever)
    record = _export(adapter)

    lever.emulator.move_application(record.application_id, stage_id=ONSITE)

    headers, body = receiver.wait_for(1)[0]
    sent = json.loads(body)
    assert headers["User-Agent"] == "Lever-Webhooks" and sent["event"] == "candidateStageChange"
    assert len(sent["token"]) == 48 and sent["data"]["toStageId"] == ONSITE
    [event] = adapter.read_webhook(headers, body)
    assert (event.kind, event.candidate_id, event.application_id, event.status) == (
        "candidateStageChange",
        record.candidate_id,
        record.application_id,
        None,  # Lever's data holds ids only: the receiver reads the opportunity
    )
    assert event.delivery_id == f"lever:candidateStageChange:{record.application_id}:{sent['triggeredAt']}"


def test_an_archive_webhook_then_a_read_gives_the_reason(lever: VendorRig, receiver: WebhookReceiver) -> None:
    adapter = _adapter(lever)
    record = _export(adapter)

    lever.emulator.move_application(record.application_id, status="rejected", reason=UNDERQUALIFIED)

    [event] = adapter.read_webhook(*receiver.wait_for(1)[0])
    assert (event.kind, event.application_id) == ("candidateArchiveChange", record.application_id)
    assert adapter.record_status(record).reason == UNDERQUALIFIED


def test_hiring_sends_hired_and_archive_change(lever: VendorRig, receiver: WebhookReceiver) -> None:
    adapter = _adapter(lever)
    record = _export(adapter)

    lever.emulator.move_application(record.application_id, status="hired")

    kinds = sorted(e.kind for delivery in receiver.wait_for(2) for e in adapter.read_webhook(*delivery))
    assert kinds == ["candidateArchiveChange", "candidateHired"]


def test_a_deleted_opportunity_webhook_names_it(lever: VendorRig, receiver: WebhookReceiver) -> None:
    adapter = _adapter(lever)
    record = _export(adapter)

    lever.emulator.delete_opportunity(record.application_id)

    [event] = adapter.read_webhook(*receiver.wait_for(1)[0])
    assert (event.kind, event.application_id, event.candidate_id) == (
        "candidateDeleted",
        record.application_id,
        record.candidate_id,
    )


def test_a_redelivery_gives_the_same_delivery_id(lever: VendorRig, receiver: WebhookReceiver) -> None:
    adapter = _adapter(lever)
    record = _export(adapter)
    lever.emulator.move_application(record.application_id, stage_id=ONSITE)
    first = receiver.wait_for(1)[0]

    lever.emulator.redeliver(lever.emulator.webhooks.wait_for(1)[0])

    second = receiver.wait_for(2)[1]
    assert adapter.read_webhook(*first)[0].delivery_id == adapter.read_webhook(*second)[0].delivery_id


def test_each_webhooks_own_token_verifies(lever: VendorRig) -> None:
    """Lever makes a signature token per webhook; the connection holds them all, separated by spaces."""
    other = "0" * 48
    body = _delivery("candidateHired", {"opportunityId": ADA_OPPORTUNITY, "contactId": ADA}, key=other)

    assert _adapter(lever, f"{TOKEN} {other}").read_webhook({}, body)[0].kind == "candidateHired"
    assert _adapter(lever, f"{TOKEN},{other}").read_webhook({}, body)
    with pytest.raises(WebhookRejected):
        _adapter(lever).read_webhook({}, body)


def test_a_webhook_is_rejected_with_a_wrong_token_or_tampered_signed_fields(
    lever: VendorRig, receiver: WebhookReceiver
) -> None:
    adapter = _adapter(lever)
    record = _export(adapter)
    lever.emulator.move_application(record.application_id, stage_id=ONSITE)
    headers, body = receiver.wait_for(1)[0]
    sent = json.loads(body)

    tampered = [
        sent | {"triggeredAt": sent["triggeredAt"] + 1},
        sent | {"token": "cd" * 24},
        sent | {"signature": "0" * 64},
        {k: v for k, v in sent.items() if k != "signature"},
        sent | {"triggeredAt": str(sent["triggeredAt"])},
    ]
    for changed in tampered:
        with pytest.raises(WebhookRejected):
            adapter.read_webhook(headers, json.dumps(changed).encode())
    with pytest.raises(WebhookRejected):
        _adapter(lever, "f" * 48).read_webhook(headers, body)
    with pytest.raises(WebhookRejected, match="no Lever signature token"):
        lever.adapter().read_webhook(headers, body)
    # Lever signs token and triggeredAt, not `data`: a changed `data` verifies, and its ids are only ever
    # read again (no status is taken from a webhook).
    [event] = adapter.read_webhook(headers, json.dumps(sent | {"data": {"opportunityId": "x"}}).encode())
    assert (event.application_id, event.status) == ("x", None)


def test_a_webhook_triggered_before_lever_s_two_weeks_of_history_is_rejected(lever: VendorRig) -> None:
    adapter = _adapter(lever)
    now = int(time.time() * 1000)
    data = {"opportunityId": ADA_OPPORTUNITY, "contactId": ADA}

    assert adapter.read_webhook({}, _delivery("candidateHired", data, triggered=now - 14 * 24 * 3600 * 1000))
    for triggered in (now - 16 * 24 * 3600 * 1000, now + 3600 * 1000):
        with pytest.raises(WebhookRejected, match="too long ago"):
            adapter.read_webhook({}, _delivery("candidateHired", data, triggered=triggered))


@pytest.mark.parametrize(
    ("event", "data"),
    [
        ("candidateHired", {}),  # the settings page's test request
        ("applicationCreated", {"opportunityId": ADA_OPPORTUNITY}),
        ("interviewCreated", {"opportunityId": ADA_OPPORTUNITY}),
        ("contactUpdated", {"contactId": ADA}),
    ],
)
def test_events_the_app_does_not_use_verify_and_announce_nothing(
    lever: VendorRig, event: str, data: dict
) -> None:
    assert _adapter(lever).read_webhook({}, _delivery(event, data)) == []


@pytest.mark.parametrize(
    "body",
    [
        b"\xff not utf-8",
        b"[]",
        _delivery("candidateStageChange", {"opportunityId": {"id": 1}}),
        _delivery("candidateStageChange", ["not", "an", "object"]),  # type: ignore[arg-type]
        json.dumps({"event": "candidateHired", "token": "a", "triggeredAt": True, "signature": "b"}).encode(),
    ],
)
def test_a_body_not_shaped_like_levers_is_rejected_not_raised(lever: VendorRig, body: bytes) -> None:
    with pytest.raises(WebhookRejected):
        _adapter(lever).read_webhook({}, body)


def test_webhook_set_up_is_left_to_a_super_admin_in_settings(lever: VendorRig) -> None:
    adapter = _adapter(lever)
    url = "https://scaleup.example/ats/webhooks/lever/5"

    setup = adapter.register_webhooks(url)

    assert setup.registered is False and not adapter.capabilities.webhook_registration
    assert "Settings → Integrations and API → Webhooks" in setup.instructions and url in setup.instructions
    assert "Candidate stage change" in setup.instructions and "signature token" in setup.instructions
    assert TOKEN not in setup.instructions
    assert setup.events == (
        "candidateStageChange",
        "candidateArchiveChange",
        "candidateHired",
        "candidateDeleted",
    )
    assert lever.emulator.requests() == []


# --- corrected contact details out ---------------------------------------------------------------------


def test_read_contact_returns_the_contact_and_its_linkedin_link(lever: VendorRig) -> None:
    details = _adapter(lever).read_contact(ADA)

    assert (details.first_name, details.last_name) == ("Ada", "Lovelace")
    assert details.emails == ("ada@example.com", "ada.lovelace@engines.example")
    assert details.linkedin_url == "https://www.linkedin.com/in/ada-lovelace"
    assert details.phones == () and details.merged_into is None


def test_update_contact_adds_an_address_and_a_phone_and_keeps_the_others(lever: VendorRig) -> None:
    adapter = _adapter(lever)
    patch = ContactPatch(
        add_emails=(
            EmailAddress("ADA@example.com", EmailType.PRIMARY),
            EmailAddress("ada@new.example", EmailType.WORK),
        ),
        phone="+44 20 7946 0000",
    )

    adapter.update_contact(ADA, patch, current=adapter.read_contact(ADA))

    (put,) = lever.emulator.requests("PUT", f"/v1/contacts/{ADA}")
    assert put.json == {
        "name": "Ada Lovelace",
        "headline": "Engineer at Analytical Engines",
        "emails": ["ada@example.com", "ada.lovelace@engines.example", "ada@new.example"],
        "phones": [{"type": "mobile", "value": "+44 20 7946 0000"}],
    }
    assert adapter.read_contact(ADA).emails == (
        "ada@example.com",
        "ada.lovelace@engines.example",
        "ada@new.example",
    )


def test_a_name_change_puts_the_whole_name(lever: VendorRig) -> None:
    adapter = _adapter(lever)

    adapter.update_contact(ADA, ContactPatch(last_name="King"), current=adapter.read_contact(ADA))

    (put,) = lever.emulator.requests("PUT", f"/v1/contacts/{ADA}")
    assert put.json["name"] == "Ada King"
    assert put.json["emails"] == ["ada@example.com", "ada.lovelace@engines.example"]
    assert (adapter.read_contact(ADA).first_name, adapter.read_contact(ADA).last_name) == ("Ada", "King")


def test_linkedin_is_added_then_the_old_link_removed_through_an_opportunity(lever: VendorRig) -> None:
    adapter = _adapter(lever)
    url = "https://www.linkedin.com/in/augusta-ada"

    adapter.update_contact(ADA, ContactPatch(linkedin_url=url), current=adapter.read_contact(ADA))

    path = f"/v1/opportunities/{ADA_OPPORTUNITY}"
    assert [r.json for r in lever.emulator.requests("POST", f"{path}/addLinks")] == [{"links": [url]}]
    assert [r.json for r in lever.emulator.requests("POST", f"{path}/removeLinks")] == [
        {"links": ["https://www.linkedin.com/in/ada-lovelace"]}
    ]
    assert lever.emulator.requests("PUT", f"/v1/contacts/{ADA}") == []
    assert adapter.read_contact(ADA).linkedin_url == url


def test_email_removal_is_ignored_as_lever_documents_none(lever: VendorRig) -> None:
    adapter = _adapter(lever)
    current = adapter.read_contact(ADA)
    before = len(lever.emulator.requests())

    adapter.update_contact(ADA, ContactPatch(remove_emails=("ada@example.com",)), current=current)

    assert ContactField.REMOVE_EMAIL not in adapter.capabilities.contact_fields
    assert len(lever.emulator.requests()) == before
    assert "ada@example.com" in adapter.read_contact(ADA).emails


def test_nothing_is_sent_when_nothing_changes(lever: VendorRig) -> None:
    adapter = _adapter(lever)
    current = adapter.read_contact(ADA)
    before = len(lever.emulator.requests())
    same = ContactPatch(
        first_name="Ada",
        last_name="Lovelace",
        add_emails=(EmailAddress("Ada@Example.com", EmailType.WORK),),
        linkedin_url="https://linkedin.com/in/ada-lovelace/",
    )

    adapter.update_contact(ADA, same, current=current)

    assert len(lever.emulator.requests()) == before


def test_a_phone_with_the_same_digits_is_not_sent_again(lever: VendorRig) -> None:
    adapter = _adapter(lever)
    adapter.update_contact(ADA, ContactPatch(phone="+1 555 0100"), current=adapter.read_contact(ADA))

    adapter.update_contact(ADA, ContactPatch(phone="+1 (555) 0100"), current=adapter.read_contact(ADA))

    assert len(lever.emulator.requests("PUT", f"/v1/contacts/{ADA}")) == 1


def test_an_edit_in_lever_is_what_read_contact_returns(lever: VendorRig) -> None:
    lever.emulator.edit_person(ADA, first_name="Augusta", emails=["augusta@example.com"], linkedin_url=None)

    details = _adapter(lever).read_contact(ADA)

    assert (details.first_name, details.last_name) == ("Augusta", "Lovelace")
    assert details.emails == ("augusta@example.com",) and details.linkedin_url is None


def test_a_deleted_contact_is_not_found(lever: VendorRig) -> None:
    adapter = _adapter(lever)
    current = adapter.read_contact(ADA)
    lever.emulator.delete_person(ADA)

    with pytest.raises(NotFound):
        adapter.read_contact(ADA)
    with pytest.raises(NotFound):
        adapter.update_contact(ADA, ContactPatch(phone="+1 555 0100"), current=current)


def test_emulator_links_take_a_list_of_urls(lever: VendorRig) -> None:
    adapter = _adapter(lever)
    with pytest.raises(ValidationFailed):
        adapter.http.request("POST", f"/opportunities/{ADA_OPPORTUNITY}/addLinks", json={"links": "x"})
    with pytest.raises(NotFound):
        adapter.http.request("POST", "/opportunities/nope/addLinks", json={"links": ["https://x.example"]})
