"""Greenhouse Harvest v3 `withdraw`: undoing an export rejects its application, over real HTTP."""

from __future__ import annotations

import pytest
from ats_rig import person

from ats.errors import ChangedSince, NotFound, NotSupported, ValidationFailed
from ats.types import CreatedRecord, WithdrawAction
from core.vocabulary import Vendor

REASON = "Exported by mistake (ScaleUp undo)"
MISTAKE_REASON_ID = 804  # the seed's "Added by mistake", type "None specified"


@pytest.fixture
def gh(make_rig):
    return make_rig(Vendor.GREENHOUSE)


def _reject_path(application_id: str) -> str:
    return f"/v3/applications/{application_id}/reject"


def _export(adapter, *, stage_id: str | None = None, email: str = "undo.me@example.org") -> CreatedRecord:
    created = adapter.create_applicant(person(email), job_id="4001", stage_id=stage_id)
    assert created.application_id
    return CreatedRecord(
        candidate_id=created.candidate_id,
        application_id=created.application_id,
        job_id="4001",
        prospect=False,
        stage_id=stage_id,
    )


@pytest.mark.parametrize("stage_id", [None, "40011"])
def test_withdraw_rejects_a_fresh_applicant_with_the_reason(gh, stage_id):
    adapter = gh.adapter()
    record = _export(adapter, stage_id=stage_id)

    withdrawn = adapter.withdraw(record, reason=REASON)

    assert withdrawn.action is WithdrawAction.REJECTED
    assert "Added by mistake" in withdrawn.detail and REASON in withdrawn.detail
    application = gh.emulator.table("applications")[record.application_id]
    assert application["status"] == "rejected"
    assert application["rejection_reason_id"] == MISTAKE_REASON_ID
    assert application["rejected_at"] and application["job_interview_stage_id"] is None
    notes = [d["notes"] for d in gh.emulator.records("rejection_details")]
    assert notes == [REASON]
    (sent,) = gh.emulator.requests("POST", _reject_path(record.application_id))
    # No `rejection_email`: Greenhouse sends the candidate nothing.
    assert sent.json == {"rejection_reason_id": MISTAKE_REASON_ID, "notes": REASON}


def test_withdraw_rejects_a_prospect_application(gh):
    adapter = gh.adapter()
    created = adapter.create_prospect(person("prospect.undo@example.org"), job_id="4001")
    assert created.application_id
    record = CreatedRecord(created.candidate_id, created.application_id, job_id="4001", prospect=True)

    withdrawn = adapter.withdraw(record, reason=REASON)

    assert withdrawn.action is WithdrawAction.REJECTED
    assert gh.emulator.table("applications")[created.application_id]["status"] == "rejected"


@pytest.mark.parametrize("stage_id", [None, "40010"])
def test_an_application_moved_to_another_stage_is_left_alone(gh, stage_id):
    adapter = gh.adapter()
    record = _export(adapter, stage_id=stage_id)
    with gh.emulator.lock:  # a recruiter moves it to the technical interview
        application = gh.emulator.table("applications")[record.application_id]
        application.update(job_interview_stage_id=40012, stage_name="Technical Interview")

    with pytest.raises(ChangedSince, match="Technical Interview"):
        adapter.withdraw(record, reason=REASON)

    assert gh.emulator.requests("POST", _reject_path(record.application_id)) == []
    assert gh.emulator.table("applications")[record.application_id]["status"] == "in_process"


def test_an_already_rejected_application_is_left_alone(gh):
    adapter = gh.adapter()
    record = _export(adapter)
    adapter.withdraw(record, reason=REASON)

    with pytest.raises(ChangedSince, match="rejected already"):
        adapter.withdraw(record, reason=REASON)

    assert len(gh.emulator.requests("POST", _reject_path(record.application_id))) == 1


@pytest.mark.parametrize("status", ["hired", "converted"])
def test_a_hired_or_converted_application_is_left_alone(gh, status):
    adapter = gh.adapter()
    record = _export(adapter)
    with gh.emulator.lock:
        gh.emulator.table("applications")[record.application_id]["status"] = status

    with pytest.raises(ChangedSince):
        adapter.withdraw(record, reason=REASON)

    assert gh.emulator.requests("POST", _reject_path(record.application_id)) == []


def test_an_application_moved_to_another_job_is_left_alone(gh):
    adapter = gh.adapter()
    record = _export(adapter, stage_id="40011")
    with gh.emulator.lock:
        gh.emulator.table("applications")[record.application_id]["job_id"] = 4002

    with pytest.raises(ChangedSince, match="another job"):
        adapter.withdraw(record, reason=REASON)


def test_a_missing_application_is_not_found(gh):
    adapter = gh.adapter()
    record = CreatedRecord(candidate_id="9001", application_id="999999", job_id="4001", prospect=False)

    with pytest.raises(NotFound):
        adapter.withdraw(record, reason=REASON)

    assert gh.emulator.requests("POST", _reject_path("999999")) == []


def test_a_record_without_an_application_id_is_not_found(gh):
    record = CreatedRecord(candidate_id="9001", application_id=None, job_id="4001", prospect=False)
    with pytest.raises(NotFound):
        gh.adapter().withdraw(record, reason=REASON)
    assert gh.emulator.requests() == []


def test_no_fit_rejection_reason_is_refused_before_rejecting(gh):
    adapter = gh.adapter()
    record = _export(adapter)
    with gh.emulator.lock:  # only "They rejected us" reasons left: none says what happened
        reasons = gh.emulator.table("rejection_reasons")
        for key in [k for k, r in reasons.items() if r["type"]["name"] != "They rejected us"]:
            del reasons[key]

    with pytest.raises(NotSupported, match="rejection reason"):
        adapter.withdraw(record, reason=REASON)

    assert gh.emulator.requests("POST", _reject_path(record.application_id)) == []


def test_the_rejection_reason_is_read_once_per_adapter(gh):
    adapter = gh.adapter()
    first, second = _export(adapter, email="one@example.org"), _export(adapter, email="two@example.org")
    adapter.withdraw(first, reason=REASON)
    adapter.withdraw(second, reason=REASON)
    listed = gh.emulator.requests("GET", "/v3/rejection_reasons")
    # One listing (the rig pages by 2, so it follows cursors): only its first request carries the filters.
    assert [r.query["include_defaults"] for r in listed if "cursor" not in r.query] == [["true"]]


def test_emulator_reject_requires_a_known_rejection_reason(gh):
    adapter = gh.adapter()
    record = _export(adapter)
    path = _reject_path(str(record.application_id))
    with pytest.raises(ValidationFailed, match="rejection_reason_id"):
        adapter._request("POST", path, json={"notes": REASON})
    with pytest.raises(ValidationFailed, match="rejection_reason_id"):
        adapter._request("POST", path, json={"rejection_reason_id": 424242})
    with pytest.raises(NotFound):
        adapter._request("POST", _reject_path("999999"), json={"rejection_reason_id": MISTAKE_REASON_ID})
    assert adapter._request("POST", path, json={"rejection_reason_id": MISTAKE_REASON_ID}).status_code == 204
    with pytest.raises(ValidationFailed, match="cannot be rejected"):
        adapter._request("POST", path, json={"rejection_reason_id": MISTAKE_REASON_ID})


def test_a_change_between_the_read_and_the_reject_is_changed_since(gh, monkeypatch):
    adapter = gh.adapter()
    record = _export(adapter)
    read = adapter._withdrawable(record, int(record.application_id))
    with gh.emulator.lock:  # hired after the adapter's read: the reject is answered 422
        gh.emulator.table("applications")[record.application_id]["status"] = "hired"
    monkeypatch.setattr(adapter, "_withdrawable", lambda *_: read)

    with pytest.raises(ChangedSince, match="hired meanwhile"):
        adapter.withdraw(record, reason=REASON)

    assert len(gh.emulator.requests("POST", _reject_path(record.application_id))) == 1
    assert gh.emulator.table("applications")[record.application_id]["status"] == "hired"
