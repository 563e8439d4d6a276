"""The adapter contract, written once and run against every vendor's loopback emulator over real HTTP."""

from __future__ import annotations

import time

import pytest
from ats_rig import VendorRig, fast_options, memory_budget, person

from ats.errors import AuthFailed, NotFound, RateLimited, ValidationFailed, VendorUnavailable
from ats.registry import spec_of
from ats.spec import VendorLimit


def _skip_unless(rig: VendorRig, capability: str) -> None:
    # Capabilities may depend on the connection (Workable), so ask an adapter, not the class.
    if not getattr(rig.adapter().capabilities, capability):
        pytest.skip(f"{spec_of(rig.profile.vendor).label} does not support {capability}")


def test_iter_jobs_follows_every_page(rig: VendorRig):
    adapter = rig.adapter(options=fast_options(page_size=1))
    jobs = list(adapter.iter_jobs())
    assert {job.id for job in jobs} == rig.profile.open_job_ids
    assert all(job.is_open and job.name for job in jobs)
    if rig.profile.jobs_paginated:  # any method: Ashby lists with POST
        assert len(rig.emulator.requests()) >= len(rig.profile.open_job_ids)


def test_get_job_returns_closed_jobs_and_raises_not_found(rig: VendorRig):
    adapter = rig.adapter()
    closed = adapter.get_job(rig.profile.closed_job_id)
    assert closed.id == rig.profile.closed_job_id and not closed.is_open
    with pytest.raises(NotFound):
        adapter.get_job(rig.profile.missing_job_id)


def test_list_stages_in_pipeline_order(rig: VendorRig):
    adapter = rig.adapter()
    stages = adapter.list_stages(min(rig.profile.open_job_ids))
    assert len(stages) >= 2
    assert [s.order for s in stages] == sorted(s.order for s in stages)
    assert len({s.id for s in stages}) == len(stages)


def test_find_candidates_by_email_ignores_case_and_spaces(rig: VendorRig):
    adapter = rig.adapter()
    found = adapter.find_candidates(email=f"  {rig.profile.existing_email.upper()} ")
    assert len(found) == 1
    assert rig.profile.existing_email in found[0].emails
    assert adapter.find_candidates(email="nobody@nowhere.example") == []


def test_create_prospect(rig: VendorRig):
    _skip_unless(rig, "export_prospects")
    adapter = rig.adapter()
    job_id = min(rig.profile.open_job_ids)
    created = adapter.create_prospect(person("Prospect@Example.org"), job_id=job_id)
    assert created.candidate_id
    assert rig.emulator.created_for("prospect@example.org")
    if created.visible:
        assert [c.id for c in adapter.find_candidates(email="prospect@example.org")] == [created.candidate_id]


def test_create_applicant_at_chosen_stage(rig: VendorRig):
    _skip_unless(rig, "export_applicants")
    adapter = rig.adapter()
    job_id = min(rig.profile.open_job_ids)
    stage = adapter.list_stages(job_id)[1]
    created = adapter.create_applicant(person("applicant@example.org"), job_id=job_id, stage_id=stage.id)
    placed = [c for c in rig.emulator.created_for("applicant@example.org") if c.stage_id]
    assert [(c.job_id, c.stage_id) for c in placed] == [(job_id, stage.id)]
    assert created.candidate_id


def test_wrong_key_is_auth_failed_and_never_echoes_the_secret(rig: VendorRig):
    secret = next(iter(rig.profile.bad_secrets.values()))
    adapter = rig.adapter(secrets=rig.profile.bad_secrets)
    with pytest.raises(AuthFailed) as caught:
        adapter.check()
    error = caught.value
    for text in (str(error), repr(error), error.user_message(), repr(error.args), repr(adapter)):
        assert secret not in text
    for logged in rig.emulator.requests():
        assert secret not in repr(logged)


def test_unknown_job_is_not_found(rig: VendorRig):
    _skip_unless(rig, "export_applicants")
    adapter = rig.adapter()
    with pytest.raises(NotFound):
        adapter.create_applicant(person(), job_id=rig.profile.missing_job_id, stage_id=None)


def test_rejected_data_is_validation_failed_with_field_messages(rig: VendorRig):
    _skip_unless(rig, "export_applicants")
    adapter = rig.adapter()
    with pytest.raises(ValidationFailed) as caught:
        adapter.create_applicant(person("not-an-email"), job_id=min(rig.profile.open_job_ids), stage_id=None)
    assert caught.value.field_errors


def test_rate_limited_then_success(rig: VendorRig):
    # Real but tiny sleeps: the retry has to land in the emulator's next 0.2 s window.
    adapter = rig.adapter(options=fast_options(sleep=time.sleep))
    adapter.check()  # any login/token traffic happens before the window is armed
    rig.emulator.limiter.configure(1, 0.2)
    before = len(rig.emulator.requests())
    adapter.get_job(rig.profile.closed_job_id)
    assert adapter.get_job(rig.profile.closed_job_id).id == rig.profile.closed_job_id
    assert len(rig.emulator.requests()) - before == 3  # ok, 429, ok


def test_rate_limited_beyond_max_retry_after_raises(rig: VendorRig):
    adapter = rig.adapter(options=fast_options(max_retry_after=0.01, sleep=time.sleep))
    adapter.check()
    rig.emulator.limiter.configure(1, 5.0)
    adapter.get_job(rig.profile.closed_job_id)
    with pytest.raises(RateLimited) as caught:
        adapter.get_job(rig.profile.closed_job_id)
    assert caught.value.retry_after and caught.value.retry_after > 0


def test_server_error_then_success(rig: VendorRig):
    adapter = rig.adapter()
    adapter.check()
    rig.emulator.faults.fail_next(2, status=500)
    assert {job.id for job in adapter.iter_jobs()} == rig.profile.open_job_ids


def test_server_error_forever_is_vendor_unavailable_after_bounded_tries(rig: VendorRig):
    adapter = rig.adapter(options=fast_options(max_tries=3))
    adapter.check()
    before = len(rig.emulator.requests())
    rig.emulator.faults.fail_always(status=503)
    with pytest.raises(VendorUnavailable):
        adapter.get_job(rig.profile.closed_job_id)
    assert len(rig.emulator.requests()) - before == 3


def test_timeout_is_retried(rig: VendorRig):
    adapter = rig.adapter(options=fast_options(timeout=0.25))
    adapter.check()
    rig.emulator.faults.hang_next(1, seconds=1.0)
    before = len(rig.emulator.requests())
    assert adapter.get_job(rig.profile.closed_job_id).id == rig.profile.closed_job_id
    assert len(rig.emulator.requests()) - before == 2


def test_burst_through_the_budget_never_hits_a_429(rig: VendorRig):
    adapter = rig.adapter(
        options=fast_options(max_tries=1), budget=memory_budget(rig.profile.vendor, VendorLimit(45, 0.25))
    )
    adapter.check()
    rig.emulator.limiter.configure(50, 0.25)
    for _ in range(200):  # max_tries=1: a single 429 would raise RateLimited
        adapter.get_job(rig.profile.closed_job_id)


def test_created_candidate_reads_back(rig: VendorRig):
    _skip_unless(rig, "export_applicants")
    adapter = rig.adapter()
    created = adapter.create_applicant(
        person("readback@example.org"), job_id=min(rig.profile.open_job_ids), stage_id=None
    )
    found = adapter.get_candidate(created.candidate_id)
    if created.visible:
        assert found is not None and "readback@example.org" in found.emails
    # Not visible means "not confirmed yet": the engine asks for a whole batch at once, and both agree.
    shown = adapter.visible_candidates([created.candidate_id, created.candidate_id])
    assert shown == ({created.candidate_id} if found is not None else set())


def test_existing_candidate_is_added_to_a_job(rig: VendorRig):
    _skip_unless(rig, "add_to_job")
    adapter = rig.adapter()
    [existing] = adapter.find_candidates(email=rig.profile.existing_email)
    created = adapter.add_to_job(
        existing.id, job_id=min(rig.profile.open_job_ids), stage_id=None, prospect=False
    )
    assert created.candidate_id == existing.id
    assert rig.emulator.created_for(rig.profile.existing_email)


def test_changed_since_lists_everyone_from_the_start(rig: VendorRig):
    _skip_unless(rig, "candidate_sync")
    adapter = rig.adapter()
    pages = list(adapter.iter_candidate_pages(None))
    emails = {e for page in pages for c in page.candidates for e in c.emails}
    assert rig.profile.existing_email in emails
    assert pages[-1].cursor
