"""Taking back a Lever export (`withdraw`), over loopback HTTP against the emulator.

- archive: `PUT /opportunities/:opportunity/archived?perform_as=…` with `{"reason": id}` ("If an Opportunity is
  active, it will be archived with the reason provided"):
  https://hire.lever.co/developer/documentation#update-opportunity-archived-state
- reasons: `GET /archive_reasons` ({id, text, status active|inactive, type hired|non-hired}):
  https://hire.lever.co/developer/documentation#archive-reasons
- the opportunity's `stage` and `archived`: https://hire.lever.co/developer/documentation#opportunities
"""

from __future__ import annotations

import httpx
import pytest
from ats_rig import VendorRig, person

from ats.errors import ChangedSince, NotFound, NotSupported
from ats.lever import SPEC
from ats.types import CreatedApplication, CreatedRecord, WithdrawAction
from core.vocabulary import Vendor
from devkit.ats.lever import DEMO_API_KEY, DEMO_USER_ID

JOB = "a1b2c3d4-0000-4000-8000-000000000002"
SCREEN = "c7131fa5-7ddd-443d-afbf-0ab5c2e5e7f4"
ONSITE = "8a7e2c5b-4a57-4b9b-9d0e-0d2f8f3b4c11"
OTHER = "5c1a7e0d-0000-4000-8000-0000000000f1"  # the seed's "Other"
MISTAKE = "5c1a7e0d-0000-4000-8000-0000000000f2"
REASON = "Exported by mistake"


@pytest.fixture
def lever(make_rig) -> VendorRig:
    return make_rig(Vendor.LEVER)


def created(rig: VendorRig, *, stage_id: str | None = SCREEN) -> tuple[CreatedApplication, CreatedRecord]:
    made = rig.adapter().create_applicant(person(), job_id=JOB, stage_id=stage_id)
    record = CreatedRecord(made.candidate_id, made.application_id, JOB, prospect=False, stage_id=stage_id)
    return made, record


def archive_puts(rig: VendorRig, opportunity_id: str) -> list:
    return rig.emulator.requests("PUT", f"/v1/opportunities/{opportunity_id}/archived")


def opportunity(rig: VendorRig, opportunity_id: str) -> dict:
    return rig.emulator.table("opportunities")[opportunity_id]


def test_lever_declares_withdraw() -> None:
    assert SPEC.capabilities.withdraw


def test_create_then_withdraw_archives_the_opportunity_with_a_non_hired_reason(lever: VendorRig) -> None:
    made, record = created(lever)

    done = lever.adapter().withdraw(record, reason=REASON)

    assert done.action is WithdrawAction.ARCHIVED and "“Other”" in done.detail
    assert opportunity(lever, made.application_id)["archived"]["reason"] == OTHER
    [put] = archive_puts(lever, made.application_id)
    assert put.query["perform_as"] == [DEMO_USER_ID] and put.json == {"reason": OTHER}
    # Read first: the opportunity, then the account's reasons.
    assert lever.emulator.requests("GET", f"/v1/opportunities/{made.application_id}")
    assert lever.emulator.requests("GET", "/v1/archive_reasons")


def test_a_reason_saying_mistake_is_preferred_and_one_named_like_the_reason_first(lever: VendorRig) -> None:
    named = "5c1a7e0d-0000-4000-8000-0000000000f3"
    lever.emulator.seed(
        {
            "archive_reasons": [
                {"id": MISTAKE, "text": "Added by mistake", "status": "active", "type": "non-hired"},
                {"id": named, "text": REASON, "status": "active", "type": "non-hired"},
            ]
        }
    )
    first, first_record = created(lever)
    second, second_record = created(lever, stage_id=None)

    lever.adapter().withdraw(first_record, reason="not a reason in Lever")
    lever.adapter().withdraw(second_record, reason=REASON.upper())

    assert opportunity(lever, first.application_id)["archived"]["reason"] == MISTAKE
    assert opportunity(lever, second.application_id)["archived"]["reason"] == named


def test_no_fitting_reason_archives_nothing(lever: VendorRig) -> None:
    # Only reasons that judge the candidate, a hired one and an inactive one: none of them may be used.
    lever.emulator.table("archive_reasons").pop(OTHER)
    lever.emulator.seed(
        {"archive_reasons": [{"id": MISTAKE, "text": "Mistake", "status": "inactive", "type": "non-hired"}]}
    )
    made, record = created(lever)

    with pytest.raises(NotSupported) as raised:
        lever.adapter().withdraw(record, reason=REASON)

    assert "archive reason" in raised.value.hint
    assert archive_puts(lever, made.application_id) == []
    assert opportunity(lever, made.application_id)["archived"] is None


def test_an_opportunity_moved_to_another_stage_is_left_alone(lever: VendorRig) -> None:
    made, record = created(lever)
    opportunity(lever, made.application_id)["stage"] = ONSITE  # a recruiter moved it on

    with pytest.raises(ChangedSince):
        lever.adapter().withdraw(record, reason=REASON)

    assert archive_puts(lever, made.application_id) == []
    assert lever.emulator.requests("GET", "/v1/archive_reasons") == []
    assert opportunity(lever, made.application_id)["archived"] is None


def test_an_opportunity_archived_already_is_left_alone(lever: VendorRig) -> None:
    made, record = created(lever)
    archived = {"archivedAt": 1792000000000, "reason": "737b8899-7f32-42a5-954f-e199b0306fcb"}
    opportunity(lever, made.application_id)["archived"] = dict(archived)

    with pytest.raises(ChangedSince):
        lever.adapter().withdraw(record, reason=REASON)

    assert archive_puts(lever, made.application_id) == []
    assert opportunity(lever, made.application_id)["archived"] == archived


def test_withdrawing_twice_finds_it_archived(lever: VendorRig) -> None:
    _, record = created(lever)
    lever.adapter().withdraw(record, reason=REASON)

    with pytest.raises(ChangedSince):
        lever.adapter().withdraw(record, reason=REASON)


def test_an_unknown_opportunity_is_not_found(lever: VendorRig) -> None:
    record = CreatedRecord("c-unknown", "0f1e2d3c-0000-4000-8000-00000000dead", JOB, prospect=False)

    with pytest.raises(NotFound):
        lever.adapter().withdraw(record, reason=REASON)

    assert lever.emulator.requests("PUT") == []


def test_the_emulator_archives_changes_and_unarchives_as_documented(lever: VendorRig) -> None:
    made, _ = created(lever)
    url = f"{lever.emulator.base_url}/opportunities/{made.application_id}/archived"
    auth = (DEMO_API_KEY, "")

    archived = httpx.put(url, params={"perform_as": DEMO_USER_ID}, json={"reason": OTHER}, auth=auth)
    changed = httpx.put(url, json={"reason": MISTAKE}, auth=auth)
    unarchived = httpx.put(url, json={"reason": None}, auth=auth)
    unknown = httpx.put(
        f"{lever.emulator.base_url}/opportunities/nope/archived", json={"reason": OTHER}, auth=auth
    )

    assert archived.status_code == 200 and archived.json()["data"]["archived"]["reason"] == OTHER
    assert changed.status_code == 400  # not one of the account's reasons
    assert unarchived.status_code == 200 and unarchived.json()["data"]["archived"] is None
    assert unknown.status_code == 404 and unknown.json()["code"] == "ResourceNotFound"
    reasons = httpx.get(f"{lever.emulator.base_url}/archive_reasons", auth=auth).json()["data"]
    assert {"Other", "Hired"} <= {r["text"] for r in reasons}
