"""Undo a run (issue 21): exactly what the run created is taken back in the ATS, people the ATS had already
are untouched, a dry run changes nothing, undoing again changes nothing more, undone people are not exported
again by a pass but can be by hand. On every exporting vendor and both databases."""

from __future__ import annotations

from sqlalchemy import select

from core.vocabulary import Vendor
from exports.undo import UndoOutcome, undo_run
from storage.db import unit_of_work
from storage.models import ExportRun
from storage.repositories import ConnectionRepository
from storage.states import ExportState


def act_as_a_member(world) -> None:
    """Give the connection the acting member Workable's writes (disqualify) need."""
    config = world.emulator.connection_config()
    member = next(iter(world.emulator.table("members")))
    with unit_of_work(world.sessions) as session:
        ConnectionRepository(session, world.team_id).save(
            world.box,
            vendor=world.vendor,
            secrets=config.secrets,
            fields={**config.fields, "member_id": member},
            base_url=config.base_url,
        )


def test_undo_takes_back_exactly_what_the_run_created(world) -> None:
    if world.vendor is Vendor.WORKABLE:
        act_as_a_member(world)
    assert world.adapter().capabilities.withdraw
    world.put_in_ats("already@example.org")
    known = world.add_candidate(["already@example.org"])
    fresh = [world.add_candidate([f"fresh{n}@example.org"]) for n in range(2)]
    link = world.link(include_ats_candidates=True)
    engine = world.engine()
    engine.run_pass(world.team_id, link)
    engine.confirm_processing(world.team_id)  # Greenhouse and Ashby show new records a moment later
    with unit_of_work(world.sessions) as session:
        (run_id,) = session.scalars(select(ExportRun.id)).all()
    before = world.export_row(known, link).state

    preview = undo_run(engine, world.team_id, run_id, actor="cli", dry_run=True)
    assert [i.outcome for i in preview.items] == [UndoOutcome.WOULD_UNDO] * 2
    assert all(world.export_row(c, link).state == ExportState.EXPORTED for c in fresh), (
        "a dry run changes nothing"
    )

    done = undo_run(engine, world.team_id, run_id, actor="cli")

    assert done.counts() == {UndoOutcome.UNDONE: 2}, [i.detail for i in done.items]
    assert [world.export_row(c, link).state for c in fresh] == [ExportState.UNDONE] * 2
    assert world.export_row(known, link).state == before, "the person the ATS had already is untouched"
    again = undo_run(engine, world.team_id, run_id, actor="cli")
    assert again.counts() == {UndoOutcome.ALREADY_UNDONE: 2}, "undoing again sends nothing"

    engine.run_pass(world.team_id, link)
    assert [world.export_row(c, link).state for c in fresh] == [ExportState.UNDONE] * 2, (
        "no pass exports them again"
    )
    engine.export_candidates(world.team_id, link, [fresh[0]], actor="slack:U0RECRUITER")
    assert world.export_row(fresh[0], link).state in (
        ExportState.EXPORTED,
        ExportState.PROCESSING,
        ExportState.DUPLICATE,
    )
