"""Ashby quirks over loopback: HTTP-200 errors, sync tokens, and every request checked against Ashby's OpenAPI.

Each test talks to a fresh `AshbyEmulator`; on teardown, every request the adapter sent (from the emulator's
request log) is validated against tests/specs/ashby-openapi.yml with openapi-core, and its body keys must
all be declared by the operation (the spec allows unknown keys, which Ashby would silently ignore).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from ats_rig import fast_options
from openapi_core import Config as OpenAPIConfig
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from ats import registry
from ats.ashby import AshbyAdapter, AshbyClassifier
from ats.budgets import NullBudget
from ats.errors import (
    AlreadyExists,
    AtsError,
    AuthFailed,
    NotFound,
    PermissionMissing,
    RateLimited,
    ValidationFailed,
)
from ats.http import HttpOptions
from ats.types import EmailAddress, NewCandidate
from core.vocabulary import EmailType, Vendor
from devkit.ats.ashby import DEMO_API_KEY, AshbyEmulator
from devkit.ats.registry import load_seed

# A copy of Ashby's published spec ships with the tests (tests/specs/README.md); ASHBY_OPENAPI overrides it.
SPEC_PATH = Path(
    os.environ.get("ASHBY_OPENAPI") or Path(__file__).resolve().parents[1] / "specs/ashby-openapi.yml"
)
SPEC_HOST = "https://api.ashbyhq.com"  # the spec's server; the emulator's loopback URL is not in it
# The request log redacts the Authorization value; the emulator already refused anything but
# "Basic base64(key:)", so the spec check sees a Basic header of the same shape.
LOGGED_AUTH = "Basic " + base64.b64encode(b"redacted-key:").decode()


@pytest.fixture(scope="session")
def ashby_spec() -> tuple[OpenAPI, Mapping[str, Any]]:
    """Parse the 650 KB spec once per session (libyaml when available) without re-validating the spec itself."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document = yaml.load(SPEC_PATH.read_text(), Loader=loader)
    return OpenAPI.from_dict(document, config=OpenAPIConfig(spec_validator_cls=None)), document


def _resolve(document: Mapping[str, Any], node: Any) -> Any:
    while isinstance(node, Mapping) and "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def declared_keys(document: Mapping[str, Any], schema: Any) -> set[str]:
    """Return every property name a request-body schema declares, through $ref/allOf/oneOf/anyOf."""
    schema = _resolve(document, schema)
    if not isinstance(schema, Mapping):
        return set()
    keys = set(schema.get("properties", {}))
    for combinator in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(combinator, []):
            keys |= declared_keys(document, part)
    return keys


def spec_errors(spec: tuple[OpenAPI, Mapping[str, Any]], method: str, path: str, body: Any) -> list[str]:
    """Return what is wrong with one request according to the spec (empty when it conforms)."""
    api, document = spec
    request = MockRequest(
        SPEC_HOST,
        method.lower(),
        path,
        headers={"Authorization": LOGGED_AUTH},
        data=json.dumps(body).encode(),
        content_type="application/json",
    )
    problems = [f"{type(e).__name__}: {e.__cause__ or e}" for e in api.unmarshal_request(request).errors]
    operation = document["paths"].get(path, {}).get(method.lower(), {})
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if isinstance(body, Mapping) and schema is not None:
        unknown = set(body) - declared_keys(document, schema)
        problems += [f"undeclared body key {key!r}" for key in sorted(unknown)]
    return problems


def assert_within_spec(spec: tuple[OpenAPI, Mapping[str, Any]], emu: AshbyEmulator) -> None:
    """Fail if any request in `emu`'s log broke the published spec, naming each with what is wrong."""
    bad = {
        f"{r.method} {r.path} {json.dumps(r.json)}": errors
        for r in emu.requests()
        if (errors := spec_errors(spec, r.method, r.path, r.json))
    }
    assert not bad, f"requests outside ashby-openapi.yml: {bad}"


@pytest.fixture
def emulator(ashby_spec: tuple[OpenAPI, Mapping[str, Any]]) -> Iterator[AshbyEmulator]:
    """Serve a seeded Ashby; afterwards, fail if any request the adapter sent broke the published spec."""
    with AshbyEmulator(seed=load_seed(Vendor.ASHBY)) as emu:
        yield emu
        assert_within_spec(ashby_spec, emu)


def make_adapter(emu: AshbyEmulator, **secrets: str) -> AshbyAdapter:
    """Build the adapter through the registry, pointed at the emulator, with instant back-off."""
    options = fast_options(max_tries=2)
    adapter = registry.create_adapter(
        emu.connection_config(secrets=secrets), budget=NullBudget(), http_options=options
    )
    assert isinstance(adapter, AshbyAdapter)
    return adapter


@pytest.fixture
def adapter(emulator: AshbyEmulator) -> Iterator[AshbyAdapter]:
    """Return an adapter on the demo key."""
    built = make_adapter(emulator)
    yield built
    built.close()


def person(email: str = "linus@example.com", **extra: Any) -> NewCandidate:
    """Return a candidate to export."""
    emails = (EmailAddress(email, EmailType.PRIMARY), EmailAddress("linus.work@example.com", EmailType.WORK))
    return NewCandidate(first_name="Linus", last_name="Torvalds", emails=emails, external_id="exp-1", **extra)


def job_ids(emu: AshbyEmulator, status: str = "Open") -> list[str]:
    """Return the seeded jobs' ids with `status`."""
    return [j["id"] for j in emu.records("jobs") if j["status"] == status]


# --- the whole surface, against the spec (the teardown check does the validating) -----------------------


def test_every_operation_the_adapter_uses_sends_spec_conformant_requests(
    emulator: AshbyEmulator, adapter: AshbyAdapter
) -> None:
    open_jobs = list(adapter.iter_jobs())
    first = open_jobs[0].id
    stages = adapter.list_stages(first)
    adapter.check()
    adapter.get_job(first)
    adapter.find_candidates(email="grace.hopper@example.com")
    cursor = list(adapter.iter_candidate_pages(None))[-1].cursor
    applicant = adapter.create_applicant(
        person(tags=("Python", "Rust"), note="Met at KubeCon", source="ScaleUp", phone="+49 30 1234"),
        job_id=first,
        stage_id=stages[2].id,
    )
    prospect = adapter.create_prospect(person("ada2@example.com"), job_id=None)
    adapter.add_to_job(prospect.candidate_id, job_id=open_jobs[1].id, stage_id=None, prospect=True)
    adapter.get_candidate(applicant.candidate_id)
    list(adapter.iter_candidate_pages(cursor))

    used = {r.path for r in emulator.requests()}
    assert used >= {
        "/apiKey.info",
        "/job.list",
        "/job.info",
        "/interviewStage.list",
        "/candidate.search",
        "/candidate.list",
        "/candidate.info",
        "/candidate.create",
        "/application.create",
        "/candidateTag.create",
        "/candidate.addTag",
        "/candidate.createNote",
        "/source.list",
    }


def test_stages_fall_back_to_the_job_interview_plan(emulator: AshbyEmulator, adapter: AshbyAdapter) -> None:
    job = emulator.records("jobs")[0]
    with emulator.lock:
        # Some jobs come without `defaultInterviewPlanId`; jobInterviewPlan.info still names the plan.
        del emulator.table("jobs")[job["id"]]["defaultInterviewPlanId"]

    stages = adapter.list_stages(job["id"])

    assert [s.name for s in stages][:2] == ["Lead", "Application Review"]
    assert "Archived" not in [s.name for s in stages]  # needs an archive reason, so it cannot be chosen
    assert [r.path for r in emulator.requests()][-2:] == ["/jobInterviewPlan.info", "/interviewStage.list"]


def test_the_spec_check_catches_what_it_should(ashby_spec: tuple[OpenAPI, Mapping[str, Any]]) -> None:
    assert spec_errors(ashby_spec, "POST", "/candidate.create", {"name": "A B", "email": "a@b.example"}) == []
    assert spec_errors(ashby_spec, "POST", "/candidate.create", {"email": "a@b.example"})  # name is required
    misspelt = {"name": "A", "linkedinUrl": "x"}
    assert spec_errors(ashby_spec, "POST", "/candidate.create", misspelt)
    not_uuids = {"candidateId": "x", "jobId": "y"}
    assert spec_errors(ashby_spec, "POST", "/application.create", not_uuids)


def test_emulator_answers_conform_to_the_spec(
    emulator: AshbyEmulator, ashby_spec: tuple[OpenAPI, Mapping[str, Any]]
) -> None:
    api, _ = ashby_spec
    auth = "Basic " + base64.b64encode(f"{DEMO_API_KEY}:".encode()).decode()
    job = emulator.records("jobs")[0]
    plan = job["defaultInterviewPlanId"]
    with httpx.Client(base_url=emulator.url, headers={"Authorization": auth}) as client:

        def call(action: str, body: dict[str, Any]) -> dict[str, Any]:
            response = client.post(f"/{action}", json=body)
            request = MockRequest(
                SPEC_HOST,
                "post",
                f"/{action}",
                headers={"Authorization": auth},
                data=json.dumps(body).encode(),
                content_type="application/json",
            )
            result = api.unmarshal_response(
                request,
                MockResponse(
                    response.content, status_code=response.status_code, content_type="application/json"
                ),
            )
            assert not result.errors, (action, [str(e.__cause__ or e) for e in result.errors])
            return response.json()

        call("apiKey.info", {})
        call("job.list", {"status": ["Open"], "limit": 2, "expand": ["location"]})
        call("job.info", {"id": job["id"], "expand": ["location"]})
        call("jobInterviewPlan.info", {"jobId": job["id"]})
        call("interviewStage.list", {"interviewPlanId": plan})
        call("source.list", {})
        call("candidate.search", {"email": "grace.hopper@example.com"})
        call("candidate.list", {"limit": 2})
        created = call("candidate.create", {"name": "Spec Check", "email": "spec@example.com"})["results"]
        call("candidate.info", {"id": created["id"]})
        tag = call("candidateTag.create", {"title": "Spec"})["results"]
        call("candidate.addTag", {"candidateId": created["id"], "tagId": tag["id"]})
        call(
            "candidate.createNote",
            {"candidateId": created["id"], "note": {"type": "text/plain", "value": "hi"}},
        )
        call("application.create", {"candidateId": created["id"], "jobId": job["id"]})
        failure = call("job.info", {"id": "00000000-0000-4000-8000-000000000000"})
    assert failure["success"] is False and failure["errorInfo"]["code"] == "job_not_found"


# --- HTTP-200 errors -----------------------------------------------------------------------------------


def test_success_false_with_http_200_is_an_error_not_a_result(
    emulator: AshbyEmulator, adapter: AshbyAdapter
) -> None:
    with pytest.raises(NotFound, match="job_not_found"):
        adapter.get_job("00000000-0000-4000-8000-000000000000")
    assert adapter.get_candidate("00000000-0000-4000-8000-000000000000") is None


def test_duplicate_application_is_already_exists(emulator: AshbyEmulator, adapter: AshbyAdapter) -> None:
    created = adapter.create_prospect(person(), job_id=None)
    job = job_ids(emulator)[0]
    adapter.add_to_job(created.candidate_id, job_id=job, stage_id=None, prospect=True)

    with pytest.raises(AlreadyExists):
        adapter.add_to_job(created.candidate_id, job_id=job, stage_id=None, prospect=True)


def test_unknown_stage_is_not_found(emulator: AshbyEmulator, adapter: AshbyAdapter) -> None:
    with pytest.raises(NotFound, match="interview_stage_not_found"):
        adapter.create_applicant(
            person(), job_id=job_ids(emulator)[0], stage_id="00000000-0000-4000-8000-000000000001"
        )


def test_invalid_input_is_validation_failed() -> None:
    # Over loopback the adapter only sends spec-valid bodies, so Ashby's own example answer is fed in directly.
    example = {
        "success": False,
        "errors": ["invalid_input"],
        "errorInfo": {
            "code": "invalid_input",
            "message": "Request payload is malformed",
            "requestId": "01JS",
        },
    }
    error = AshbyClassifier()(httpx.Response(200, json=example))
    assert isinstance(error, ValidationFailed)
    assert "Request payload is malformed" in error.message


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({"success": True, "results": []}, type(None)),
        ({"results": []}, type(None)),  # some endpoints omit `success` on success
        ({"success": False, "errors": ["application_not_found"]}, NotFound),  # only the deprecated list
        ({"success": False, "errorInfo": {"code": "missing_permission"}}, PermissionMissing),
        ({"success": False, "errorInfo": {"code": "rate_limit_exceeded"}}, RateLimited),
        ({"success": False, "errorInfo": {"code": "state_invalid", "message": "Not allowed"}}, AtsError),
    ],
)
def test_error_codes_map_to_typed_errors(body: dict[str, Any], kind: type) -> None:
    assert type(AshbyClassifier()(httpx.Response(200, json=body))) is kind


# --- permissions, credentials, rate limits ---------------------------------------------------------------


def test_wrong_key_is_auth_failed_and_never_echoed(emulator: AshbyEmulator) -> None:
    adapter = make_adapter(emulator, api_key="wrong-key-123456")
    with pytest.raises(AuthFailed) as caught:
        adapter.check()
    assert "wrong-key-123456" not in str(caught.value)
    assert "wrong-key-123456" not in repr(adapter)


def test_missing_permission_is_permission_missing(emulator: AshbyEmulator) -> None:
    adapter = make_adapter(emulator, api_key="ashby-readonly-key")
    adapter.check()  # no apiKeysRead: falls back to a job listing instead of failing the connection
    with pytest.raises(PermissionMissing, match="candidatesWrite"):
        adapter.create_prospect(person(), job_id=None)


def test_a_tag_failure_fails_neither_the_candidate_nor_the_note(emulator: AshbyEmulator) -> None:
    permissions = ["candidatesRead", "candidatesWrite", "jobsRead"]  # no hiringProcessMetadata*
    emulator.seed({"api_keys": [{"id": "no-tags-key", "permissions": permissions}]})
    adapter = make_adapter(emulator, api_key="no-tags-key")

    created = adapter.create_prospect(person(tags=("Python",), source="ScaleUp", note="Hi"), job_id=None)

    assert adapter.get_candidate(created.candidate_id) is not None
    assert [n["content"] for n in emulator.records("notes")] == ["Hi"]
    # source.list was refused too, so no source is sent rather than a guessed one.
    assert "sourceId" not in emulator.requests(path="/candidate.create")[0].json


def test_rate_limit_is_retried_after_the_wait(emulator: AshbyEmulator) -> None:
    waits: list[float] = []
    options = HttpOptions(max_tries=3, sleep=waits.append, rand=lambda: 0.0)
    adapter = registry.create_adapter(emulator.connection_config(), budget=NullBudget(), http_options=options)
    emulator.limiter.configure(1, 60.0)
    adapter.check()
    with pytest.raises(RateLimited) as caught:
        adapter.check()
    assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 60
    assert len(waits) == 2


# --- dedupe and sync -----------------------------------------------------------------------------------


def test_find_candidates_matches_any_address_case_insensitively(
    emulator: AshbyEmulator, adapter: AshbyAdapter
) -> None:
    found = adapter.find_candidates(email="  ADA@Analytical.dev ")
    assert [c.name for c in found] == ["Ada Lovelace"]
    assert found[0].emails == ("ada.lovelace@example.com", "ada@analytical.dev")
    assert found[0].linkedin_url == "https://www.linkedin.com/in/ada-lovelace"
    assert adapter.find_candidates(linkedin_url="https://www.linkedin.com/in/ada-lovelace") == []


def test_sync_token_returns_only_changes(emulator: AshbyEmulator, adapter: AshbyAdapter) -> None:
    pages = list(adapter.iter_candidate_pages(None))
    assert [len(p.candidates) for p in pages] == [2, 1]  # page size 2
    assert pages[0].cursor is None and pages[-1].cursor
    created = adapter.create_prospect(person(), job_id=None)

    changed = list(adapter.iter_candidate_pages(pages[-1].cursor))

    assert [c.id for p in changed for c in p.candidates] == [created.candidate_id]
    assert list(adapter.iter_candidate_pages(changed[-1].cursor))[-1].candidates == ()


def test_expired_sync_token_starts_a_full_sync(emulator: AshbyEmulator, adapter: AshbyAdapter) -> None:
    token = list(adapter.iter_candidate_pages(None))[-1].cursor
    emulator.sync_token_ttl = -1.0

    pages = list(adapter.iter_candidate_pages(token))

    assert sum(len(p.candidates) for p in pages) == 3
    sent_token = [r.json.get("syncToken") is not None for r in emulator.requests(path="/candidate.list")]
    assert sent_token[-3:] == [True, False, False]


# --- create flows --------------------------------------------------------------------------------------


def test_applicant_without_a_stage_lands_in_the_first_screening_stage(
    emulator: AshbyEmulator, adapter: AshbyAdapter
) -> None:
    job = job_ids(emulator)[0]
    created = adapter.create_applicant(person(), job_id=job, stage_id=None)

    application = emulator.records("applications")[-1]
    assert created.application_id == application["id"]
    assert application["currentInterviewStage"]["type"] == "PreInterviewScreen"
    assert application["status"] == "Active"


def test_prospect_on_a_job_is_a_lead_with_source_tags_and_note(
    emulator: AshbyEmulator, adapter: AshbyAdapter
) -> None:
    created = adapter.create_prospect(
        person(tags=("Python", "python"), note="Great fit", source="scaleup"), job_id=job_ids(emulator)[0]
    )

    candidate = next(c for c in emulator.records("candidates") if c["id"] == created.candidate_id)
    application = emulator.records("applications")[-1]
    assert application["status"] == "Lead"
    assert candidate["source"]["title"] == "ScaleUp"
    assert [e["value"] for e in candidate["emailAddresses"]] == [
        "linus@example.com",
        "linus.work@example.com",
    ]
    assert len(candidate["tags"]) == 1  # "Python" already exists; titles differing only in case are one tag
    assert [n["content"] for n in emulator.records("notes")] == ["Great fit"]
    assert created.profile_url and created.candidate_id in created.profile_url


def test_default_placement_reuses_stages_for_a_while(emulator: AshbyEmulator) -> None:
    clock = [1_000.0]
    options = fast_options(now=lambda: clock[0])
    adapter = registry.create_adapter(emulator.connection_config(), budget=NullBudget(), http_options=options)
    job = job_ids(emulator)[0]

    adapter.create_applicant(person("one@example.com"), job_id=job, stage_id=None)
    adapter.create_applicant(person("two@example.com"), job_id=job, stage_id=None)
    clock[0] += 301  # the adapter outlives a pass; stages added in Ashby meanwhile must show up
    adapter.create_applicant(person("three@example.com"), job_id=job, stage_id=None)

    assert len(emulator.requests(path="/interviewStage.list")) == 2
