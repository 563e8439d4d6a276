"""Crash safety: `scaleup worker` killed with SIGKILL at random moments, restarted each time, loses nothing.

The worker is the real command in its own process, on a fresh PostgreSQL database, exporting to the Lever
emulator served by this test process over loopback HTTP. Every vendor request is slowed a little so most
kills land while the worker holds claimed candidates, some of them between the ATS create and the record
of its outcome (the case `outcome_unknown` exists for). After the last kill a worker runs to the end, then:

- every candidate is in a final state (exported), none pending, claimed or failed;
- the emulator holds exactly one record per candidate (no duplicate, none missing);
- each export's history is an unbroken chain of allowed transitions, from its creation through a claim
  to `exported`, and the interrupted ones show the lease expiry and the look-up that settled them.

CI: 5 kills over 300 candidates. Full (SCALEUP_RELIABILITY_FULL=1): 20 kills over 2,000.
"""

from __future__ import annotations

import random
import signal
import time
from collections import defaultdict
from pathlib import Path

import pytest
from reliability_rig import pick, report
from scheduling_rig import (
    add_link,
    connect,
    created_per_email,
    email_of,
    reaped,
    running_emulator,
    start_worker,
    states,
    worker_env,
)
from sqlalchemy import func, select

from storage import migrate
from storage.crypto import SecretBox
from storage.db import make_engine, make_session_factory, unit_of_work
from storage.models import Export, ExportEvent, Link
from storage.states import TRANSITIONS, ExportState

pytestmark = pytest.mark.slow

KILLS = pick(5, 20)
LINKS, PER_LINK = pick((3, 100), (20, 100))
LEASE_SECONDS = 3  # short, so a killed worker's claims come back quickly


def claimed(sessions) -> int:
    """Return how many candidates are claimed (`exporting`) right now."""
    with unit_of_work(sessions) as session:
        return session.scalar(
            select(func.count()).select_from(Export).where(Export.state == ExportState.EXPORTING)
        )


def wait_until(condition, timeout: float, what: str, every: float = 0.05):
    """Poll `condition` until truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out waiting for {what() if callable(what) else what}")


def test_sigkilled_worker_loses_and_duplicates_nothing(
    postgres_server, secret_key: str, tmp_path: Path
) -> None:
    url = postgres_server.new_database_url("scaleup_crash")
    engine = make_engine(url)
    migrate.upgrade(engine)
    sessions = make_session_factory(engine)
    rng = random.Random(20261125)
    total = LINKS * PER_LINK
    with running_emulator() as emulator:
        connection = connect(sessions, SecretBox(secret_key), emulator)
        for index in range(LINKS):
            add_link(sessions, connection, f"k{index:02d}", PER_LINK)
        env = worker_env(
            url,
            secret_key,
            SCALEUP_WORKER_LEASE_SECONDS=str(LEASE_SECONDS),
            SCALEUP_WORKER_LINK_SECONDS="2",
            SCALEUP_WORKER_LINK_BATCH="40",
        )
        log = tmp_path / "worker.log"
        # Each request takes a few milliseconds, so a kill usually lands inside an ATS call.
        emulator.faults.set_latency(0.004)
        kills = mid_claim = 0
        while kills < KILLS:
            worker = start_worker(env, log)
            with reaped(worker):
                # Wait for the worker to hold claims, then let it run a random while longer before the kill.
                wait_until(
                    lambda: claimed(sessions) > 0 or states(sessions)[ExportState.EXPORTED] == total,
                    90,
                    "the worker to claim candidates",
                    0.01,
                )
                time.sleep(rng.uniform(0.0, 1.5))
                if states(sessions)[ExportState.EXPORTED] == total:
                    break  # finished before the planned kills; the loop below fails loudly
                holding = claimed(sessions)
                worker.send_signal(signal.SIGKILL)
                worker.wait(10)
            kills += 1
            mid_claim += holding > 0

        # The last worker, left alone, takes over the expired leases and finishes everything.
        emulator.faults.set_latency(0)
        worker = start_worker(env, log)
        with reaped(worker):
            wait_until(
                lambda: states(sessions)[ExportState.EXPORTED] == total,
                pick(180, 900),
                lambda: f"every candidate exported: {dict(states(sessions))}",
                0.25,
            )
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(60) == 0

        assert kills >= KILLS, f"only {kills} kills happened before everything was exported"
        assert mid_claim >= KILLS // 2, f"only {mid_claim} of {kills} kills hit a worker holding claims"
        counts = states(sessions)
        assert counts == {ExportState.EXPORTED: total}, f"not every candidate is final: {dict(counts)}"

        created = created_per_email(emulator)
        expected = {email_of(f"k{i:02d}", c) for i in range(LINKS) for c in range(PER_LINK)}
        assert set(created) == expected, "candidates missing from the ATS, or unknown ones created"
        duplicated = {email: n for email, n in created.items() if n != 1}
        assert not duplicated, f"candidates with more than one ATS record: {duplicated}"

    interrupted = check_histories(sessions, total)
    with unit_of_work(sessions) as session:
        leased = session.scalar(select(func.count()).select_from(Link).where(Link.lease_owner.is_not(None)))
    assert leased == 0, "a link lease was left behind"
    engine.dispose()
    report(
        "crash safety",
        kills=kills,
        kills_holding_claims=mid_claim,
        candidates=total,
        interrupted_exports_recovered=interrupted,
        ats_records=sum(created.values()),
        records_lost=0,
        duplicates=0,
    )


def check_histories(sessions, total: int) -> int:
    """Assert every export's history is an unbroken chain of allowed steps; return how many were interrupted."""
    with unit_of_work(sessions) as session:
        events = session.execute(
            select(
                ExportEvent.export_id, ExportEvent.from_state, ExportEvent.to_state, ExportEvent.reason
            ).order_by(ExportEvent.export_id, ExportEvent.id)
        ).all()
    chains: dict[int, list[tuple]] = defaultdict(list)
    for export_id, before, after, reason in events:
        chains[export_id].append((before, after, reason or ""))
    assert len(chains) == total, "an export has no history"
    interrupted = 0
    for export_id, chain in chains.items():
        assert chain[0][0] is None, f"export {export_id}: history does not start at its creation"
        previous = None
        for before, after, _ in chain:
            assert before == previous, f"export {export_id}: gap in the history {chain}"
            assert after in TRANSITIONS[previous], f"export {export_id}: {previous} -> {after} not allowed"
            previous = after
        assert previous == ExportState.EXPORTED, f"export {export_id} ends in {previous}"
        assert chain[-2][1] == ExportState.EXPORTING, (
            f"export {export_id} was exported without a claim: {chain}"
        )
        if any("lease" in reason and "expired" in reason for _, _, reason in chain):
            interrupted += 1
    return interrupted
