"""Prospects at their stage, wherever the ATS has stages for prospects; never at a stage that is not one."""

from __future__ import annotations

import pytest
from conftest import EXPORTING, SENT

from ats.registry import spec_of
from core.vocabulary import Vendor
from storage.enums import ExportAs

WITH_PROSPECT_STAGES = [v for v in EXPORTING if spec_of(v).capabilities.prospect_stages]


def test_which_vendors_have_stages_for_prospects() -> None:
    assert WITH_PROSPECT_STAGES == [Vendor.ASHBY, Vendor.LEVER, Vendor.WORKABLE]
    assert not spec_of(Vendor.GREENHOUSE).capabilities.prospect_stages


@pytest.mark.parametrize("vendor", WITH_PROSPECT_STAGES, ids=lambda v: v.value)
def test_a_prospect_is_placed_at_the_links_stage(make_world, vendor: Vendor) -> None:
    world = make_world(vendor)
    job = EXPORTING[vendor].job_id
    stages = [s for s in world.adapter().list_stages(job) if s.for_prospects]
    assert stages, "the seed's job has a stage for prospects"
    target = stages[-1]
    candidate = world.add_candidate(["lead@example.org"])
    link = world.link(export_as=ExportAs.PROSPECT, stage_id=target.id, stage_name=target.name)

    world.engine().run_pass(world.team_id, link)

    assert world.export_row(candidate, link).state in SENT
    placed = [r.stage_id for r in world.emulator.created if "lead@example.org" in r.emails and r.stage_id]
    assert placed == [target.id]


def test_ashby_offers_its_lead_stages_to_prospects_and_the_others_to_applicants(make_world) -> None:
    world = make_world(Vendor.ASHBY)
    stages = world.adapter().list_stages(EXPORTING[Vendor.ASHBY].job_id)
    for stage in stages:
        lead = stage.raw.get("type") == "Lead"
        assert (stage.for_prospects, stage.for_applicants) == (lead, not lead), stage.name


def test_greenhouse_prospects_go_to_the_job_at_no_stage(make_world) -> None:
    world = make_world(Vendor.GREENHOUSE)
    job = EXPORTING[Vendor.GREENHOUSE].job_id
    stages = world.adapter().list_stages(job)
    assert not any(s.for_prospects for s in stages), "interview stages never hold prospects"
    candidate = world.add_candidate(["pool@example.org"])
    link = world.link(export_as=ExportAs.PROSPECT, stage_id=stages[0].id)  # a stage from the applicant days

    world.engine().run_pass(world.team_id, link)

    assert world.export_row(candidate, link).state in SENT
    (created,) = [
        r for r in world.emulator.created if r.kind == "application" and "pool@example.org" in r.emails
    ]
    assert created.prospect and created.stage_id is None


def test_a_prospect_link_at_a_stage_that_takes_no_prospects_is_paused_and_says_why(make_world) -> None:
    world = make_world(Vendor.ASHBY)
    stages = world.adapter().list_stages(EXPORTING[Vendor.ASHBY].job_id)
    screen = next(s for s in stages if not s.for_prospects)  # an interview stage: applicants only
    world.add_candidate(["early@example.org"])
    link = world.link(export_as=ExportAs.PROSPECT, stage_id=screen.id, stage_name=screen.name)

    result = world.engine().run_pass(world.team_id, link)

    assert result.paused
    assert result.message.startswith(f"The stage “{screen.name}” of ")
    assert "does not take prospects in Ashby" in result.message
    assert world.created("early@example.org") == 0
