"""Records some ATSs show only a while after accepting them: `processing` until read back, `exported` once
seen, `failed` with an alert when they never show."""

from __future__ import annotations

import time

import pytest

from core.vocabulary import Vendor
from storage.db import unit_of_work
from storage.enums import AlertKind
from storage.models import Alert
from storage.states import ExportState

#: Vendors whose creates may be read only later (see each adapter's SPEC: `delayed_visibility`); Merge through
#: the seed's Workday linked account, which takes candidates.
LATE = [Vendor.GREENHOUSE, Vendor.ASHBY, Vendor.MERGE]


@pytest.mark.parametrize("vendor", LATE, ids=lambda v: v.value)
def test_a_create_shown_late_is_processing_until_it_is_read_back(make_world, vendor: Vendor) -> None:
    ahead = [0.0]
    world = make_world(vendor, visibility_delay=90.0, clock=lambda: time.time() + ahead[0])
    candidate = world.add_candidate(["late@example.org"])
    link = world.link()
    engine = world.engine()

    result = engine.run_pass(world.team_id, link)
    assert result.processing == 1
    assert world.export_row(candidate, link).state == ExportState.PROCESSING
    assert engine.confirm_processing(world.team_id) == 0, "not shown yet: still processing"

    ahead[0] = 91.0  # the ATS shows it now
    assert engine.confirm_processing(world.team_id) == 1
    assert world.export_row(candidate, link).state == ExportState.EXPORTED
    assert world.created("late@example.org") == 1


@pytest.mark.parametrize("vendor", LATE, ids=lambda v: v.value)
def test_a_create_never_shown_fails_with_an_alert_saying_so(make_world, vendor: Vendor) -> None:
    world = make_world(vendor, visibility_delay=1e9)
    candidate = world.add_candidate(["never@example.org"])
    link = world.link()
    engine = world.engine()
    engine.run_pass(world.team_id, link)
    assert world.export_row(candidate, link).state == ExportState.PROCESSING

    world.clock.advance(engine.config.processing_timeout_seconds + 1)
    assert engine.confirm_processing(world.team_id) == 0

    row = world.export_row(candidate, link)
    assert (row.state, row.last_error_code) == (ExportState.FAILED, "never_visible")
    with unit_of_work(world.sessions) as session:
        alerts = session.query(Alert).filter_by(team_id=world.team_id, kind=AlertKind.FAILED).all()
        listed = [c for a in alerts for c in a.payload["candidates"]]
    assert [(c["candidate_id"], c["code"]) for c in listed] == [(candidate, "never_visible")]
    assert "never showed" in listed[0]["message"]
