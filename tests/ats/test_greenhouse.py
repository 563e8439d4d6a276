"""Greenhouse Harvest v3 specifics: OAuth token handling, cursor-only pagination, async visibility, sync."""

from __future__ import annotations

import httpx
import pytest
from ats_rig import fast_options, person

from ats.budgets import NullBudget
from ats.errors import AuthFailed, NotSupported
from ats.greenhouse import GreenhouseAdapter
from core.vocabulary import Vendor
from devkit.ats.greenhouse import CURSOR_ONLY


@pytest.fixture
def gh(make_rig):
    return make_rig(Vendor.GREENHOUSE)


def test_token_is_cached_across_calls(gh):
    adapter = gh.adapter()
    adapter.check()
    list(adapter.iter_jobs())
    adapter.find_candidates(email="ada@example.com")
    assert gh.emulator.tokens_issued == 1
    # /token is not in the log (it is the auth server); every Harvest call carried a redacted bearer token.
    assert all(r.headers.get("authorization") == "[redacted]" for r in gh.emulator.requests())


def test_token_is_refreshed_once_on_401(gh):
    adapter = gh.adapter()
    adapter.check()
    gh.emulator.revoke_tokens()
    assert adapter.get_job("4001").id == "4001"
    assert gh.emulator.tokens_issued == 2


def test_token_is_refreshed_before_it_expires(gh):
    now = [1_000_000_000.0]
    adapter = gh.adapter(options=fast_options(now=lambda: now[0]))
    gh.emulator.token_ttl = 10_000_000_000.0  # the emulator's own clock is real; keep its tokens valid
    adapter.check()
    now[0] += 20_000_000_000.0  # past expires_at: the adapter must mint before sending
    adapter.check()
    assert gh.emulator.tokens_issued == 2


def test_token_sends_client_credentials_and_sub(gh):
    adapter = gh.adapter()
    adapter.check()
    assert gh.emulator.token_subjects == ["4080"]  # the acting user from the connection's user_id
    # base_url points at the emulator, so the token URL defaults to the same host.
    assert isinstance(adapter, GreenhouseAdapter)
    assert adapter._token_url == gh.emulator.url + "/token"


def test_wrong_client_secret_fails_at_the_token_endpoint(gh):
    adapter = gh.adapter(secrets={"client_secret": "nope-nope"})
    with pytest.raises(AuthFailed):
        list(adapter.iter_jobs())
    assert gh.emulator.requests() == []  # nothing reached Harvest without a token


def test_cursor_follow_ups_carry_only_the_cursor(gh):
    adapter = gh.adapter(options=fast_options(page_size=1))
    assert len(list(adapter.iter_jobs())) == 3
    queries = [r.query for r in gh.emulator.requests("GET", "/v3/jobs")]
    assert queries[0] == {"status": ["open"], "per_page": ["1"]}
    assert len(queries) == 3 and all(list(q) == ["cursor"] for q in queries[1:])


def test_emulator_refuses_a_cursor_with_other_params(gh):
    adapter = gh.adapter(options=fast_options(page_size=1))
    adapter.check()
    token = adapter._access_token()
    client = httpx.Client(base_url=gh.emulator.url, headers={"Authorization": f"Bearer {token}"})
    first = client.get("/v3/jobs", params={"per_page": 1})
    next_url = first.links["next"]["url"]
    refused = client.get(next_url + "&per_page=1")
    client.close()
    assert refused.status_code == 422 and refused.json() == {"errors": [CURSOR_ONLY]}


def test_create_applicant_sends_one_nested_application(gh):
    adapter = gh.adapter()
    created = adapter.create_applicant(person("nested@example.org"), job_id="4002", stage_id="40022")
    body = gh.emulator.requests("POST", "/v3/candidates")[0].json
    assert body["application"] == {"job_id": 4002, "initial_stage_id": 40022, "source_id": 7}
    assert body["social_media_addresses"] == [{"value": "https://www.linkedin.com/in/new-person"}]
    assert body["tags"] == ["ScaleUp"]
    # One request: the create is not read back (the engine confirms creates in batches).
    assert not created.visible and created.application_id
    assert len(gh.emulator.requests("GET", "/v3/candidates")) == 0


def test_visible_candidates_asks_for_50_ids_a_request(gh):
    adapter = gh.adapter()
    created = [
        adapter.create_applicant(person(f"batch{n}@example.org"), job_id="4002", stage_id=None).candidate_id
        for n in range(60)
    ]
    before = len(gh.emulator.requests("GET", "/v3/candidates"))
    assert adapter.visible_candidates([*created, "9002", "not-a-number", "123456789"]) == {*created, "9002"}
    asked = gh.emulator.requests("GET", "/v3/candidates")[before:]
    assert [len(r.query["ids"][0].split(",")) for r in asked] == [50, 12]  # not-a-number is not asked


def test_prospect_goes_on_the_job_without_a_stage(gh):
    adapter = gh.adapter()
    adapter.create_prospect(person("prospect@example.org"), job_id="4001")
    body = gh.emulator.requests("POST", "/v3/candidates")[0].json
    assert body["application"] == {"prospect": True, "job_ids": [4001], "source_id": 7}
    [application] = gh.emulator.created_for("prospect@example.org", "application")
    assert application.prospect and application.stage_id is None


def test_existing_candidate_is_added_with_post_applications(gh):
    adapter = gh.adapter()
    created = adapter.add_to_job("9002", job_id="4003", stage_id=None, prospect=False)
    assert created.candidate_id == "9002" and created.application_id
    [application] = gh.emulator.created_for("grace@example.com", "application")
    assert (application.job_id, application.stage_id) == ("4003", "40030")  # first stage by sort_order


def test_delayed_visibility(make_rig):
    rig = make_rig(Vendor.GREENHOUSE, visibility_delay=60.0)
    adapter = rig.adapter()
    created = adapter.create_applicant(person("slow@example.org"), job_id="4001", stage_id=None)
    assert not created.visible
    assert adapter.get_candidate(created.candidate_id) is None
    assert adapter.visible_candidates([created.candidate_id]) == set()
    assert adapter.find_candidates(email="slow@example.org") == []
    rig.emulator.visibility_delay = 0
    for record in rig.emulator.table("candidates").values():
        record.pop("_visible_at", None)
    assert adapter.get_candidate(created.candidate_id).emails == ("slow@example.org",)
    assert adapter.visible_candidates([created.candidate_id]) == {created.candidate_id}


def test_changed_since_uses_the_pipe_form_and_advances_the_cursor(gh):
    adapter = gh.adapter()
    pages = list(adapter.iter_candidate_pages("2026-10-06T00:00:00.000Z"))
    ids = {c.id for p in pages for c in p.candidates}
    assert ids == {"9002", "9003"}
    assert pages[-1].cursor == "2026-11-01T10:00:00.000Z"
    assert gh.emulator.requests("GET", "/v3/candidates")[0].query["updated_at"] == [
        "gte|2026-10-06T00:00:00.000Z"
    ]
    everyone = {c.id for p in adapter.iter_candidate_pages(None) for c in p.candidates}
    assert everyone == {"9001", "9002", "9003"}


def test_linkedin_search_is_not_supported(gh):
    adapter = gh.adapter()
    assert not adapter.capabilities.linkedin_search
    with pytest.raises(NotSupported):
        adapter.find_candidates(linkedin_url="https://www.linkedin.com/in/ada-lovelace")


def test_control_endpoint_counts_created_records_per_email(gh):
    gh.adapter().create_applicant(person("Count@Example.org"), job_id="4001", stage_id=None)
    state = httpx.get(gh.emulator.url + "/_emulator/state").json()
    assert state["created"]["count@example.org"] == {"candidate": 1, "application": 1}


def test_a_spent_window_holds_the_budget_before_any_429(gh):
    holds: list[float] = []

    class Recorder(NullBudget):
        def penalize(self, retry_after: float) -> None:
            holds.append(retry_after)

    adapter = gh.adapter(budget=Recorder())
    gh.emulator.limiter.configure(2, 30.0)
    adapter.get_job("4001")
    assert holds == []
    adapter.get_job("4001")  # X-RateLimit-Remaining: 0 on this success
    assert len(holds) == 1 and 0 < holds[0] <= 30.0
