"""The preview says what the next pass does, and the pass does exactly that (issue 21, Preview): both decide
through `eligibility.decide_many`, on every exporting vendor and BambooHR, on both databases. A preview
writes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from core.vocabulary import Vendor
from exports.preview import Outcome, Preview
from storage.db import unit_of_work
from storage.enums import Audience, ResponseType
from storage.models import Alert, AtsMirrorEntry, Export, ExportEvent, Link

INTERESTED = [ResponseType.INTERESTED]


def rows_written(world) -> dict[str, int]:
    with unit_of_work(world.sessions) as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (Export, ExportEvent, Alert, AtsMirrorEntry, Link)
        }


def assert_pass_did_what_preview_said(world, link: int, preview: Preview) -> None:
    for row in preview.rows:
        got = world.export_row(row.candidate_id, link)
        state = got.state if got is not None else None
        allowed = {row.state} if row.outcome is Outcome.UNCHANGED else row.outcome.states
        assert state in allowed, (row.name, row.outcome, state)


def test_a_pass_does_exactly_what_the_preview_said(world) -> None:
    link = world.link(audience=Audience.RESPONDERS, response_types=["interested"])
    fresh = world.add_candidate(["fresh@example.org"], responses=INTERESTED)
    mailless = world.add_candidate(
        [], responses=INTERESTED, linkedin_url="https://www.linkedin.com/in/mailless"
    )
    world.put_in_ats("known@example.org")
    known = world.add_candidate(["known@example.org"], responses=INTERESTED)
    silent = world.add_candidate(["silent@example.org"])  # never answered the campaign
    world.refresh_mirror()
    engine = world.engine()
    before = rows_written(world)

    preview = engine.preview(world.team_id, link)

    assert rows_written(world) == before, "a preview writes nothing"
    outcomes = {row.candidate_id: row.outcome for row in preview.rows}
    assert outcomes == {
        fresh: Outcome.EXPORT,
        mailless: Outcome.WAITS_FOR_EMAIL,
        known: Outcome.HELD_BACK,
        silent: Outcome.NOT_MATCHING,
    }
    assert sum(preview.counts().values()) == 4 and preview.to_json()["search_size"] == 4
    assert next(r for r in preview.rows if r.candidate_id == known).matched_by == "email"

    engine.run_pass(world.team_id, link)
    assert_pass_did_what_preview_said(world, link, preview)

    # The next preview sees what the pass left: the handled ones stay as they are.
    again = {row.candidate_id: row.outcome for row in engine.preview(world.team_id, link).rows}
    assert again[fresh] is Outcome.UNCHANGED and again[mailless] is Outcome.WAITS_FOR_EMAIL


def test_people_already_in_the_ats_are_added_or_linked_as_the_preview_said(world) -> None:
    world.put_in_ats("again@example.org")
    known = world.add_candidate(["again@example.org"])
    link = world.link(include_ats_candidates=True)
    world.refresh_mirror()
    engine = world.engine()

    preview = engine.preview(world.team_id, link)

    (row,) = preview.rows
    caps = world.adapter().capabilities
    assert row.outcome is (Outcome.ADD_EXISTING if caps.add_to_job else Outcome.LINK_EXISTING)
    engine.run_pass(world.team_id, link)
    assert_pass_did_what_preview_said(world, link, preview)
    assert world.export_row(known, link) is not None


def test_an_exclusion_only_ats_leaves_out_whom_it_knows(make_world) -> None:
    world = make_world(Vendor.BAMBOOHR)
    known = world.add_candidate(["ada.lovelace@example.com"])  # an employee in the emulator's seed
    stranger = world.add_candidate(["stranger@example.org"])
    link = world.link(job_id=None, include_ats_candidates=True)
    world.refresh_mirror()
    engine = world.engine()

    preview = engine.preview(world.team_id, link)

    assert {r.candidate_id: r.outcome for r in preview.rows} == {
        known: Outcome.LEFT_OUT,
        stranger: Outcome.NOT_IN_ATS,
    }
    engine.run_pass(world.team_id, link)
    assert_pass_did_what_preview_said(world, link, preview)
