"""Merge's quirks over loopback: two credentials, the remote user some ATSs need, writes the ATS shows late,
capabilities that follow the ATS behind the linked account, cursor paging, 429s and Merge's error shapes.

Every request the adapter sends is checked by the emulator against Merge's published OpenAPI document
(devkit/ats/specs/merge-ats-openapi.yml): one outside it is answered 400, so these tests fail on it, and a
model field Merge would ignore is recorded as a warning, which the fixture requires to stay empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from ats_rig import HandClock, fast_options, person

from ats import registry
from ats.base import ConnectionConfig
from ats.budgets import NullBudget
from ats.errors import (
    AlreadyExists,
    AuthFailed,
    NotSupported,
    PermissionMissing,
    RateLimited,
    ValidationFailed,
)
from ats.merge import REGION_URLS, MergeAdapter, MergeClassifier, base_url
from ats.types import CreatedRecord, EmailAddress, NewCandidate
from bot.settings import Settings
from core.vocabulary import EmailType, Vendor
from devkit.ats.faults import Fault
from devkit.ats.merge import DEMO_API_KEY, MergeEmulator
from devkit.ats.registry import load_seed

OPEN_JOB = "178cd950-dfd0-52f5-9361-36827572e88d"
GREENHOUSE = "merge-demo-greenhouse-token"
BREEZY = "merge-demo-breezy-token"
RELINK = "merge-demo-relink-token"
RILEY = "6bd4e1f0-1a2b-4c3d-8e9f-0a1b2c3d4e5f"


@pytest.fixture
def emulator(clock: HandClock) -> Iterator[MergeEmulator]:
    """Serve the demo seed on the test's clock (it decides when new records show); afterwards no request may
    have drawn a warning (a field Merge would ignore)."""
    with MergeEmulator(seed=load_seed(Vendor.MERGE), clock=clock) as emu:
        yield emu
        assert emu.warnings == [], emu.warnings


@pytest.fixture
def adapters(emulator: MergeEmulator) -> Iterator[Any]:
    made: list[MergeAdapter] = []

    def make(
        *, token: str | None = None, fields: dict[str, str] | None = None, **options: Any
    ) -> MergeAdapter:
        secrets = {"account_token": token} if token else None
        config = emulator.connection_config(secrets=secrets, fields=fields)
        adapter = registry.create_adapter(config, budget=NullBudget(), http_options=fast_options(**options))
        assert isinstance(adapter, MergeAdapter)
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        adapter.close()


def posts(emulator: MergeEmulator) -> list[str]:
    return [r.path for r in emulator.requests("POST")]


# --- credentials ---------------------------------------------------------------------------------------


def test_both_credentials_are_checked_on_entry_and_neither_is_echoed(emulator, adapters) -> None:
    info = adapters().check()
    assert info.account_name == "the Workday account of ScaleUp Demo"
    assert "Riley Recruiter" in (info.acting_user or "")

    with pytest.raises(AuthFailed) as wrong_token:
        adapters(token="wrong-linked-account-token").check()
    assert "linked account token" in wrong_token.value.user_message()

    wrong_key = {Vendor.MERGE.value: {"api_key": "wrong-merge-api-key-value"}}
    with pytest.raises(AuthFailed) as refused:
        adapters(app_credentials=wrong_key).check()
    for text in (str(refused.value), refused.value.user_message(), repr(refused.value.args)):
        assert "wrong-merge-api-key-value" not in text and DEMO_API_KEY not in text


def test_without_the_install_key_nothing_is_sent_and_the_setting_is_named(emulator, adapters) -> None:
    adapter = adapters(app_credentials={})
    with pytest.raises(AuthFailed) as caught:
        adapter.check()
    assert "SCALEUP_MERGE_API_KEY" in caught.value.user_message()
    with pytest.raises(AuthFailed):
        list(adapter.iter_jobs())
    assert emulator.requests() == []
    # The capability falls back to what Merge can do at best; the create then says why it cannot go.
    assert not adapter.capabilities.exclusion_only


def test_the_setting_reaches_adapters_only_through_http_options() -> None:
    settings = Settings(_env_file=None, SCALEUP_MERGE_API_KEY="  key-from-env  ")
    assert settings.ats_app_credentials == {"merge": {"api_key": "key-from-env"}}
    assert "key-from-env" not in repr(settings)
    assert Settings(_env_file=None).ats_app_credentials == {}


def test_a_linked_account_that_needs_relinking_is_refused_with_the_fix(adapters) -> None:
    with pytest.raises(AuthFailed) as caught:
        adapters(token=RELINK).check()
    assert "relinked" in str(caught.value) and "Merge Link" in caught.value.user_message()


def test_region_chooses_merge_server_and_an_unknown_one_is_refused() -> None:
    config = ConnectionConfig(Vendor.MERGE, secrets={"account_token": "t"}, fields={"region": "EU"})
    assert base_url(config) == REGION_URLS["eu"] == "https://api-eu.merge.dev/api"
    with pytest.raises(ValidationFailed, match="us, eu or ap"):
        base_url(ConnectionConfig(Vendor.MERGE, secrets={}, fields={"region": "mars"}))


# --- remote user ---------------------------------------------------------------------------------------


def test_a_remote_user_the_ats_needs_is_asked_for_on_entry_and_before_any_write(emulator, adapters) -> None:
    adapter = adapters(token=GREENHOUSE, fields={"remote_user_id": ""})
    with pytest.raises(PermissionMissing) as caught:
        adapter.check()
    assert "Remote user ID" in str(caught.value) and "/scaleup connect" in caught.value.user_message()
    with pytest.raises(PermissionMissing):
        adapter.create_applicant(person(), job_id=OPEN_JOB, stage_id=None)
    assert posts(emulator) == []

    with_user = adapters(token=GREENHOUSE, fields={"remote_user_id": RILEY})
    assert "Riley Recruiter" in (with_user.check().acting_user or "")
    created = with_user.create_applicant(person("gh@example.org"), job_id=OPEN_JOB, stage_id=None)
    writes = emulator.requests("POST")
    assert [r.json["remote_user_id"] for r in writes] == [RILEY, RILEY]
    assert created.application_id


def test_an_unknown_or_disabled_remote_user_is_refused_on_entry(emulator, adapters) -> None:
    with pytest.raises(PermissionMissing, match="not a user"):
        adapters(fields={"remote_user_id": "00000000-0000-4000-8000-000000000001"}).check()
    disabled = next(u["id"] for u in emulator.records("users") if u.get("disabled"))
    with pytest.raises(PermissionMissing, match="disabled"):
        adapters(fields={"remote_user_id": disabled}).check()


# --- capabilities by linked account --------------------------------------------------------------------


def test_an_account_whose_ats_cannot_take_candidates_is_exclusion_only_and_says_so(
    emulator, adapters
) -> None:
    breezy = adapters(token=BREEZY)
    caps = breezy.capabilities
    assert caps.exclusion_only and caps.candidate_sync and not caps.add_to_job
    info = breezy.check()
    assert "exclusion only" in (info.acting_user or "") and "applications" in (info.acting_user or "")
    with pytest.raises(NotSupported, match="leave out people"):
        breezy.create_applicant(person(), job_id=OPEN_JOB, stage_id=None)
    with pytest.raises(NotSupported):
        breezy.create_prospect(person(), job_id=None)
    assert posts(emulator) == []
    # Exclusion still works: people the ATS has are found.
    assert breezy.find_candidates(email="grace.hopper@example.com")

    workday = adapters().capabilities
    assert workday.export_applicants and workday.add_to_job and workday.prospect_stages


def test_the_available_actions_are_asked_once_per_adapter_for_a_while(emulator, adapters) -> None:
    adapter = adapters()
    for _ in range(5):
        assert adapter.capabilities.export_applicants
    assert len(emulator.requests("GET", "/api/ats/v1/available-actions")) == 1


def test_fields_the_account_does_not_take_are_not_sent(emulator, adapters) -> None:
    adapters().create_prospect(person("lean@example.org", phone="+49 30 1234"), job_id=None)
    (write,) = emulator.requests("POST")
    # Workday lists neither tags, urls, title nor company; emails, names and the phone go.
    assert set(write.json["model"]) == {"first_name", "last_name", "email_addresses", "phone_numbers"}
    assert write.json["model"]["email_addresses"] == [
        {"value": "lean@example.org", "email_address_type": "PERSONAL"}
    ]


def test_a_field_the_ats_requires_is_checked_before_the_write(emulator, adapters) -> None:
    no_email = NewCandidate(first_name="No", last_name="Mail", emails=(), external_id="x")
    with pytest.raises(ValidationFailed) as caught:
        adapters().create_prospect(no_email, job_id=None)
    assert "email_addresses" in caught.value.field_errors
    assert posts(emulator) == []


def test_applications_get_the_jobs_first_stage_when_the_ats_requires_one(emulator, adapters) -> None:
    adapter = adapters()
    first = adapter.list_stages(OPEN_JOB)[0]
    created = adapter.create_applicant(person("stage@example.org"), job_id=OPEN_JOB, stage_id=None)
    (application,) = [r for r in emulator.records("applications") if r["id"] == created.application_id]
    assert application["current_stage"] == first.id and application["source"] == "ScaleUp"


def test_a_closed_job_leaves_no_candidate_behind(emulator, adapters) -> None:
    closed = next(j["id"] for j in emulator.records("jobs") if j["status"] == "CLOSED")
    with pytest.raises(Exception, match="not open"):
        adapters().create_applicant(person(), job_id=closed, stage_id=None)
    assert posts(emulator) == []


# --- writes the ATS shows late -------------------------------------------------------------------------


def test_a_write_the_ats_has_not_numbered_yet_stays_processing_until_read_back(
    emulator, adapters, clock
) -> None:
    emulator.visibility_delay = 30.0
    adapter = adapters()
    created = adapter.create_applicant(person("late@example.org"), job_id=OPEN_JOB, stage_id=None)
    assert created.visible is False and created.application_id
    assert adapter.get_candidate(created.candidate_id) is None
    assert adapter.visible_candidates([created.candidate_id]) == set()
    # Merge holds it meanwhile: the dedupe look-up finds it, so it is never created twice.
    assert [c.id for c in adapter.find_candidates(email="late@example.org")] == [created.candidate_id]

    clock.at += 31
    assert adapter.visible_candidates([created.candidate_id]) == {created.candidate_id}
    assert "late@example.org" in adapter.get_candidate(created.candidate_id).emails


# --- paging and the dedupe mirror ----------------------------------------------------------------------


def test_the_mirror_follows_merges_cursor_and_then_asks_only_for_changes(emulator, adapters, clock) -> None:
    adapter = adapters(page_size=1)
    pages = list(adapter.iter_candidate_pages(None))
    assert len(pages) == len(emulator.records("candidates")) and all(p.cursor is None for p in pages[:-1])
    listings = emulator.requests("GET", "/api/ats/v1/candidates")
    assert [r.query.get("page_size") for r in listings] == [["1"]] * len(listings)
    assert all("cursor" in r.query for r in listings[1:])

    cursor = pages[-1].cursor
    clock.at += 3600  # an hour on: new changes are well after the cursor's margin
    adapter.create_prospect(person("changed@example.org"), job_id=None)
    later = list(adapter.iter_candidate_pages(cursor))
    assert [e for p in later for c in p.candidates for e in c.emails] == ["changed@example.org"]
    assert emulator.requests("GET", "/api/ats/v1/candidates")[-1].query["modified_after"] == [cursor]
    assert later[-1].cursor >= cursor  # never moves back


def test_find_by_email_pages_and_ignores_case_and_spaces(adapters) -> None:
    found = adapters(page_size=1).find_candidates(email="  Grace.Hopper@EXAMPLE.com ")
    assert [c.name for c in found] == ["Grace Hopper"]
    assert found[0].linkedin_url == "https://www.linkedin.com/in/grace-hopper"


def test_the_emulator_refuses_requests_outside_the_published_schema(emulator) -> None:
    headers = {"Authorization": f"Bearer {DEMO_API_KEY}", "X-Account-Token": "merge-demo-workday-token"}
    base = emulator.base_url + "/ats/v1"
    odd_query = httpx.get(base + "/candidates", params={"email": "a@b.c"}, headers=headers)
    assert odd_query.status_code == 400 and "not in the reference" in odd_query.text
    odd_body = httpx.post(base + "/candidates", json={"model": {"first_name": 3}}, headers=headers)
    assert odd_body.status_code == 400
    assert odd_body.json()["errors"][0]["source"] == {"pointer": "/model/first_name"}


# --- rate limits and error shapes ----------------------------------------------------------------------


def test_a_429_waits_for_merges_retry_after(emulator, adapters) -> None:
    waits: list[float] = []
    adapter = adapters(sleep=waits.append, max_retry_after=120.0)
    adapter.check()
    emulator.faults.add(Fault("error", status=429, seconds=7, count=1))  # answered 429 + Retry-After: 7
    assert adapter.get_job(OPEN_JOB).is_open
    assert waits and 7.0 <= waits[0] < 8.1


def test_retry_after_ms_is_read_when_retry_after_is_absent() -> None:
    response = httpx.Response(
        429, headers={"retry-after-ms": "1500"}, json={"detail": "Request was throttled."}
    )
    error = MergeClassifier()(response)
    assert isinstance(error, RateLimited) and error.retry_after == 1.5


@pytest.mark.parametrize(
    ("problem_type", "kind", "hint"),
    [
        ("DUPLICATE_MODEL_EXISTS", AlreadyExists, None),
        ("CREDENTIAL_REFRESH_FAILED", AuthFailed, "Relink"),
        ("DISABLED_MODEL_WRITE", PermissionMissing, "Common Models"),
        ("INVALID_FIELD_CHOICE", ValidationFailed, None),
    ],
)
def test_write_problem_types_become_typed_errors(problem_type, kind, hint) -> None:
    body = {
        "warnings": [],
        "errors": [
            {
                "title": "Problem",
                "detail": "what went wrong",
                "problem_type": problem_type,
                "source": {"pointer": "/model/email_addresses/0/email_address_type"},
            }
        ],
    }
    error = MergeClassifier()(httpx.Response(400, json=body))
    assert type(error) is kind
    if hint:
        assert hint in error.user_message()
    if kind is ValidationFailed:
        assert error.field_errors == {"email_addresses": "what went wrong"}


def test_a_success_status_with_errors_and_no_model_is_a_failure() -> None:
    body = {
        "model": None,
        "warnings": [],
        "errors": [{"title": "t", "detail": "no", "problem_type": "ERROR"}],
    }
    assert isinstance(MergeClassifier()(httpx.Response(201, json=body)), ValidationFailed)
    ok = {
        "model": {"id": "x"},
        "warnings": [{"title": "t", "detail": "d", "problem_type": "W"}],
        "errors": [],
    }
    assert MergeClassifier()(httpx.Response(201, json=ok)) is None


def test_an_existing_application_is_already_exists(emulator, adapters) -> None:
    adapter = adapters()
    [grace] = adapter.find_candidates(email="grace.hopper@example.com")
    adapter.add_to_job(grace.id, job_id=OPEN_JOB, stage_id=None, prospect=False)
    with pytest.raises(AlreadyExists):
        adapter.add_to_job(grace.id, job_id=OPEN_JOB, stage_id=None, prospect=False)


def test_refused_data_names_the_field_from_merges_pointer(adapters) -> None:
    bad = NewCandidate(
        first_name="Bad",
        last_name="Mail",
        emails=(EmailAddress("not-an-email", EmailType.WORK),),
        external_id="x",
    )
    with pytest.raises(ValidationFailed) as caught:
        adapters().create_prospect(bad, job_id=None)
    assert set(caught.value.field_errors) == {"email_addresses"}


def test_taking_an_export_back_is_refused_plainly(adapters) -> None:
    with pytest.raises(NotSupported, match="neither reject"):
        adapters().withdraw(CreatedRecord("c", "a", OPEN_JOB, prospect=False), reason="mistake")
