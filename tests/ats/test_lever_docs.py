"""Lever as its developer documentation describes it (issue 24), over loopback HTTP against the emulator.

- `confidentiality` on the lists ("If unspecified, defaults to non-confidential. To get both confidential and
  non-confidential … you must specify all"): https://hire.lever.co/developer/documentation#list-all-opportunities
  and #list-all-postings; keys see confidential data only when created with "Allow access to confidential
  data": https://help.lever.co/hc/en-us/articles/360042364412 (what Lever answers a key without it that asks
  is not documented: the emulator answers 403, and the adapter copes with that or with a silent list)
- `distributionChannel` ("To retrieve all published postings, you must specify both public and internal"):
  https://hire.lever.co/developer/documentation#list-all-postings
- a user's `deactivatedAt` ("null for an active user"): https://hire.lever.co/developer/documentation#users
- `updated_at_start` ("updated from that timestamp (inclusive) to the present"), the `email` filter:
  https://hire.lever.co/developer/documentation#list-all-opportunities
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from ats_rig import VendorRig, person

from ats.errors import ValidationFailed
from ats.lever import SPEC
from core.vocabulary import Vendor
from devkit.ats.lever import DEMO_API_KEY, DEMO_USER_ID, NO_CONFIDENTIAL_API_KEY

PUBLIC_JOB = "a1b2c3d4-0000-4000-8000-000000000002"
INTERNAL_JOB = "a1b2c3d4-0000-4000-8000-0000000000a1"  # published on the internal job site only
BOTH_JOB = "a1b2c3d4-0000-4000-8000-0000000000a2"  # published on both job sites
SECRET_JOB = "a1b2c3d4-0000-4000-8000-0000000000c1"  # a confidential posting
SECRET_CONTACT = "c0000000-0000-4000-8000-0000000000c1"  # held only in a confidential opportunity
SECRET_EMAIL = "next.cfo@example.org"
GONE_USER = "0d0d0d0d-0000-4000-8000-000000000001"  # deactivated


@pytest.fixture
def lever(make_rig) -> VendorRig:
    rig = make_rig(Vendor.LEVER)
    rig.emulator.seed(
        {
            "postings": [
                posting(INTERNAL_JOB, "Chief of Staff", channels=["internal"]),
                posting(BOTH_JOB, "Support Engineer", channels=["public", "internal"]),
                posting(SECRET_JOB, "Chief Financial Officer", confidentiality="confidential"),
            ],
            "opportunities": [
                {
                    "id": "0f1e2d3c-0000-4000-8000-0000000000c1",
                    "contact": SECRET_CONTACT,
                    "name": "Next Cfo",
                    "emails": [SECRET_EMAIL],
                    "confidentiality": "confidential",
                    "_postings": [SECRET_JOB],
                    "createdAt": 1791700000000,
                    "updatedAt": 1791700000000,
                }
            ],
            "users": [
                {
                    "id": GONE_USER,
                    "name": "Gone Recruiter",
                    "email": "gone@scaleup.example",
                    "accessRole": "team member",
                    "deactivatedAt": 1792000000000,
                }
            ],
        }
    )
    return rig


def posting(
    posting_id: str, text: str, *, channels: list[str] | None = None, confidentiality: str | None = None
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": posting_id,
        "text": text,
        "state": "published",
        "createdAt": 1790000005000,
        "categories": {"team": "Operations", "location": "Berlin"},
    }
    if channels is not None:
        record["distributionChannels"] = channels
    if confidentiality is not None:
        record["confidentiality"] = confidentiality
    return record


def raw_get(rig: VendorRig, path: str, key: str = DEMO_API_KEY, **params: Any) -> httpx.Response:
    return httpx.get(f"{rig.emulator.base_url}{path}", params=params, auth=(key, ""))


def ids(answer: httpx.Response) -> set[str]:
    return {item["id"] for item in answer.json()["data"]}


def queries(rig: VendorRig, path: str) -> list[dict[str, list[str]]]:
    return [dict(r.query) for r in rig.emulator.requests("GET", path)]


# --- 1. confidential records are left out of lists unless asked for, and only keys with access may ask ----


def test_the_emulator_lists_confidential_records_only_when_asked_for_all(lever: VendorRig) -> None:
    default = raw_get(lever, "/opportunities", email=SECRET_EMAIL)
    everything = raw_get(lever, "/opportunities", email=SECRET_EMAIL, confidentiality="all")
    only = raw_get(lever, "/opportunities", confidentiality="confidential")

    assert default.status_code == 200 and default.json()["data"] == []
    assert [o["contact"] for o in everything.json()["data"]] == [SECRET_CONTACT]
    assert {o["confidentiality"] for o in only.json()["data"]} == {"confidential"}
    assert SECRET_JOB not in ids(raw_get(lever, "/postings", state="published"))
    assert SECRET_JOB in ids(raw_get(lever, "/postings", state="published", confidentiality="all"))


def test_the_emulator_refuses_confidential_data_to_a_key_without_access(lever: VendorRig) -> None:
    asked = raw_get(lever, "/opportunities", NO_CONFIDENTIAL_API_KEY, confidentiality="all")
    plain = raw_get(lever, "/opportunities", NO_CONFIDENTIAL_API_KEY)

    assert asked.status_code == 403 and asked.json()["code"] == "ForbiddenError"
    assert plain.status_code == 200 and SECRET_CONTACT not in {o["contact"] for o in plain.json()["data"]}


def test_duplicate_look_ups_see_a_person_held_only_in_a_confidential_opportunity(lever: VendorRig) -> None:
    adapter = lever.adapter()

    [found] = adapter.find_candidates(email=SECRET_EMAIL.upper())
    fetched = adapter.get_candidate(SECRET_CONTACT)
    mirrored = {c.id for page in adapter.iter_candidate_pages(None) for c in page.candidates}

    assert found.id == SECRET_CONTACT and found.emails == (SECRET_EMAIL,)
    assert fetched is not None and fetched.id == SECRET_CONTACT
    assert SECRET_CONTACT in mirrored
    assert all(q["confidentiality"] == ["all"] for q in queries(lever, "/v1/opportunities"))
    # "Add to this job" opens an opportunity for that contact on the link's (non-confidential) posting.
    added = adapter.add_to_job(SECRET_CONTACT, job_id=PUBLIC_JOB, stage_id=None, prospect=True)
    assert added.candidate_id == SECRET_CONTACT and added.raw["confidentiality"] == "non-confidential"


def test_a_key_without_confidential_access_still_looks_people_up_and_asks_for_all_once(
    lever: VendorRig,
) -> None:
    adapter = lever.adapter(secrets={"api_key": NO_CONFIDENTIAL_API_KEY})

    [ada] = adapter.find_candidates(email="ada@example.com")
    hidden = adapter.find_candidates(email=SECRET_EMAIL)
    mirrored = {c.id for page in adapter.iter_candidate_pages(None) for c in page.candidates}

    assert ada.id == "c0000000-0000-4000-8000-000000000001"
    # What a key without confidential access means: the confidential pipeline's people are not seen.
    assert hidden == [] and SECRET_CONTACT not in mirrored
    asked_all = [q for q in queries(lever, "/v1/opportunities") if "confidentiality" in q]
    assert len(asked_all) == 1  # refused once, never asked again with this key


def test_the_connect_form_says_what_a_key_without_confidential_access_means() -> None:
    hint = next(f.hint for f in SPEC.credentials if f.name == "api_key")
    assert "Allow access to confidential data" in hint and "second opportunity" in hint


# --- 2. published postings on the internal job site only are offered, and say so -------------------------


def test_the_emulator_lists_internal_only_postings_only_when_both_channels_are_named(
    lever: VendorRig,
) -> None:
    default = ids(raw_get(lever, "/postings", state="published"))
    both = ids(
        httpx.get(
            f"{lever.emulator.base_url}/postings",
            params=[
                ("state", "published"),
                ("distributionChannel", "public"),
                ("distributionChannel", "internal"),
            ],
            auth=(DEMO_API_KEY, ""),
        )
    )

    assert PUBLIC_JOB in default and BOTH_JOB in default and INTERNAL_JOB not in default
    assert {PUBLIC_JOB, BOTH_JOB, INTERNAL_JOB} <= both


def test_internal_only_postings_are_offered_labelled_internal(lever: VendorRig) -> None:
    adapter = lever.adapter()

    jobs = {job.id: job for job in adapter.iter_jobs()}

    assert jobs[INTERNAL_JOB].name == "Chief of Staff (internal)" and jobs[INTERNAL_JOB].is_open
    assert jobs[BOTH_JOB].name == "Support Engineer" and jobs[PUBLIC_JOB].name == "Product Designer"
    assert adapter.get_job(INTERNAL_JOB).name == "Chief of Staff (internal)"
    # A confidential posting is never offered: Lever shows it to a few stakeholders, Slack to everyone.
    assert SECRET_JOB not in jobs
    for query in queries(lever, "/v1/postings"):
        assert query["state"] == ["published"] and query["distributionChannel"] == ["public", "internal"]


def test_an_internal_only_posting_takes_candidates(lever: VendorRig) -> None:
    adapter = lever.adapter()

    adapter.create_applicant(person("insider@example.org"), job_id=INTERNAL_JOB, stage_id="applicant-new")

    [record] = lever.emulator.created_for("insider@example.org")
    assert record.job_id == INTERNAL_JOB and record.stage_id == "applicant-new"


# --- 3. the acting user must be active ------------------------------------------------------------------


def test_a_deactivated_acting_user_is_refused_at_connect_naming_the_user(lever: VendorRig) -> None:
    adapter = lever.adapter(fields={"perform_as": GONE_USER})

    with pytest.raises(ValidationFailed) as caught:
        adapter.check()

    assert "Gone Recruiter" in caught.value.field_errors["perform_as"]
    assert "deactivated" in caught.value.user_message()
    assert raw_get(lever, f"/users/{GONE_USER}").json()["data"]["deactivatedAt"] == 1792000000000


def test_an_active_acting_user_passes_the_check(lever: VendorRig) -> None:
    account = lever.adapter(fields={"perform_as": DEMO_USER_ID}).check()

    assert account.acting_user == "Rita Recruiter"
    assert raw_get(lever, f"/users/{DEMO_USER_ID}").json()["data"]["deactivatedAt"] is None


# --- 4. dedupe's cost follows what changed --------------------------------------------------------------


def test_a_sync_after_the_first_reads_only_what_changed(lever: VendorRig) -> None:
    adapter = lever.adapter()  # two opportunities a page (fast_options)
    first = list(adapter.iter_candidate_pages(None))
    cursor = first[-1].cursor
    before = len(lever.emulator.requests("GET", "/v1/opportunities"))
    created = adapter.create_prospect(person("fresh@example.org"), job_id=None)

    pages = list(adapter.iter_candidate_pages(cursor))

    sent = queries(lever, "/v1/opportunities")[before:]
    assert len(first) == 2 and cursor == "1793000000000"  # 4 opportunities; the newest seeded one's stamp
    assert (
        len(sent) == 1 and sent[0]["updated_at_start"] == [cursor] and sent[0]["confidentiality"] == ["all"]
    )
    changed = {c.id for page in pages for c in page.candidates}
    # The cursor's own stamp is read again (the filter is inclusive), and the new opportunity.
    assert changed == {"c0000000-0000-4000-8000-000000000002", created.candidate_id}
    assert int(pages[-1].cursor or 0) > int(cursor)


def test_a_single_look_up_is_one_request_filtered_by_email(lever: VendorRig) -> None:
    adapter = lever.adapter()

    [ada] = adapter.find_candidates(email=" Ada@Example.com ")

    assert ada.id == "c0000000-0000-4000-8000-000000000001"
    assert queries(lever, "/v1/opportunities") == [
        {"email": ["ada@example.com"], "confidentiality": ["all"], "limit": ["2"]}
    ]


def test_an_update_to_a_page_already_read_during_the_first_listing_is_not_skipped(lever: VendorRig) -> None:
    """The first listing reads page after page; an opportunity of page 1 updated meanwhile has an older stamp
    than page 2's newest, so a cursor at the newest stamp seen would skip it for good."""
    adapter = lever.adapter()  # two opportunities a page
    listing = adapter.iter_candidate_pages(None)
    first = next(listing)
    opportunities = lever.emulator.table("opportunities")
    on_first = next(o for o in opportunities.values() if o.get("contact") in {c.id for c in first.candidates})
    now_ms = int(time.time() * 1000)
    on_first["updatedAt"] = now_ms  # a recruiter edits it while page 2 is read
    for other in opportunities.values():
        if other is not on_first and other.get("contact") not in {c.id for c in first.candidates}:
            other["updatedAt"] = now_ms + 1000  # and someone edits one of page 2 a second later
    rest = list(listing)

    again = {c.id for page in adapter.iter_candidate_pages(rest[-1].cursor) for c in page.candidates}

    assert on_first["contact"] in again
