"""Never a second profile: a candidate is found in the ATS by every address and LinkedIn URL they have,
whichever addresses the link sends, and by people added to the ATS while a pass runs."""

from __future__ import annotations

import pytest

from core.vocabulary import EmailType
from exports.batch import create_in_ats
from storage.states import ExportState


@pytest.mark.parametrize("include_ats", [True, False], ids=["added", "held-back"])
def test_a_person_the_ats_knows_by_an_address_the_link_does_not_send_is_not_created_again(
    world, include_ats: bool
) -> None:
    known = world.put_in_ats("home@example.org")
    candidate = world.add_candidate(
        [("desk@example.org", EmailType.WORK, True), ("home@example.org", EmailType.PERSONAL, True)]
    )
    link = world.link(email_types=["work"], include_ats_candidates=include_ats)

    world.engine().run_pass(world.team_id, link)

    row = world.export_row(candidate, link)
    assert row.state == (ExportState.DUPLICATE if include_ats else ExportState.EXCLUDED)
    assert row.ats_candidate_id == known
    assert world.created("desk@example.org") == 0, "no second profile under the address the link sends"


def test_an_invalid_or_other_typed_address_still_finds_the_person(world) -> None:
    world.put_in_ats("old@example.org")
    candidate = world.add_candidate(
        [("new@example.org", EmailType.PRIMARY, True), ("old@example.org", EmailType.OTHER, False)]
    )
    link = world.link(email_types=["primary"])

    world.engine().run_pass(world.team_id, link)

    assert world.export_row(candidate, link).state == ExportState.EXCLUDED
    assert world.created("new@example.org") == 0


def test_addresses_compare_after_the_email_rule_normalises_them(world) -> None:
    world.put_in_ats("Mixed.Case@Example.ORG")
    candidate = world.add_candidate(["mixed.case@example.org"])
    link = world.link()

    world.engine().run_pass(world.team_id, link)

    assert world.export_row(candidate, link).state == ExportState.EXCLUDED
    assert world.ats_records("mixed.case@example.org") == 1


def test_a_person_added_to_the_ats_while_a_pass_runs_is_not_created_again(world) -> None:
    first = world.add_candidate(["first@example.org"])
    second = world.add_candidate(["second@example.org"])
    link = world.link()
    added: list[str] = []

    def create_then_a_recruiter_adds_the_next_one(adapter, target, person):
        created = create_in_ats(adapter, target, person)
        if not added:  # between this batch and the next, someone puts the second person in the ATS by hand
            added.append(world.put_in_ats("second@example.org", last_name="ByHand"))
        return created

    engine = world.engine(create=create_then_a_recruiter_adds_the_next_one, batch_size=1)
    engine.run_pass(world.team_id, link)

    assert world.export_row(first, link).state in (ExportState.EXPORTED, ExportState.PROCESSING)
    row = world.export_row(second, link)
    assert (row.state, row.ats_candidate_id) == (ExportState.EXCLUDED, added[0])
    assert world.created("second@example.org") == 1, "only the record the recruiter made"


def test_the_linkedin_url_alone_finds_the_person(world) -> None:
    known = world.put_in_ats("elsewhere@example.org", linkedin_url="https://www.linkedin.com/in/same-person")
    candidate = world.add_candidate(["fresh@example.org"], linkedin_url="linkedin.com/in/Same-Person/")
    link = world.link()

    world.engine().run_pass(world.team_id, link)

    row = world.export_row(candidate, link)
    assert (row.state, row.ats_candidate_id) == (ExportState.EXCLUDED, known)
    assert world.created("fresh@example.org") == 0
