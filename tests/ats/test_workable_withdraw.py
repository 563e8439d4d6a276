"""Undoing a Workable export (`withdraw`) over loopback HTTP against the emulator.

- disqualify: https://workable.readme.io/reference/disqualify-candidate (`member_id`,
  `disqualification_reason`, scope `w_candidates`)
- the candidate read back: https://workable.readme.io/reference/job-candidates-show, whose keys
  (`stage`, `disqualified`, `disqualification_reason`) https://workable.readme.io/reference/candidate-events lists
"""

from __future__ import annotations

from typing import Any

import pytest
from ats_rig import VendorRig, person

from ats.errors import ChangedSince, NotFound, NotSupported
from ats.types import CreatedRecord, WithdrawAction
from core.vocabulary import Vendor

JOB = "A1B2C3D4E5"
MEMBER = "m1e2m3b"
REASON = "Exported by mistake from ScaleUp"


@pytest.fixture
def wk(make_rig) -> VendorRig:
    return make_rig(Vendor.WORKABLE)


def stored(rig: VendorRig, candidate_id: str) -> dict[str, Any]:
    return next(c for c in rig.emulator.records("candidates") if c["id"] == candidate_id)


def disqualify_calls(rig: VendorRig) -> list[Any]:
    return [r for r in rig.emulator.requests("POST") if r.path.endswith("/disqualify")]


def exported(rig: VendorRig, stage_id: str | None = "phone-screen") -> CreatedRecord:
    adapter = rig.adapter(fields={"member_id": MEMBER})
    if stage_id is None:
        created = adapter.create_prospect(person("undo.me@example.org"), job_id=JOB)
    else:
        created = adapter.create_applicant(person("undo.me@example.org"), job_id=JOB, stage_id=stage_id)
    return CreatedRecord(
        candidate_id=created.candidate_id,
        application_id=None,
        job_id=JOB,
        prospect=stage_id is None,
        stage_id=stage_id,
    )


def test_the_capability_follows_the_member_id(wk: VendorRig) -> None:
    assert wk.adapter().capabilities.withdraw is False
    assert wk.adapter(fields={"member_id": MEMBER}).capabilities.withdraw is True


@pytest.mark.parametrize("stage_id", ["phone-screen", None], ids=["applicant", "sourced-prospect"])
def test_withdraw_disqualifies_with_the_reason_as_the_member(wk: VendorRig, stage_id: str | None) -> None:
    record = exported(wk, stage_id)
    adapter = wk.adapter(fields={"member_id": MEMBER})

    done = adapter.withdraw(record, reason=REASON)

    assert done.action is WithdrawAction.REJECTED
    assert "disqualified" in done.detail and "Senior Backend Engineer" in done.detail
    (sent,) = disqualify_calls(wk)
    assert sent.path == f"/spi/v3/candidates/{record.candidate_id}/disqualify"
    assert sent.json == {"member_id": MEMBER, "disqualification_reason": REASON}
    after = stored(wk, record.candidate_id)
    assert (after["disqualified"], after["disqualification_reason"]) == (True, REASON)
    assert after["disqualified_at"]


def test_a_candidate_moved_since_is_left_alone(wk: VendorRig) -> None:
    record = exported(wk)
    with wk.emulator.lock:
        wk.emulator.table("candidates")[record.candidate_id] |= {
            "stage": "Interview",
            "stage_kind": "interview",
        }

    with pytest.raises(ChangedSince) as caught:
        wk.adapter(fields={"member_id": MEMBER}).withdraw(record, reason=REASON)

    assert "Interview" in caught.value.user_message()
    assert disqualify_calls(wk) == []
    assert stored(wk, record.candidate_id)["disqualified"] is False


def test_a_candidate_already_disqualified_is_left_alone(wk: VendorRig) -> None:
    record = exported(wk)
    adapter = wk.adapter(fields={"member_id": MEMBER})
    adapter.withdraw(record, reason="by a person")  # someone disqualified them first

    with pytest.raises(ChangedSince, match="already disqualified"):
        adapter.withdraw(record, reason=REASON)

    assert len(disqualify_calls(wk)) == 1
    assert stored(wk, record.candidate_id)["disqualification_reason"] == "by a person"


def test_an_unknown_candidate_is_not_found(wk: VendorRig) -> None:
    record = CreatedRecord(candidate_id="nosuch1", application_id=None, job_id=JOB, prospect=False)

    with pytest.raises(NotFound) as caught:
        wk.adapter(fields={"member_id": MEMBER}).withdraw(record, reason=REASON)

    assert "nosuch1" in caught.value.user_message()
    assert "job may be closed" not in caught.value.user_message()
    assert disqualify_calls(wk) == []


def test_without_a_member_id_the_withdraw_is_refused_before_any_request(wk: VendorRig) -> None:
    record = exported(wk)
    before = len(wk.emulator.requests())

    with pytest.raises(NotSupported) as caught:
        wk.adapter().withdraw(record, reason=REASON)

    message = caught.value.user_message()
    assert message.startswith("Workable: ") and "member" in message and "/scaleup connect" in message
    assert len(wk.emulator.requests()) == before


def test_a_talent_pool_prospect_is_refused_before_any_request(wk: VendorRig) -> None:
    adapter = wk.adapter(fields={"member_id": MEMBER})
    created = adapter.create_prospect(person("pool.undo@example.org"), job_id=None)
    record = CreatedRecord(candidate_id=created.candidate_id, application_id=None, job_id=None, prospect=True)
    before = len(wk.emulator.requests())

    with pytest.raises(NotSupported, match="talent pool"):
        adapter.withdraw(record, reason=REASON)

    assert len(wk.emulator.requests()) == before
