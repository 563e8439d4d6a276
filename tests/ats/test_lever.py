"""Lever specifics: perform_as on writes, contacts vs opportunities, offset tokens, changed-since."""

from __future__ import annotations

import httpx
import pytest
from ats_rig import person

from ats.errors import ValidationFailed
from core.vocabulary import Vendor
from devkit.ats.lever import DEMO_API_KEY, DEMO_USER_ID

JOB = "a1b2c3d4-0000-4000-8000-000000000002"


@pytest.fixture
def lever(make_rig):
    return make_rig(Vendor.LEVER)


def test_writes_carry_perform_as(lever):
    adapter = lever.adapter()
    adapter.create_applicant(person("p@example.org"), job_id=JOB, stage_id="applicant-new")
    [sent] = lever.emulator.requests("POST", "/v1/opportunities")
    assert sent.query["perform_as"] == [DEMO_USER_ID]
    assert sent.json["postings"] == [JOB] and sent.json["stage"] == "applicant-new"
    assert sent.json["origin"] == "sourced" and sent.json["links"] == [
        "https://www.linkedin.com/in/new-person"
    ]
    assert sent.headers["authorization"] == "[redacted]"


def test_emulator_refuses_writes_without_perform_as(lever):
    client = httpx.Client(base_url=lever.emulator.base_url, auth=(DEMO_API_KEY, ""))
    refused = client.post("/opportunities", json={"name": "X", "emails": ["x@example.org"]})
    client.close()
    assert refused.status_code == 400 and refused.json()["code"] == "BadRequestError"
    assert "perform_as" in refused.json()["message"]


def test_missing_perform_as_fails_before_any_request(lever):
    adapter = lever.adapter(fields={"perform_as": ""})
    with pytest.raises(ValidationFailed) as caught:
        adapter.create_prospect(person(), job_id=None)
    assert "perform_as" in caught.value.field_errors
    assert lever.emulator.requests("POST") == []


def test_unknown_perform_as_is_reported_by_check(lever):
    adapter = lever.adapter()
    lever.emulator.table("users").clear()
    with pytest.raises(ValidationFailed) as caught:
        adapter.check()
    assert "perform_as" in caught.value.field_errors


def test_prospect_stays_a_lead(lever):
    adapter = lever.adapter()
    created = adapter.create_prospect(person("lead@example.org"), job_id=None)
    [record] = lever.emulator.created_for("lead@example.org")
    assert record.prospect and record.stage_id == "lead-new" and record.job_id is None
    assert created.profile_url and created.application_id


def test_same_email_dedupes_onto_one_contact(lever):
    adapter = lever.adapter()
    first = adapter.create_prospect(person("twice@example.org"), job_id=None)
    second = adapter.create_applicant(person("TWICE@example.org"), job_id=JOB, stage_id=None)
    assert first.candidate_id == second.candidate_id
    assert first.application_id != second.application_id
    [found] = adapter.find_candidates(email="twice@example.org")
    assert found.id == first.candidate_id


def test_add_to_job_opens_an_opportunity_for_the_contact(lever):
    adapter = lever.adapter()
    [grace] = adapter.find_candidates(email="grace@example.com")
    created = adapter.add_to_job(grace.id, job_id=JOB, stage_id="applicant-new", prospect=False)
    assert created.candidate_id == grace.id
    assert lever.emulator.requests("POST")[0].json == {
        "contact": grace.id,
        "postings": [JOB],
        "origin": "sourced",
        "stage": "applicant-new",
    }
    assert adapter.get_candidate(grace.id).emails == ("grace@example.com",)


def test_changed_since_and_cursor(lever):
    adapter = lever.adapter()
    pages = list(adapter.iter_candidate_pages("1791500000000"))
    assert {c.id for p in pages for c in p.candidates} == {
        "c0000000-0000-4000-8000-000000000002",
        "c0000000-0000-4000-8000-000000000003",
    }
    assert pages[-1].cursor == "1793000000000"
    everyone = list(adapter.iter_candidate_pages(None))
    assert sum(len(p.candidates) for p in everyone) == 3


def test_stages_are_global(lever):
    adapter = lever.adapter()
    stages = adapter.list_stages(JOB)
    assert stages[0].id == "lead-new" and all(s.job_id is None for s in stages)
    assert lever.emulator.requests("GET", "/v1/stages")[0].query == {"limit": ["2"]}
