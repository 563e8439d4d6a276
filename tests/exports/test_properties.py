"""Random histories of ingest, email changes, passes, crashes and ATS faults keep the engine's invariants.

- at most one ATS record per candidate (and link), whatever fails when;
- every candidate of the link has exactly one record once a pass ran, and the counts add up;
- once the faults stop, every record settles: exported candidates have exactly one ATS record, the others none.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from test_engine import Crash, crash_after_create, crash_before_create

from core.vocabulary import EmailType, Vendor
from storage.db import unit_of_work
from storage.models import CandidateEmail
from storage.states import ExportState


@dataclass(frozen=True)
class Add:
    email_type: EmailType | None  # None: no email at all
    valid: bool


@dataclass(frozen=True)
class GiveEmail:
    index: int
    tell_engine: bool


@dataclass(frozen=True)
class Bounce:
    index: int


@dataclass(frozen=True)
class Pass:
    pass


@dataclass(frozen=True)
class Manual:
    index: int


@dataclass(frozen=True)
class Fault:
    status: int
    count: int


@dataclass(frozen=True)
class CrashPass:
    after_create: bool


@dataclass(frozen=True)
class Advance:
    seconds: int


steps = st.one_of(
    st.builds(Add, st.one_of(st.none(), st.sampled_from(list(EmailType))), st.booleans()),
    st.builds(GiveEmail, st.integers(0, 20), st.booleans()),
    st.builds(Bounce, st.integers(0, 20)),
    st.just(Pass()),
    st.just(Pass()),
    st.builds(Manual, st.integers(0, 20)),
    st.builds(Fault, st.sampled_from([500, 503, 422, 429]), st.integers(1, 3)),
    st.builds(CrashPass, st.booleans()),
    st.builds(Advance, st.sampled_from([30, 130, 400])),
)


@pytest.fixture
def greenhouse(make_world):
    """Return one Greenhouse world shared by every example of a test (each example links a new search)."""
    return make_world(Vendor.GREENHOUSE, page_size=100)


@settings(
    max_examples=25,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=st.lists(steps, min_size=3, max_size=14))
def test_random_histories_keep_the_invariants(greenhouse, history) -> None:
    run_history(greenhouse, history)


def run_history(world, history) -> None:
    """Play `history` on a fresh search and link of `world`, checking the invariants after each step."""
    world.emulator.faults.clear()
    tag = uuid.uuid4().hex[:8]
    world.new_search(f"search-{tag}")
    link = world.link(email_types=["primary", "work"])
    engine = world.engine(batch_size=4)
    people: list[int] = []
    addresses: dict[int, list[str]] = {}

    def email_for(candidate_id: int) -> str:
        address = f"p{candidate_id}-{len(addresses.get(candidate_id, []))}-{tag}@example.org"
        addresses.setdefault(candidate_id, []).append(address)
        return address

    def check(after_pass: bool) -> None:
        for candidate_id, emails in addresses.items():
            assert world.created(*emails) <= 1, f"two ATS records for {candidate_id}"
        counts = engine.status(world.team_id, link)
        rows = [world.export_row(c, link) for c in people]
        assert sum(counts.values()) == sum(r is not None for r in rows)
        if after_pass:
            assert all(r is not None for r in rows), "a candidate of the link has no record after a pass"

    for step in history:
        match step:
            case Add(email_type=None):
                people.append(world.add_candidate([]))
            case Add(email_type=kind, valid=valid):
                candidate_id = world.add_candidate([])
                people.append(candidate_id)
                with unit_of_work(world.sessions) as session:
                    session.add(
                        CandidateEmail(
                            team_id=world.team_id,
                            candidate_id=candidate_id,
                            address=email_for(candidate_id),
                            type=kind,
                            valid=valid,
                        )
                    )
            case GiveEmail(index=index, tell_engine=tell) if people:
                candidate_id = people[index % len(people)]
                world.add_email(candidate_id, email_for(candidate_id), EmailType.WORK)
                if tell:
                    engine.candidate_updated(world.team_id, [candidate_id])
            case Bounce(index=index) if people:
                candidate_id = people[index % len(people)]
                with unit_of_work(world.sessions) as session:
                    for email in session.query(CandidateEmail).filter_by(candidate_id=candidate_id):
                        email.valid = False
                engine.candidate_updated(world.team_id, [candidate_id])
            case Pass():
                engine.run_pass(world.team_id, link)
                check(after_pass=True)
                continue
            case Manual(index=index) if people:
                engine.export_candidates(
                    world.team_id, link, [people[index % len(people)]], actor="U0RECRUITER"
                )
            case Fault(status=status, count=count):
                world.fail_creates(count, status=status)
            case CrashPass(after_create=after):
                doomed = world.engine(
                    f"doomed-{uuid.uuid4().hex[:6]}",
                    create=crash_after_create if after else crash_before_create,
                )
                try:
                    doomed.run_pass(world.team_id, link)
                except Crash:
                    pass
            case Advance(seconds=seconds):
                world.clock.advance(seconds)
        check(after_pass=False)

    # The faults stop: everything settles, and the ATS holds exactly the exported candidates.
    world.emulator.faults.clear()
    for _ in range(4):
        world.clock.advance(4000)
        engine.run_pass(world.team_id, link)
    check(after_pass=True)
    for candidate_id in people:
        row = world.export_row(candidate_id, link)
        created = world.created(*addresses.get(candidate_id, []))
        assert row.state not in (ExportState.EXPORTING, ExportState.PENDING), (
            candidate_id,
            row.state,
            row.last_error_message,
        )
        assert created == (1 if row.state in (ExportState.EXPORTED, ExportState.PROCESSING) else 0), (
            candidate_id,
            row.state,
        )
