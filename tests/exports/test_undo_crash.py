"""Undo survives a killed worker (issue 21): a process killed while the ATS takes a record back leaves the
record claimed with its outcome unknown; a second undo waits for the claim to lapse, then finds the record
taken back and finishes it — no second action in the ATS, no "a person changed it" report, nothing half-done.
On every exporting vendor and both databases, with a real process killed by SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

from sqlalchemy import select

from ats.types import AtsStatus, CreatedRecord
from core.vocabulary import Vendor
from devkit.ats.faults import Fault
from exports.undo import UndoOutcome, undo_run
from storage.db import unit_of_work
from storage.models import Export, ExportRun
from storage.states import ExportState
from tests.exports.test_undo import act_as_a_member

#: The request that takes a record back, per vendor (held by the emulator while the worker is killed).
WITHDRAW_CALL = {
    Vendor.GREENHOUSE: ("POST", "/v3/applications/"),  # …/{id}/reject
    Vendor.LEVER: ("PUT", "/v1/opportunities/"),  # …/{id}/archived
    Vendor.ASHBY: ("POST", "/application.changeStage"),
    Vendor.WORKABLE: ("POST", "/spi/v3/candidates/"),  # …/{id}/disqualify
}

#: The doomed worker: the same undo the CLI runs, on the test's database, as a process of its own.
WORKER = textwrap.dedent(
    """
    import sys
    from ats.budgets import NullBudget
    from exports.adapters import AdapterFactory
    from exports.engine import ExportEngine
    from exports.undo import undo_run
    from storage.crypto import SecretBox
    from storage.db import make_engine, make_session_factory

    url, key, team, run = sys.argv[1:5]
    sessions = make_session_factory(make_engine(url))
    adapters = AdapterFactory(SecretBox(key), budget_for=lambda _c: NullBudget())
    undo_run(ExportEngine(sessions, adapters, worker_id="doomed"), team, run, actor="cli")
    """
)


def _wait_for(condition, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_a_worker_killed_during_an_undo_leaves_nothing_half_done(world, secret_key) -> None:
    if world.vendor is Vendor.WORKABLE:
        act_as_a_member(world)
    person = world.add_candidate(["killed-mid-undo@example.org"])
    link = world.link()
    engine = world.engine()
    engine.run_pass(world.team_id, link)
    engine.confirm_processing(world.team_id)
    with unit_of_work(world.sessions) as session:
        (run_id,) = session.scalars(select(ExportRun.id)).all()
    method, path = WITHDRAW_CALL[world.vendor]
    hold = 2.0
    world.emulator.faults.add(Fault("hang", seconds=hold, count=1, method=method, path=path))

    def withdraw_calls() -> int:  # only the write: Ashby reads with POST too
        return len([r for r in world.emulator.requests(method) if r.path.startswith(path)])

    writes_before = withdraw_calls()
    url = world.sessions.kw["bind"].url.render_as_string(hide_password=False)

    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, url, secret_key, world.team_id, run_id],
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    try:
        # The vendor has the request (it acts once its hold ends); the worker dies before hearing back.
        _wait_for(lambda: withdraw_calls() > writes_before, "the withdraw request")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    # The emulator finishes the call the dead worker made (the vendor acts though nobody hears the answer).
    row = world.export_row(person, link)
    record = CreatedRecord(row.ats_candidate_id, row.ats_application_id, row.ats_job_id, prospect=False)
    adapter = world.adapter()
    _wait_for(
        lambda: adapter.record_status(record).status in (AtsStatus.REJECTED, AtsStatus.ARCHIVED),
        "the vendor to take the record back",
    )

    row = world.export_row(person, link)
    assert (row.state, row.outcome_unknown, row.lease_owner) == (ExportState.EXPORTED, True, "doomed")

    busy = undo_run(engine, world.team_id, run_id, actor="cli")
    assert busy.counts() == {UndoOutcome.IN_PROGRESS: 1}, "the dead worker's claim holds until it lapses"

    world.clock.advance(engine.config.lease_seconds + 120)  # past the lease the worker took on the wall clock
    writes = withdraw_calls()
    done = undo_run(world.engine("worker-2"), world.team_id, run_id, actor="cli")

    assert done.counts() == {UndoOutcome.UNDONE: 1}, [i.detail for i in done.items]
    assert "interrupted" in done.items[0].detail
    row = world.export_row(person, link)
    assert (row.state, row.outcome_unknown, row.lease_owner) == (ExportState.UNDONE, False, None)
    assert withdraw_calls() - writes <= 1, "at most the one refused attempt"
    with unit_of_work(world.sessions) as session:
        stuck = session.scalars(select(Export).where(Export.lease_owner.is_not(None))).all()
    assert stuck == []
