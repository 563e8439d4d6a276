"""The scheduled jobs, run in process against the Lever emulator over real HTTP, on both databases."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from scheduling_rig import (
    CREATE_PATH,
    add_candidates,
    add_link,
    connect,
    created_per_email,
    email_of,
    make_all_due,
    running_emulator,
    search_of,
    states,
)
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from ats.budgets import Backend, SharedBudgets
from ats.http import HttpOptions
from ats.spec import VendorLimit
from core.vocabulary import EmailType, Vendor
from devkit.ats.base import Emulator
from exports import scheduling
from exports.engine import build_engine
from exports.scheduling import JobDeps, PassLimits, engine_config
from exports.types import EngineConfig
from storage.base import utcnow
from storage.crypto import SecretBox
from storage.db import unit_of_work
from storage.enums import LinkMode
from storage.models import CandidateEmail, Export, Link
from storage.states import ExportState


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """Yield a started Lever emulator."""
    with running_emulator() as emu:
        yield emu


@pytest.fixture
def make_deps(sessions: sessionmaker[Session], secret_box: SecretBox) -> Iterator:
    """Return a factory of job dependencies (one in-process worker) over the test database."""
    opened: list[tuple[JobDeps, SharedBudgets]] = []

    def make(link_batch: int = 100, *, worker_id: str = "test-worker", **config: object) -> JobDeps:
        budgets = SharedBudgets(
            None, limits={Vendor.LEVER: VendorLimit(100_000, 1.0)}, backend=Backend.MEMORY
        )
        stop = threading.Event()
        limits = PassLimits(link_batch=link_batch, link_seconds=60, lease_seconds=120)
        engine = build_engine(
            sessions,
            secret_box,
            budgets,
            worker_id=worker_id,
            config=engine_config(limits, stop, EngineConfig(backoff_seconds=0.0, **config)),
            http_options=HttpOptions(max_tries=2, backoff_base=0.01, backoff_cap=0.02),
        )
        deps = JobDeps(sessions, engine, worker_id, limits, stop)
        opened.append((deps, budgets))
        return deps

    yield make
    for deps, budgets in opened:
        deps.close()
        budgets.close()


def exported_of(sessions: sessionmaker[Session], link_id: int) -> int:
    return states(sessions, link_id)[ExportState.EXPORTED]


def test_passes_are_bounded_per_link_and_serve_every_link(sessions, secret_box, emulator, make_deps) -> None:
    connection = connect(sessions, secret_box, emulator)
    big = add_link(sessions, connection, "big", 25)
    small = [add_link(sessions, connection, f"small{i}", 4) for i in range(2)]
    deps = make_deps(link_batch=10)

    first = scheduling.export_due_links(deps)
    # Every link got its turn in the first pass; the big one only its bounded batch.
    assert first.links == 3 and first.cut_short == 1
    assert [exported_of(sessions, link) for link in (big, *small)] == [10, 4, 4]

    # The big link, cut short, is due again at once; the finished ones wait for their interval.
    assert scheduling.export_due_links(deps).links == 1
    assert scheduling.export_due_links(deps).links == 1
    assert scheduling.export_due_links(deps).links == 0
    assert [exported_of(sessions, link) for link in (big, *small)] == [25, 4, 4]

    emails = {email_of("big", i) for i in range(25)} | {
        email_of(f"small{s}", i) for s in range(2) for i in range(4)
    }
    created = created_per_email(emulator)
    assert set(created) == emails and set(created.values()) == {1}


def test_a_candidate_added_or_given_an_email_is_exported_in_the_next_pass(
    sessions, secret_box, emulator, make_deps
) -> None:
    connection = connect(sessions, secret_box, emulator)
    link = add_link(sessions, connection, "grow", 2)
    with unit_of_work(sessions) as session:
        (no_email,) = add_candidates(session, search_of(session, link), [None])
    deps = make_deps()

    scheduling.export_due_links(deps)
    assert states(sessions, link) == {ExportState.EXPORTED: 2, ExportState.REACHOUT_ON_LINKEDIN: 1}

    with unit_of_work(sessions) as session:
        add_candidates(session, search_of(session, link), ["newcomer@example.org"])
        session.execute(
            insert(CandidateEmail),
            [
                {
                    "team_id": "T0SCHED",
                    "candidate_id": no_email,
                    "address": "late@example.org",
                    "type": EmailType.WORK,
                    "valid": True,
                    "created_at": utcnow(),
                    "updated_at": utcnow(),
                }
            ],
        )
    make_all_due(sessions)  # the link's interval has passed
    scheduling.export_due_links(deps)

    assert states(sessions, link) == {ExportState.EXPORTED: 4}
    created = created_per_email(emulator)
    assert created["newcomer@example.org"] == 1 and created["late@example.org"] == 1
    assert sum(created.values()) == 4


def test_a_manual_link_is_never_exported_by_the_scheduler(sessions, secret_box, emulator, make_deps) -> None:
    connection = connect(sessions, secret_box, emulator)
    manual = add_link(sessions, connection, "manual", 5, mode=LinkMode.MANUAL)
    auto = add_link(sessions, connection, "auto", 2)
    deps = make_deps()

    summary = scheduling.export_due_links(deps)
    scheduling.retry_transient_failures(deps)
    # Even a pass forced onto the manual link by id exports nothing.
    scheduling.run_link(deps, "T0SCHED", manual, summary=summary)

    assert states(sessions, auto) == {ExportState.EXPORTED: 2}
    assert states(sessions, manual)[ExportState.EXPORTED] == 0
    assert not any(email.startswith("manual.") for email in created_per_email(emulator))


def test_a_transient_failure_is_retried_once_its_back_off_is_over(
    sessions, secret_box, emulator, make_deps
) -> None:
    connection = connect(sessions, secret_box, emulator)
    link = add_link(sessions, connection, "flaky", 3)
    deps = make_deps()
    # Both tries of the first create answer 503: a transient failure for that candidate.
    emulator.faults.apply({"kind": "error", "status": 503, "count": 2, "method": "POST", "path": CREATE_PATH})

    scheduling.export_due_links(deps)
    after_failure = states(sessions, link)
    assert after_failure[ExportState.PENDING] >= 1 and after_failure[ExportState.EXPORTED] < 3

    retried = scheduling.retry_transient_failures(deps)
    assert retried.links == 1
    assert states(sessions, link) == {ExportState.EXPORTED: 3}
    with unit_of_work(sessions) as session:
        attempts = session.scalars(select(Export.attempts).where(Export.link_id == link)).all()
    assert max(attempts) >= 1
    created = created_per_email(emulator)
    assert set(created.values()) == {1} and len(created) == 3


def test_a_stop_request_claims_nothing_more(sessions, secret_box, emulator, make_deps) -> None:
    connection = connect(sessions, secret_box, emulator)
    link = add_link(sessions, connection, "stopped", 3)
    deps = make_deps()
    deps.stop.set()

    summary = scheduling.export_due_links(deps)

    assert summary.links == 0
    assert states(sessions, link)[ExportState.EXPORTED] == 0
    with unit_of_work(sessions) as session:
        assert session.scalar(select(Link.lease_owner).where(Link.id == link)) is None


def test_a_link_leased_by_another_worker_is_skipped(sessions, secret_box, emulator, make_deps) -> None:
    connection = connect(sessions, secret_box, emulator)
    link = add_link(sessions, connection, "leased", 2)
    mine, other = make_deps(worker_id="worker-a"), make_deps(worker_id="worker-b")
    with unit_of_work(sessions) as session:
        from exports.claims import claim_link

        assert claim_link(session, "T0SCHED", link, owner="worker-b", now=utcnow(), ttl=120)

    summary = scheduling.PassSummary()
    scheduling.run_link(mine, "T0SCHED", link, summary=summary)
    assert summary.skipped == 1 and states(sessions, link)[ExportState.EXPORTED] == 0

    scheduling.run_link(other, "T0SCHED", link, summary=summary)
    assert states(sessions, link) == {ExportState.EXPORTED: 2}
    assert threading.active_count() >= 1


def test_claims_a_dead_worker_left_are_taken_over_once_their_lease_expires_not_at_the_next_interval(
    sessions, secret_box, emulator, make_deps
) -> None:
    connection = connect(sessions, secret_box, emulator)
    link = add_link(sessions, connection, "orphans", 4)
    deps = make_deps()
    scheduling.export_due_links(deps)  # a pass that finds nothing new leaves the link due in 5 minutes
    with unit_of_work(sessions) as session:
        add_candidates(session, search_of(session, link), [email_of("orphans", i) for i in (4, 5)])
    # A worker claimed the two newcomers and died before sending them; its lease has run out since.
    make_deps(worker_id="dead-worker").engine.sync_link("T0SCHED", link)
    with unit_of_work(sessions) as session:
        session.execute(
            update(Export)
            .where(Export.link_id == link, Export.state == ExportState.PENDING)
            .values(
                state=ExportState.EXPORTING,
                lease_owner="dead-worker",
                lease_expires_at=utcnow() - timedelta(seconds=1),
                outcome_unknown=True,
            )
        )
        session.get(Link, link).next_pass_at = utcnow() + timedelta(minutes=5)

    assert scheduling.export_due_links(deps).links == 0  # the link itself is not due
    taken_over = scheduling.retry_transient_failures(deps)

    assert taken_over.links == 1
    assert states(sessions, link) == {ExportState.EXPORTED: 6}
    created = created_per_email(emulator)
    assert len(created) == 6 and set(created.values()) == {1}
