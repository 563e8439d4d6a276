"""A pass exports new candidates once, waits for an email where there is none, and counts add up."""

from __future__ import annotations

from conftest import SENT, sent

from storage.states import ExportState


def test_pass_exports_each_candidate_once_and_counts_add_up(world) -> None:
    alice = world.add_candidate(["alice@example.org"])
    world.add_candidate([])
    link = world.link()
    engine = world.engine()

    first = engine.run_pass(world.team_id, link)
    second = engine.run_pass(world.team_id, link)

    assert (first.claimed, sent(first)) == (1, 1)
    assert (second.claimed, sent(second)) == (0, 0)
    assert world.ats_records("alice@example.org") == 1
    counts = engine.status(world.team_id, link)
    assert counts[ExportState.EXPORTED] + counts[ExportState.PROCESSING] == 1
    assert counts[ExportState.REACHOUT_ON_LINKEDIN] == 1
    assert sum(counts.values()) == 2
    [outcome] = engine.export_candidates(world.team_id, link, [alice], actor="U0RECRUITER")
    assert outcome.state in SENT and outcome.ats_candidate_id
    assert world.ats_records("alice@example.org") == 1
