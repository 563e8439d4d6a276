"""Ashby `withdraw` over loopback HTTP: an export taken back is archived with an archive reason.

Each test runs a seeded `AshbyEmulator` through `make_rig` and drives the real adapter; afterwards every
request the adapter sent is checked against Ashby's OpenAPI document (tests/specs/ashby-openapi.yml), as in
test_ashby.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx
import pytest
from ats_rig import VendorRig, person
from openapi_core import OpenAPI
from test_ashby import ashby_spec, assert_within_spec  # noqa: F401 (ashby_spec is a fixture)

from ats.ashby import SPEC, _reason_rank
from ats.errors import ChangedSince, NotFound, NotSupported
from ats.types import CreatedRecord, WithdrawAction
from core.vocabulary import Vendor
from devkit.ats.ashby import DEMO_API_KEY, AshbyEmulator

BACKEND_JOB = "fe44a7d3-3d51-5f03-9423-c02b9707a62b"  # plan 7336b9d6…, which has an Archived stage
SALES_JOB = "f394e74c-4e4f-511d-836c-4aabd751fa13"  # plan 5c800439…, seeded without an Archived stage
RECRUITER_SCREEN = "08e3a97b-9b23-5b74-8564-ef4c7b067338"
TECHNICAL_INTERVIEW = "d2d7d8f7-016a-5b27-8b84-0fcd79bfa854"
ARCHIVED_STAGE = "16c6b622-83ec-558c-a373-1580cfad8151"
ADDED_BY_MISTAKE = "c47b2e9d-6a15-5d38-8f0c-3b9e1d5a7c84"  # seeded archive reason, type Other
REASON = "Exported by mistake from #hiring; taken back with /scaleup undo."
WRITES = ("/application.changeStage", "/candidate.createNote")


@pytest.fixture
def rig(
    make_rig: Callable[..., VendorRig],
    ashby_spec: tuple[OpenAPI, Mapping[str, Any]],  # noqa: F811 (the fixture imported above)
) -> Iterator[VendorRig]:
    """Serve a seeded Ashby; afterwards, fail if any request broke the published spec."""
    built = make_rig(Vendor.ASHBY)
    yield built
    assert_within_spec(ashby_spec, built.emulator)


def as_person(emu: AshbyEmulator, action: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """Call the emulator the way someone else's integration (or Ashby's UI) would; return the JSON body."""
    response = httpx.post(f"{emu.base_url}/{action}", json=dict(body), auth=(DEMO_API_KEY, ""))
    assert response.status_code == 200
    return response.json()


def application(emu: AshbyEmulator, application_id: str) -> dict[str, Any]:
    """Return the emulator's stored application."""
    with emu.lock:
        return dict(emu.table("applications")[application_id])


def writes_after(emu: AshbyEmulator, count: int) -> list[str]:
    """Return the paths of write requests logged after the first `count` requests."""
    return [r.path for r in emu.requests()[count:] if r.path in WRITES]


def test_withdraw_is_declared() -> None:
    assert SPEC.capabilities.withdraw is True


def test_created_applicant_is_archived_with_the_mistake_reason(rig: VendorRig) -> None:
    emu = rig.emulator
    adapter = rig.adapter()
    created = adapter.create_applicant(person(), job_id=BACKEND_JOB, stage_id=RECRUITER_SCREEN)
    record = CreatedRecord(
        created.candidate_id, created.application_id, BACKEND_JOB, prospect=False, stage_id=RECRUITER_SCREEN
    )
    before = len(emu.requests())

    outcome = adapter.withdraw(record, reason=REASON)

    assert outcome.action is WithdrawAction.ARCHIVED
    assert "Added by mistake" in outcome.detail
    stored = application(emu, str(created.application_id))
    assert stored["status"] == "Archived"
    assert stored["currentInterviewStage"]["id"] == ARCHIVED_STAGE
    assert stored["archiveReason"]["id"] == ADDED_BY_MISTAKE
    change = emu.requests(path="/application.changeStage")[-1].json
    assert change == {
        "applicationId": created.application_id,
        "interviewStageId": ARCHIVED_STAGE,
        "archiveReasonId": ADDED_BY_MISTAKE,
    }  # no archiveEmail: the candidate is not emailed
    assert [r.path for r in emu.requests()[before:]] == [
        "/application.info",
        "/interviewStage.list",
        "/archiveReason.list",
        "/application.changeStage",
        "/candidate.createNote",
    ]
    with emu.lock:
        notes = [n for n in emu.table("notes").values() if n["_candidateId"] == created.candidate_id]
    assert REASON in [n["content"] for n in notes]


def test_prospect_placed_at_the_default_lead_stage_is_archived(rig: VendorRig) -> None:
    adapter = rig.adapter()
    created = adapter.create_prospect(person("lead@example.org"), job_id=BACKEND_JOB)
    record = CreatedRecord(created.candidate_id, created.application_id, BACKEND_JOB, prospect=True)

    assert adapter.withdraw(record, reason=REASON).action is WithdrawAction.ARCHIVED
    assert application(rig.emulator, str(created.application_id))["status"] == "Archived"


def test_application_moved_by_a_person_is_left_alone(rig: VendorRig) -> None:
    emu = rig.emulator
    adapter = rig.adapter()
    created = adapter.create_applicant(person(), job_id=BACKEND_JOB, stage_id=RECRUITER_SCREEN)
    moved = as_person(
        emu,
        "application.changeStage",
        {"applicationId": created.application_id, "interviewStageId": TECHNICAL_INTERVIEW},
    )
    assert moved["success"] is True
    record = CreatedRecord(
        created.candidate_id, created.application_id, BACKEND_JOB, prospect=False, stage_id=RECRUITER_SCREEN
    )
    before = len(emu.requests())

    with pytest.raises(ChangedSince, match="Technical Interview"):
        adapter.withdraw(record, reason=REASON)

    assert writes_after(emu, before) == []
    stored = application(emu, str(created.application_id))
    assert (stored["status"], stored["currentInterviewStage"]["id"]) == ("Active", TECHNICAL_INTERVIEW)


def test_default_stage_moved_by_a_person_is_left_alone(rig: VendorRig) -> None:
    emu = rig.emulator
    adapter = rig.adapter()
    created = adapter.create_applicant(person(), job_id=BACKEND_JOB, stage_id=None)  # Application Review
    as_person(
        emu,
        "application.changeStage",
        {"applicationId": created.application_id, "interviewStageId": RECRUITER_SCREEN},
    )
    record = CreatedRecord(created.candidate_id, created.application_id, BACKEND_JOB, prospect=False)
    before = len(emu.requests())

    with pytest.raises(ChangedSince):
        adapter.withdraw(record, reason=REASON)
    assert writes_after(emu, before) == []


def test_already_archived_application_is_changed_since(rig: VendorRig) -> None:
    emu = rig.emulator
    adapter = rig.adapter()
    created = adapter.create_applicant(person(), job_id=BACKEND_JOB, stage_id=RECRUITER_SCREEN)
    record = CreatedRecord(created.candidate_id, created.application_id, BACKEND_JOB, prospect=False)
    archived = as_person(
        emu,
        "application.changeStage",
        {
            "applicationId": created.application_id,
            "interviewStageId": ARCHIVED_STAGE,
            "archiveReasonId": "5b4c2f0e-7d1a-5e3b-9c61-2a8f4d0e6b17",  # Too inexperienced
        },
    )
    assert archived["results"]["status"] == "Archived"
    before = len(emu.requests())

    with pytest.raises(ChangedSince, match="already archived"):
        adapter.withdraw(record, reason=REASON)

    assert writes_after(emu, before) == []
    assert application(emu, str(created.application_id))["archiveReason"]["text"] == "Too inexperienced"


def test_withdrawing_twice_is_changed_since_the_second_time(rig: VendorRig) -> None:
    adapter = rig.adapter()
    created = adapter.create_applicant(person(), job_id=BACKEND_JOB, stage_id=RECRUITER_SCREEN)
    record = CreatedRecord(
        created.candidate_id, created.application_id, BACKEND_JOB, prospect=False, stage_id=RECRUITER_SCREEN
    )
    adapter.withdraw(record, reason=REASON)

    with pytest.raises(ChangedSince):
        adapter.withdraw(record, reason=REASON)


def test_unknown_application_is_not_found(rig: VendorRig) -> None:
    record = CreatedRecord(
        "00000000-0000-4000-8000-00000000aaaa",
        "00000000-0000-4000-8000-00000000bbbb",
        BACKEND_JOB,
        prospect=False,
    )
    with pytest.raises(NotFound):
        rig.adapter().withdraw(record, reason=REASON)
    assert writes_after(rig.emulator, 0) == []


def test_candidate_without_an_application_cannot_be_taken_back(rig: VendorRig) -> None:
    adapter = rig.adapter()
    created = adapter.create_prospect(person("nojob@example.org"), job_id=None)
    before = len(rig.emulator.requests())

    with pytest.raises(NotSupported):
        adapter.withdraw(CreatedRecord(created.candidate_id, None, None, prospect=True), reason=REASON)
    assert rig.emulator.requests()[before:] == []


def test_plan_without_an_archived_stage_is_not_supported(rig: VendorRig) -> None:
    adapter = rig.adapter()
    created = adapter.create_applicant(person(), job_id=SALES_JOB, stage_id=None)
    record = CreatedRecord(created.candidate_id, created.application_id, SALES_JOB, prospect=False)
    before = len(rig.emulator.requests())

    with pytest.raises(NotSupported, match="Archived stage"):
        adapter.withdraw(record, reason=REASON)
    assert writes_after(rig.emulator, before) == []


def test_no_archive_reason_of_type_other_is_not_supported(rig: VendorRig) -> None:
    emu = rig.emulator
    with emu.lock:
        for reason in emu.table("archive_reasons").values():
            if reason["reasonType"] == "Other":
                reason["isArchived"] = True
    adapter = rig.adapter()
    created = adapter.create_applicant(person(), job_id=BACKEND_JOB, stage_id=RECRUITER_SCREEN)
    record = CreatedRecord(
        created.candidate_id, created.application_id, BACKEND_JOB, prospect=False, stage_id=RECRUITER_SCREEN
    )
    before = len(emu.requests())

    with pytest.raises(NotSupported, match="archive reason"):
        adapter.withdraw(record, reason=REASON)
    assert writes_after(emu, before) == []


@pytest.mark.parametrize(
    ("text", "kind", "rank"),
    [
        ("Added by mistake", "Other", 0),
        ("Sourced in error", "Other", 0),
        ("Other", "Other", 1),
        ("Position filled", "Other", 2),
        ("Added by mistake", "RejectedByOrg", None),
        ("Withdrew", "RejectedByCandidate", None),
    ],
)
def test_archive_reason_ranking(text: str, kind: str, rank: int | None) -> None:
    assert _reason_rank({"id": "x", "text": text, "reasonType": kind, "isArchived": False}) == rank


def test_emulator_change_stage_to_archived_requires_a_reason(rig: VendorRig) -> None:
    emu = rig.emulator
    created = rig.adapter().create_applicant(person(), job_id=BACKEND_JOB, stage_id=RECRUITER_SCREEN)

    missing = as_person(
        emu,
        "application.changeStage",
        {"applicationId": created.application_id, "interviewStageId": ARCHIVED_STAGE},
    )
    stray = as_person(
        emu,
        "application.changeStage",
        {
            "applicationId": created.application_id,
            "interviewStageId": TECHNICAL_INTERVIEW,
            "archiveReasonId": ADDED_BY_MISTAKE,
        },
    )
    unknown = as_person(emu, "application.info", {"applicationId": "00000000-0000-4000-8000-00000000bbbb"})

    assert (missing["success"], missing["errorInfo"]["code"]) == (False, "invalid_input")
    assert (stray["success"], stray["errorInfo"]["code"]) == (False, "invalid_input")
    assert (unknown["success"], unknown["errorInfo"]["code"]) == (False, "application_not_found")
    assert application(emu, str(created.application_id))["status"] == "Active"
