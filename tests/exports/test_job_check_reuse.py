"""The app's engine reuses a recent job check for small exports; a closed job still pauses the link at once."""

from __future__ import annotations

from core.vocabulary import Vendor
from storage.states import ExportState


def _job_reads(world) -> int:
    return len(world.emulator.requests("GET", "/v3/jobs"))


def test_a_recent_job_check_is_reused_and_only_a_fine_job_is_remembered(make_world) -> None:
    world = make_world(Vendor.GREENHOUSE)
    first, second, _waits = (world.add_candidate([f"c{n}@example.org"]) for n in range(3))
    link = world.link()
    engine = world.engine(job_check_max_age_seconds=60.0)

    [one] = engine.export_candidates(world.team_id, link, [first], actor="U0RECRUITER")
    reads = _job_reads(world)
    [two] = engine.export_candidates(world.team_id, link, [second], actor="U0RECRUITER")
    assert (one.state, two.state) == (ExportState.EXPORTED, ExportState.EXPORTED)
    assert _job_reads(world) == reads, "the job found open a moment ago is not asked again"

    world.case.close_job(world.emulator)
    unremembering = world.engine(job_check_max_age_seconds=0.0)
    result = unremembering.run_pass(world.team_id, link)
    assert result.paused, "an engine that checks every time sees the closed job"
    assert world.ats_records("c2@example.org") == 0
    assert engine.status(world.team_id, link)[ExportState.EXPORTED] == 2
