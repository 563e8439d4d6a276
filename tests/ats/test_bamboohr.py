"""BambooHR quirks over loopback: exclusion only, email matching done by us over every page, 503 throttling."""

from __future__ import annotations

from typing import Any

import pytest
from ats_rig import VendorRig, fast_options, person

from ats.bamboohr import EXPORT_REFUSED, BambooHRAdapter, base_url, to_new_since
from ats.base import ConnectionConfig
from ats.budgets import NullBudget
from ats.errors import NotSupported, PermissionMissing, RateLimited, ValidationFailed, VendorUnavailable
from core.vocabulary import Vendor
from devkit.ats.bamboohr import BambooHREmulator
from devkit.ats.registry import load_seed
from devkit.ats.wire import EmuRequest, Reply

APPLICATIONS = "/api/gateway.php/scaleup-demo/v1/applicant_tracking/applications"


@pytest.fixture
def bhr(make_rig) -> VendorRig:
    return make_rig(Vendor.BAMBOOHR)  # the profile's emulator pages applications two at a time


# --- exclusion only ------------------------------------------------------------------------------------


def test_capabilities_say_exclusion_only(bhr: VendorRig) -> None:
    capabilities = bhr.adapter().capabilities
    assert capabilities.exclusion_only is True
    assert capabilities.export_prospects is False
    assert capabilities.export_applicants is False
    assert capabilities.add_to_job is False


@pytest.mark.parametrize(
    "export",
    [
        lambda a: a.create_prospect(person(), job_id=None),
        lambda a: a.create_prospect(person(), job_id="18"),
        lambda a: a.create_applicant(person(), job_id="18", stage_id="1"),
        lambda a: a.add_to_job("501", job_id="19", stage_id=None, prospect=False),
    ],
)
def test_every_export_is_refused_loudly_and_sends_nothing(bhr: VendorRig, export: Any) -> None:
    with pytest.raises(NotSupported) as caught:
        export(bhr.adapter())
    assert EXPORT_REFUSED in caught.value.user_message()
    assert bhr.emulator.requests() == []


# --- email matching ------------------------------------------------------------------------------------


def test_find_candidates_reads_every_page_and_matches_emails_itself(bhr: VendorRig) -> None:
    found = bhr.adapter().find_candidates(email="alan@TURING.example")

    # The stored address is " ALAN@turing.example " on the second page: trimmed and lower-cased here.
    assert [(c.id, c.name, c.emails) for c in found] == [("503", "Alan Turing", ("alan@turing.example",))]
    pages = bhr.emulator.requests("GET", APPLICATIONS)
    assert len(pages) == 3
    # No server-side filter: BambooHR documents none that matches emails.
    assert all(set(p.query) <= {"page"} for p in pages)


def test_applications_of_one_person_are_one_candidate(bhr: VendorRig) -> None:
    found = bhr.adapter().find_candidates(email="ada.lovelace@example.com")

    assert [c.id for c in found] == ["501"]
    assert [a["id"] for a in found[0].raw["applications"]] == [101, 103]
    assert found[0].updated_at == "2026-08-03T10:00:00+00:00"


def test_no_email_never_matches(bhr: VendorRig) -> None:
    adapter = bhr.adapter()
    assert adapter.find_candidates(email="") == []
    assert adapter.find_candidates(email="nobody@example.com") == []  # Katherine has no email at all
    assert adapter.find_candidates(linkedin_url="https://www.linkedin.com/in/ada") == []


def test_new_since_sync_returns_only_new_applications(bhr: VendorRig) -> None:
    adapter = bhr.adapter()
    pages = list(adapter.iter_candidate_pages(None))
    assert [len(p.candidates) for p in pages] == [2, 2, 1]
    assert [p.cursor for p in pages] == [None, None, "2026-08-05T10:00:00+00:00"]

    bhr.emulator.seed(
        {
            "applications": [
                {
                    "id": 106,
                    "appliedDate": "2026-11-20T08:30:00+00:00",
                    "status": {"id": 1, "label": "New"},
                    "applicant": {
                        "id": 505,
                        "firstName": "Hedy",
                        "lastName": "Lamarr",
                        "email": "Hedy@Example.com",
                    },
                    "job": {"id": 18, "title": {"id": None, "label": "Senior Backend Engineer"}},
                }
            ]
        }
    )
    changed = list(adapter.iter_candidate_pages(pages[-1].cursor))

    assert [(c.id, c.emails) for p in changed for c in p.candidates] == [("505", ("hedy@example.com",))]
    assert changed[-1].cursor == "2026-11-20T08:30:00+00:00"
    assert bhr.emulator.requests("GET", APPLICATIONS)[-1].query["newSince"] == ["2026-08-05 10:00:00"]


@pytest.mark.parametrize(
    ("cursor", "expected"),
    [
        ("2026-08-05T10:00:00+00:00", "2026-08-05 10:00:00"),
        ("2026-08-05T12:00:00+02:00", "2026-08-05 10:00:00"),
        ("2026-08-05T10:00:00Z", "2026-08-05 10:00:00"),
        ("2026-08-05 10:00:00", "2026-08-05 10:00:00"),
    ],
)
def test_cursor_becomes_bamboohr_new_since_in_utc(cursor: str, expected: str) -> None:
    assert to_new_since(cursor) == expected


class OtherHostPagingEmulator(BambooHREmulator):
    """A BambooHR whose `nextPageUrl` names the company host instead of the one we call."""

    def _applications(self, request: EmuRequest, company: str) -> Reply:
        reply = super()._applications(request, company)
        if reply.body and reply.body["nextPageUrl"]:
            reply.body["nextPageUrl"] = reply.body["nextPageUrl"].replace(
                request.host_url, "https://scaleup-demo.bamboohr.com"
            )
        return reply


def test_next_page_links_are_followed_on_our_own_host_only() -> None:
    with OtherHostPagingEmulator(page_size=2, seed=load_seed(Vendor.BAMBOOHR)) as emu:
        adapter = BambooHRAdapter.create(emu.connection_config(), budget=NullBudget(), options=fast_options())
        assert [c.id for c in adapter.find_candidates(email="katherine@nowhere.example")] == []
        # All three pages came from the emulator: the key was never sent to the linked host.
        assert [r.query.get("page") for r in emu.requests()] == [None, ["2"], ["3"]]


# --- jobs, stages, connection --------------------------------------------------------------------------


def test_stages_are_the_account_wide_enabled_statuses(bhr: VendorRig) -> None:
    stages = bhr.adapter().list_stages("18")
    assert [s.name for s in stages] == ["New", "Reviewed", "Schedule Phone Screen", "Interviewed", "Hired"]
    assert [s.order for s in stages] == [0, 1, 2, 3, 4]
    assert {s.job_id for s in stages} == {None}


def test_every_request_asks_for_json(bhr: VendorRig) -> None:
    adapter = bhr.adapter()
    adapter.check()
    list(adapter.iter_jobs())
    # BambooHR answers XML unless asked for JSON.
    assert {r.headers.get("accept") for r in bhr.emulator.requests()} == {"application/json"}


def test_key_without_ats_access_is_permission_missing_with_bamboohr_reason(bhr: VendorRig) -> None:
    with pytest.raises(PermissionMissing, match="no access to ATS settings"):
        bhr.adapter(secrets={"api_key": "bamboohr-no-ats-key"}).check()


@pytest.mark.parametrize("company", ["acme", " Acme ", "acme.bamboohr.com"])
def test_api_root_is_the_company_gateway(company: str) -> None:
    config = ConnectionConfig(Vendor.BAMBOOHR, secrets={"api_key": "k"}, fields={"subdomain": company})
    assert base_url(config) == "https://api.bamboohr.com/api/gateway.php/acme/v1"


@pytest.mark.parametrize("company", ["", "acme/../x", "evil.example"])
def test_a_bad_company_domain_is_refused(company: str) -> None:
    config = ConnectionConfig(Vendor.BAMBOOHR, secrets={"api_key": "k"}, fields={"subdomain": company})
    with pytest.raises(ValidationFailed, match="company domain"):
        base_url(config)


# --- throttling ----------------------------------------------------------------------------------------


def test_throttling_503_with_retry_after_is_rate_limited(bhr: VendorRig) -> None:
    adapter = bhr.adapter(options=fast_options(max_retry_after=0.001))
    bhr.emulator.limiter.configure(1, 5.0)
    adapter.check()

    with pytest.raises(RateLimited) as caught:
        adapter.check()

    assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 5


def test_503_without_retry_after_is_an_outage(bhr: VendorRig) -> None:
    adapter = bhr.adapter(options=fast_options(max_tries=2))
    bhr.emulator.faults.fail_always(status=503)
    with pytest.raises(VendorUnavailable):
        adapter.check()
    assert len(bhr.emulator.requests()) == 2


def test_look_ups_reuse_one_scan_for_a_while(bhr: VendorRig) -> None:
    clock = [1_000.0]
    adapter = bhr.adapter(options=fast_options(now=lambda: clock[0]))

    adapter.find_candidates(email="grace.hopper@example.com")
    assert [c.id for c in adapter.find_candidates(email="ALAN@turing.example")] == ["503"]
    assert len(bhr.emulator.requests("GET", APPLICATIONS)) == 3  # one scan of three pages for both
    clock[0] += 121
    adapter.find_candidates(email="grace.hopper@example.com")
    assert len(bhr.emulator.requests("GET", APPLICATIONS)) == 6
