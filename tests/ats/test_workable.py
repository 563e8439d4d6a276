"""Workable quirks over loopback: account subdomain, `sourced: true`, stage slugs, paging URLs, rate headers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from ats_rig import VendorRig, fast_options, person

from ats.base import ConnectionConfig
from ats.budgets import NullBudget
from ats.errors import AlreadyExists, AtsError, NotSupported, PermissionMissing, RateLimited, ValidationFailed
from ats.workable import WorkableAdapter, base_url, reset_delay
from core.vocabulary import Vendor
from devkit.ats.registry import load_seed
from devkit.ats.wire import EmuRequest, Reply
from devkit.ats.workable import WorkableEmulator

JOB = "A1B2C3D4E5"
OTHER_JOB = "B2C3D4E5F6"
MEMBER = "m1e2m3b"


@pytest.fixture
def wk(make_rig) -> VendorRig:
    return make_rig(Vendor.WORKABLE)


def created_record(rig: VendorRig, candidate_id: str) -> dict[str, Any]:
    return next(c for c in rig.emulator.records("candidates") if c["id"] == candidate_id)


# --- where requests go ---------------------------------------------------------------------------------


@pytest.mark.parametrize("subdomain", ["acme", "ACME ", "acme.workable.com", "https://acme.workable.com/"])
def test_api_root_is_the_account_subdomain(subdomain: str) -> None:
    config = ConnectionConfig(Vendor.WORKABLE, secrets={"api_key": "t"}, fields={"subdomain": subdomain})
    assert base_url(config) == "https://acme.workable.com/spi/v3"


@pytest.mark.parametrize("subdomain", ["", "evil.example/x?", "a b", "-acme", "acme.evil.example"])
def test_a_bad_subdomain_is_refused_before_any_request(subdomain: str) -> None:
    config = ConnectionConfig(Vendor.WORKABLE, secrets={"api_key": "t"}, fields={"subdomain": subdomain})
    with pytest.raises(ValidationFailed, match="subdomain"):
        base_url(config)


def test_base_url_override_wins_over_the_subdomain(wk: VendorRig) -> None:
    adapter = wk.adapter()
    assert repr(adapter) == f"WorkableAdapter(base_url={wk.emulator.base_url!r})"
    assert adapter.check().account_name == "scaleup-demo"


class OffHostPagingEmulator(WorkableEmulator):
    """A Workable whose `paging.next` points at another host."""

    def _page(self, request: EmuRequest, key: str, rows: list[dict[str, Any]]) -> Reply:
        reply = super()._page(request, key, rows)
        if isinstance(reply.body, dict) and "paging" in reply.body:
            reply.body["paging"]["next"] = reply.body["paging"]["next"].replace(
                request.host_url, "http://evil.example"
            )
        return reply


def test_the_token_never_follows_paging_to_another_host() -> None:
    with OffHostPagingEmulator(seed=load_seed(Vendor.WORKABLE)) as emu:
        adapter = WorkableAdapter.create(
            emu.connection_config(), budget=NullBudget(), options=fast_options(page_size=1)
        )
        with pytest.raises(AtsError, match="another host"):
            list(adapter.iter_jobs())
        assert len(emu.requests()) == 1


# --- creating candidates -------------------------------------------------------------------------------


def test_applicant_is_sourced_and_placed_by_stage_slug(wk: VendorRig) -> None:
    adapter = wk.adapter()
    created = adapter.create_applicant(person("Applicant@Example.org"), job_id=JOB, stage_id="interview")

    sent = wk.emulator.requests("POST")[-1]
    assert sent.path == f"/spi/v3/jobs/{JOB}/candidates"
    assert sent.query == {"stage": ["interview"]}
    # sourced: true is what keeps Workable from mailing "thank you for applying" to someone who never applied.
    assert sent.json["sourced"] is True
    assert wk.emulator.applied_emails == []
    assert sent.json["candidate"] == {
        "firstname": "New",
        "lastname": "Person",
        "email": "Applicant@Example.org",
        "headline": "Engineer at Acme",
        "social_profiles": [{"type": "linkedin", "url": "https://www.linkedin.com/in/new-person"}],
        "tags": ["ScaleUp"],
    }
    record = created_record(wk, created.candidate_id)
    assert (record["stage_kind"], record["job"]["shortcode"]) == ("interview", JOB)
    assert created.profile_url == record["profile_url"]


def test_prospect_without_a_job_goes_to_the_talent_pool(wk: VendorRig) -> None:
    created = wk.adapter().create_prospect(person("pool@example.org"), job_id=None)

    assert wk.emulator.requests("POST")[-1].path == "/spi/v3/talent_pool/candidates"
    assert created_record(wk, created.candidate_id)["job"] is None


def test_prospect_on_a_job_stays_in_the_sourced_stage(wk: VendorRig) -> None:
    created = wk.adapter().create_prospect(person("lead@example.org"), job_id=JOB)

    assert wk.emulator.requests("POST")[-1].query == {}
    assert created_record(wk, created.candidate_id)["stage_kind"] == "sourced"


def test_unknown_stage_slug_is_validation_failed(wk: VendorRig) -> None:
    with pytest.raises(ValidationFailed, match="Stage nope"):
        wk.adapter().create_applicant(person(), job_id=JOB, stage_id="nope")


def test_read_only_token_cannot_create(wk: VendorRig) -> None:
    adapter = wk.adapter(secrets={"api_key": "workable-readonly-token"})
    adapter.check()
    with pytest.raises(PermissionMissing, match="w_candidates"):
        adapter.create_prospect(person(), job_id=None)


# --- duplicates: copy into another job -----------------------------------------------------------------


def test_add_to_job_without_a_member_is_not_supported(wk: VendorRig) -> None:
    adapter = wk.adapter()
    assert adapter.capabilities.add_to_job is False
    with pytest.raises(NotSupported, match="member"):
        adapter.add_to_job("c3d4e5f", job_id=JOB, stage_id=None, prospect=True)


def test_add_to_job_copies_the_candidate_as_the_member(wk: VendorRig) -> None:
    config = wk.emulator.connection_config(fields={"member_id": MEMBER})
    adapter = WorkableAdapter.create(config, budget=NullBudget(), options=fast_options())
    assert adapter.capabilities.add_to_job is True

    copied = adapter.add_to_job("c3d4e5f", job_id=JOB, stage_id="phone-screen", prospect=False)

    sent = wk.emulator.requests("POST")[-1]
    assert sent.json == {"member_id": MEMBER, "target_job_shortcode": JOB, "target_stage": "phone-screen"}
    # Workable keeps one record per job, so the copy has its own id.
    assert copied.candidate_id != "c3d4e5f"
    assert created_record(wk, copied.candidate_id)["job"]["shortcode"] == JOB
    with pytest.raises(AlreadyExists):
        adapter.add_to_job("c3d4e5f", job_id=JOB, stage_id=None, prospect=True)


# --- reading -------------------------------------------------------------------------------------------


def test_find_candidates_returns_each_job_record(wk: VendorRig) -> None:
    found = wk.adapter().find_candidates(email="ADA.lovelace@example.com")

    assert sorted(c.id for c in found) == ["c1a2b3d", "c2b3d4e"]
    assert all(c.emails == ("ada.lovelace@example.com",) for c in found)
    assert wk.emulator.requests("GET")[-1].query["email"] == ["ada.lovelace@example.com"]


def test_updated_after_sync_returns_only_changes(wk: VendorRig) -> None:
    adapter = wk.adapter(options=fast_options(page_size=3))
    pages = list(adapter.iter_candidate_pages(None))
    assert [len(p.candidates) for p in pages] == [3, 1]
    assert pages[-1].cursor == "2026-08-05T10:00:00Z"

    created = adapter.create_prospect(person("fresh@example.org"), job_id=None)
    changed = list(adapter.iter_candidate_pages(pages[-1].cursor))

    # The newest second already seen is read again (tests/ats/test_workable_docs.py says why).
    assert [c.id for p in changed for c in p.candidates] == ["c2b3d4e", created.candidate_id]
    assert wk.emulator.requests("GET")[-1].query["updated_after"] == ["20260805T095959Z"]


def test_unknown_candidate_is_none(wk: VendorRig) -> None:
    assert wk.adapter().get_candidate("zzzzzzz") is None


# --- rate limits ---------------------------------------------------------------------------------------


def test_429_waits_for_x_rate_limit_reset(wk: VendorRig) -> None:
    adapter = wk.adapter(options=fast_options(max_retry_after=0.001))
    wk.emulator.limiter.configure(1, 10.0)
    adapter.check()

    with pytest.raises(RateLimited) as caught:
        adapter.check()

    # Workable documents no Retry-After, only X-Rate-Limit-Reset (the epoch second the next window opens).
    assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 10
    answer = httpx.get(
        wk.emulator.base_url + "/jobs", headers={"Authorization": "Bearer workable-demo-token"}
    )
    assert answer.status_code == 429
    assert "retry-after" not in answer.headers
    assert {"x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"} <= set(answer.headers)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("1700000004", 4.0),  # epoch seconds
        ("1700000004500", 4.5),  # epoch milliseconds
        ("3", 3.0),  # a delta
        ("1700000099", 10.0),  # never more than one 10 s window
        ("1699999990", 0.0),  # already past
        ("soon", None),
        (None, None),
    ],
)
def test_reset_delay(header: str | None, expected: float | None) -> None:
    assert reset_delay(header, now=1_700_000_000.0) == expected
