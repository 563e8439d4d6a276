"""Workable as its API v3 reference documents it (issue 24), over loopback HTTP against the emulator.

- email is required on create: https://workable.readme.io/reference/job-candidates-create (fields table)
- the copy answer is `{"candidate": {"id", "url"}}`: https://workable.readme.io/reference/copy-candidate
- `updated_after` formats: https://workable.readme.io/reference/jobs ("ISO8601 e.g. 20150708T115616Z");
  whole-second stamps: https://workable.readme.io/reference/whats-new-in-v3
- talent pool: https://workable.readme.io/reference/talent-pool-candidates-create against the Getting started
  guide, https://workable.readme.io/reference/generate-an-access-token
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from ats_rig import VendorRig, fast_options, person

from ats.budgets import NullBudget
from ats.errors import NotSupported, PermissionMissing, ValidationFailed
from ats.workable import WorkableAdapter
from core.vocabulary import Vendor
from devkit.ats.registry import load_seed
from devkit.ats.wire import EmuRequest, Reply
from devkit.ats.workable import DEMO_TOKEN, WorkableEmulator

JOB = "A1B2C3D4E5"
MEMBER = "m1e2m3b"
NEWEST_SEEDED = "2026-08-05T10:00:00Z"  # the seed's newest `updated_at` (candidate c2b3d4e)
AUTH = {"Authorization": f"Bearer {DEMO_TOKEN}"}


@pytest.fixture
def wk(make_rig) -> VendorRig:
    return make_rig(Vendor.WORKABLE)


def record(rig: VendorRig, candidate_id: str) -> dict[str, Any]:
    return next(c for c in rig.emulator.records("candidates") if c["id"] == candidate_id)


def epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp).replace(tzinfo=UTC).timestamp()


# --- 1. email is required on create ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "create",
    [
        lambda a, p: a.create_prospect(p, job_id=JOB),
        lambda a, p: a.create_prospect(p, job_id=None),
        lambda a, p: a.create_applicant(p, job_id=JOB, stage_id="interview"),
    ],
    ids=["prospect-on-job", "prospect-in-talent-pool", "applicant"],
)
def test_a_person_without_email_is_refused_before_any_request(wk: VendorRig, create) -> None:
    adapter = wk.adapter()
    with pytest.raises(ValidationFailed) as caught:
        create(adapter, person(emails=()))

    assert "email" in caught.value.field_errors
    assert "email" in caught.value.user_message()
    assert wk.emulator.requests("POST") == []


def test_the_emulator_answers_a_create_without_email_with_the_field_named(wk: VendorRig) -> None:
    before = len(wk.emulator.records("candidates"))
    for email in (None, "", "   "):
        candidate = {"firstname": "No", "lastname": "Email"} | ({} if email is None else {"email": email})
        answer = httpx.post(
            f"{wk.emulator.base_url}/jobs/{JOB}/candidates",
            json={"sourced": True, "candidate": candidate},
            headers=AUTH,
        )
        assert answer.status_code == 422
        assert answer.json()["validation_errors"] == {"email": ["can't be blank"]}
    assert len(wk.emulator.records("candidates")) == before


# --- 2. the copy answer ----------------------------------------------------------------------------------


def test_copy_answers_with_the_new_id_and_its_api_url_only(wk: VendorRig) -> None:
    answer = httpx.post(
        f"{wk.emulator.base_url}/candidates/c3d4e5f/copy",
        json={"member_id": MEMBER, "target_job_shortcode": JOB, "target_stage": "applied"},
        headers=AUTH,
    )

    assert answer.status_code == 201
    copied = answer.json()["candidate"]
    assert set(copied) == {"id", "url"}
    assert copied["id"] != "c3d4e5f"
    assert copied["url"] == f"{wk.emulator.base_url}/candidates/{copied['id']}"


def test_add_to_job_keeps_the_copy_record_link(wk: VendorRig) -> None:
    adapter = wk.adapter(fields={"member_id": MEMBER})

    copied = adapter.add_to_job("c3d4e5f", job_id=JOB, stage_id="phone-screen", prospect=False)

    assert copied.candidate_id != "c3d4e5f"
    assert copied.profile_url is not None
    assert copied.profile_url == record(wk, copied.candidate_id)["profile_url"]
    # The documented way to the new candidate: follow `url` from the answer.
    assert wk.emulator.requests("GET")[-1].path == f"/spi/v3/candidates/{copied.candidate_id}"


class OffHostCopyEmulator(WorkableEmulator):
    """A Workable whose copy answer points `url` at another host."""

    def _copy(self, request: EmuRequest, candidate_id: str) -> Reply:
        reply = super()._copy(request, candidate_id)
        if reply.status == 201:
            reply.body["candidate"]["url"] = "http://evil.example/spi/v3/candidates/x"
        return reply


def test_a_copy_url_on_another_host_is_never_followed_with_the_token() -> None:
    with OffHostCopyEmulator(seed=load_seed(Vendor.WORKABLE)) as emu:
        config = emu.connection_config(fields={"member_id": MEMBER})
        adapter = WorkableAdapter.create(config, budget=NullBudget(), options=fast_options())
        try:
            copied = adapter.add_to_job("c3d4e5f", job_id=JOB, stage_id=None, prospect=True)
        finally:
            adapter.close()
        # Read by its id on the connection's own API root instead.
        assert emu.requests("GET")[-1].path == f"/spi/v3/candidates/{copied.candidate_id}"
        assert copied.profile_url and copied.candidate_id in copied.profile_url


# --- 3. updated_after ------------------------------------------------------------------------------------


def test_updated_after_is_sent_in_the_documented_form_one_second_early(wk: VendorRig) -> None:
    adapter = wk.adapter()
    cursor = list(adapter.iter_candidate_pages(None))[-1].cursor
    assert cursor == NEWEST_SEEDED

    list(adapter.iter_candidate_pages(cursor))

    sent = wk.emulator.requests("GET")[-1].query["updated_after"]
    assert sent == ["20260805T095959Z"]
    assert re.fullmatch(r"\d{8}T\d{6}Z", sent[0])  # "ISO8601 e.g. 20150708T115616Z"


def test_a_record_updated_in_the_newest_second_seen_is_not_missed(make_rig) -> None:
    now = [epoch("2026-08-05T10:00:00.200")]
    rig = make_rig(Vendor.WORKABLE, clock=lambda: now[0])
    adapter = rig.adapter(options=fast_options(page_size=2))
    cursor = list(adapter.iter_candidate_pages(None))[-1].cursor
    assert cursor == NEWEST_SEEDED

    # Later in that same second, after the listing was read, someone is added.
    now[0] = epoch("2026-08-05T10:00:00.700")
    late = adapter.create_prospect(person("same.second@example.org"), job_id=JOB)
    assert record(rig, late.candidate_id)["updated_at"] == NEWEST_SEEDED

    pages = list(adapter.iter_candidate_pages(cursor))

    ids = [c.id for p in pages for c in p.candidates]
    assert late.candidate_id in ids
    assert len(ids) == len(set(ids))
    assert pages[-1].cursor == NEWEST_SEEDED


def test_the_emulator_filters_updated_after_by_whole_seconds_in_both_documented_forms(wk: VendorRig) -> None:
    def listed(value: str) -> httpx.Response:
        return httpx.get(f"{wk.emulator.base_url}/candidates", params={"updated_after": value}, headers=AUTH)

    def ids(value: str) -> set[str]:
        return {c["id"] for c in listed(value).json()["candidates"]}

    newest = int(epoch(NEWEST_SEEDED))
    # Updated at 10:00:00 is not "after" 10:00:00, nor after any instant of that second.
    assert ids("20260805T100000Z") == set() == ids(str(newest)) == ids("2026-08-05T10:00:00.900Z")
    assert ids("20260805T095959Z") == {"c2b3d4e"} == ids(str(newest - 1))
    assert listed("yesterday").status_code == 422


class InclusivePagingEmulator(WorkableEmulator):
    """A Workable whose `paging.next` starts at the last id shown: `since_id` is "greater than or equal"."""

    def _page(self, request: EmuRequest, key: str, rows: list[dict[str, Any]]) -> Reply:
        reply = super()._page(request, key, rows)
        if isinstance(reply.body, dict) and "paging" in reply.body:
            last = reply.body[key][-1]["id"]
            reply.body["paging"]["next"] = re.sub(
                r"since_id=[^&]+", f"since_id={last}", reply.body["paging"]["next"]
            )
        return reply


def test_a_record_listed_twice_in_one_listing_is_yielded_once() -> None:
    with InclusivePagingEmulator(seed=load_seed(Vendor.WORKABLE)) as emu:
        adapter = WorkableAdapter.create(
            emu.connection_config(), budget=NullBudget(), options=fast_options(page_size=2)
        )
        try:
            pages = list(adapter.iter_candidate_pages(None))
        finally:
            adapter.close()
    ids = [c.id for p in pages for c in p.candidates]
    assert sorted(ids) == ["c1a2b3d", "c2b3d4e", "c3d4e5f", "c4e5f6a"]


# --- 4. talent pool --------------------------------------------------------------------------------------


def test_a_prospect_without_a_job_goes_to_the_documented_talent_pool_create(wk: VendorRig) -> None:
    created = wk.adapter().create_prospect(person("pool.doc@example.org"), job_id=None)

    sent = wk.emulator.requests("POST")[-1]
    assert (sent.path, sent.json["sourced"]) == ("/spi/v3/talent_pool/candidates", True)
    assert record(wk, created.candidate_id)["job"] is None


@pytest.mark.parametrize("status", [404, 405, 501])
def test_a_refused_talent_pool_create_says_to_choose_a_job(make_rig, status: int) -> None:
    rig = make_rig(Vendor.WORKABLE, talent_pool_refusal=status)
    adapter = rig.adapter()

    with pytest.raises(NotSupported) as caught:
        adapter.create_prospect(person("pool.refused@example.org"), job_id=None)

    error = caught.value
    assert not error.retryable
    assert error.user_message().startswith("Workable: did not take a prospect without a job")
    assert "talent pool" in error.user_message() and "/scaleup link" in error.user_message()
    assert len(rig.emulator.requests("POST")) == 1  # refused once, not retried
    # Prospects on a job are unaffected.
    assert adapter.create_prospect(person("on.job@example.org"), job_id=JOB).candidate_id


def test_a_token_without_write_scope_is_still_permission_missing_on_the_talent_pool(make_rig) -> None:
    rig = make_rig(Vendor.WORKABLE, talent_pool_refusal=404)
    adapter = rig.adapter(secrets={"api_key": "workable-readonly-token"})
    with pytest.raises(PermissionMissing, match="w_candidates"):
        adapter.create_prospect(person(), job_id=None)
