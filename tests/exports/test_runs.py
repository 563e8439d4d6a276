"""Every pass and manual export that creates ATS records is a run (issue 21, Undo's first part): the records it
created carry its id, every change it made names it, and the run counts what it created; people the ATS had
already are never a run's. On every exporting vendor and both databases."""

from __future__ import annotations

from sqlalchemy import select

from storage.db import unit_of_work
from storage.models import Export, ExportEvent, ExportRun
from storage.runs import RunRepository
from storage.states import ExportState


def runs_of(world) -> list[ExportRun]:
    with unit_of_work(world.sessions) as session:
        return list(session.scalars(select(ExportRun).order_by(ExportRun.started_at)))


def test_a_pass_is_a_run_of_exactly_the_records_it_created(world) -> None:
    world.put_in_ats("known@example.org")
    fresh = [world.add_candidate([f"fresh{n}@example.org"]) for n in range(3)]
    known = world.add_candidate(["known@example.org"])
    mailless = world.add_candidate([])
    link = world.link(include_ats_candidates=True)
    engine = world.engine()

    engine.run_pass(world.team_id, link)

    (run,) = runs_of(world)
    assert run.link_id == link and run.actor == "scheduler" and run.created == 3
    with unit_of_work(world.sessions) as session:
        created = RunRepository(session, world.team_id).created_by(run.id)
        assert sorted(c.id for _, c in created) == sorted(fresh)
        assert {e.state for e, _ in created} <= {ExportState.EXPORTED, ExportState.PROCESSING}
        others = session.scalars(select(Export).where(Export.candidate_id.in_([known, mailless]))).all()
        assert [e.run_id for e in others] == [None, None], (
            "people the ATS had, and those not sent, are no run's"
        )
        sent = session.scalars(
            select(ExportEvent.run_id).where(ExportEvent.to_state == ExportState.EXPORTING)
        ).all()
        assert set(sent) == {run.id}, "the claims name the run too"


def test_each_pass_and_each_manual_export_is_a_run_of_its_own(world) -> None:
    first = world.add_candidate(["first@example.org"])
    link = world.link()
    engine = world.engine()
    engine.run_pass(world.team_id, link)
    later = world.add_candidate(["later@example.org"])
    engine.export_candidates(world.team_id, link, [later], actor="slack:U0RECRUITER")
    engine.run_pass(world.team_id, link)  # nothing left: no run

    automatic, manual = runs_of(world)
    assert (automatic.actor, automatic.created) == ("scheduler", 1)
    assert (manual.actor, manual.created) == ("slack:U0RECRUITER", 1)
    assert world.export_row(first, link).run_id == automatic.id
    assert world.export_row(later, link).run_id == manual.id
    with unit_of_work(world.sessions) as session:
        assert RunRepository(session, "T0OTHER").get(automatic.id) is None, "runs are scoped by workspace"


def test_a_run_that_finds_everyone_in_the_ats_leaves_no_run(world) -> None:
    world.put_in_ats("there@example.org")
    world.add_candidate(["there@example.org"])
    link = world.link(include_ats_candidates=True)
    world.refresh_mirror()

    world.engine().run_pass(world.team_id, link)

    assert runs_of(world) == []
