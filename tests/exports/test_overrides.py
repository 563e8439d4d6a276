"""A manual export to another job, stage, kind or email types than its link's, over the Greenhouse emulator."""

from __future__ import annotations

import pytest

from core.vocabulary import EmailType, Vendor
from exports.types import ExportOverrides, OverrideRejected
from exports.undo import UndoOutcome, undo_run
from storage.db import unit_of_work
from storage.enums import ExportAs
from storage.models import Link
from storage.states import ExportState

LINK_JOB, LINK_STAGE = "4001", "40011"  # Senior Backend Engineer, Phone Screen
OTHER_JOB, OTHER_STAGE = "4003", "40032"  # Data Scientist, Technical Interview
CLOSED_JOB = "4004"  # Office Manager


@pytest.fixture
def greenhouse(make_world):
    """Return a world on the Greenhouse emulator, whose jobs and stages the tests name by id."""
    return make_world(Vendor.GREENHOUSE)


def placed(world, email: str) -> tuple[str | None, str | None, bool | None]:
    """Return the job, stage and prospect flag of the one record the ATS created for `email`."""
    [record] = world.emulator.created_for(email, "application")
    return record.job_id, record.stage_id, record.prospect


def test_no_overrides_export_to_the_links_job_and_stage(greenhouse) -> None:
    person = greenhouse.add_candidate(["same@example.org"])
    link = greenhouse.link(mode="manual", stage_id=LINK_STAGE)

    [outcome] = greenhouse.engine().export_candidates(greenhouse.team_id, link, [person], actor="U0REC")

    assert outcome.state == ExportState.EXPORTED
    assert placed(greenhouse, "same@example.org")[:2] == (LINK_JOB, LINK_STAGE)


def test_another_job_and_stage_land_there_and_the_record_stays_the_links(greenhouse) -> None:
    person = greenhouse.add_candidate(["moved@example.org"])
    link = greenhouse.link(mode="manual", stage_id=LINK_STAGE)
    overrides = ExportOverrides(job_id=OTHER_JOB, job_name="Data Scientist", stage_id=OTHER_STAGE)

    [outcome] = greenhouse.engine().export_candidates(
        greenhouse.team_id, link, [person], actor="U0REC", overrides=overrides
    )

    assert outcome.state == ExportState.EXPORTED
    assert placed(greenhouse, "moved@example.org")[:2] == (OTHER_JOB, OTHER_STAGE)
    row = greenhouse.export_row(person, link)
    assert row.state == ExportState.EXPORTED
    assert (row.ats_job_id, row.ats_stage_id) == (OTHER_JOB, OTHER_STAGE), "undo and sync read it there"
    with unit_of_work(greenhouse.sessions) as session:  # the link itself is untouched
        stored = session.get(Link, link)
        assert (stored.job_id, stored.stage_id, stored.paused) == (LINK_JOB, LINK_STAGE, False)
    [run_id] = {row.run_id}
    undone = undo_run(greenhouse.engine(), greenhouse.team_id, run_id, actor="cli")
    assert undone.counts() == {UndoOutcome.UNDONE: 1}, "taken back where it went, not where the link points"


def test_another_job_without_a_stage_starts_at_its_first_not_the_links(greenhouse) -> None:
    person = greenhouse.add_candidate(["first@example.org"])
    link = greenhouse.link(mode="manual", stage_id=LINK_STAGE)

    greenhouse.engine().export_candidates(
        greenhouse.team_id, link, [person], actor="U0REC", overrides=ExportOverrides(job_id=OTHER_JOB)
    )

    job_id, stage_id, _ = placed(greenhouse, "first@example.org")
    assert job_id == OTHER_JOB and stage_id != LINK_STAGE


def test_prospect_instead_of_applicant(greenhouse) -> None:
    person = greenhouse.add_candidate(["prospect@example.org"])
    link = greenhouse.link(mode="manual")

    greenhouse.engine().export_candidates(
        greenhouse.team_id,
        link,
        [person],
        actor="U0REC",
        overrides=ExportOverrides(export_as=ExportAs.PROSPECT),
    )

    assert placed(greenhouse, "prospect@example.org")[2] is True


def test_email_types_change_the_address_sent(greenhouse) -> None:
    person = greenhouse.add_candidate(
        [("desk@example.org", EmailType.WORK, True), ("home@example.org", EmailType.PERSONAL, True)]
    )
    link = greenhouse.link(mode="manual", email_types=["work"])

    greenhouse.engine().export_candidates(
        greenhouse.team_id,
        link,
        [person],
        actor="U0REC",
        overrides=ExportOverrides(email_types=("personal",)),
    )

    assert greenhouse.export_row(person, link).email_sent == "home@example.org"
    assert greenhouse.created("desk@example.org") == 0


def test_email_types_release_a_candidate_waiting_for_an_email_of_the_links_types(greenhouse) -> None:
    person = greenhouse.add_candidate([("home2@example.org", EmailType.PERSONAL, True)])
    link = greenhouse.link(mode="manual", email_types=["work"])
    engine = greenhouse.engine()
    [waiting] = engine.export_candidates(greenhouse.team_id, link, [person], actor="U0REC")
    assert waiting.state == ExportState.REACHOUT_ON_LINKEDIN

    [outcome] = engine.export_candidates(
        greenhouse.team_id,
        link,
        [person],
        actor="U0REC",
        overrides=ExportOverrides(email_types=("personal",)),
    )

    assert outcome.state == ExportState.EXPORTED
    assert greenhouse.created("home2@example.org") == 1


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        (ExportOverrides(job_id=CLOSED_JOB, job_name="Office Manager"), "closed"),
        (ExportOverrides(job_id="999999"), "does not exist"),
        (ExportOverrides(job_id=OTHER_JOB, stage_id=LINK_STAGE), "not a stage of"),
    ],
    ids=["closed", "missing", "stage-of-another-job"],
)
def test_a_job_or_stage_the_ats_cannot_take_is_refused_and_the_link_is_left_alone(
    greenhouse, overrides: ExportOverrides, words: str
) -> None:
    person = greenhouse.add_candidate(["refused@example.org"])
    link = greenhouse.link(mode="manual", stage_id=LINK_STAGE)
    engine = greenhouse.engine()

    with pytest.raises(OverrideRejected) as refused:
        engine.export_candidates(greenhouse.team_id, link, [person], actor="U0REC", overrides=overrides)

    assert words in refused.value.user_message()
    assert greenhouse.created("refused@example.org") == 0
    with unit_of_work(greenhouse.sessions) as session:
        assert not session.get(Link, link).paused
    [outcome] = engine.export_candidates(greenhouse.team_id, link, [person], actor="U0REC")
    assert outcome.state == ExportState.EXPORTED  # the link's own job still takes it
