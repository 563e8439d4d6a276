"""ATS outages and 429 storms: delay and one alert, never lost or duplicated candidates.

The export engine runs in this process against the Lever emulator over loopback HTTP. Both run on one
fake clock: the adapter's back-off "sleeps" advance it (HttpOptions.sleep is the designed injection
point), so fault windows and `Retry-After` waits cost no real time and no test reads the wall clock.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from reliability_rig import pick, report
from scheduling_rig import CREATE_PATH, add_link, connect, created_per_email, email_of, running_emulator
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from ats.budgets import NullBudget
from ats.http import HttpOptions
from devkit.ats.base import Emulator
from exports.adapters import AdapterFactory
from exports.engine import ExportEngine
from exports.types import EngineConfig
from storage.crypto import SecretBox
from storage.db import unit_of_work
from storage.enums import AlertKind
from storage.models import Alert, Export, ExportEvent, Link
from storage.states import ExportState

CHANNEL = "C0ALERTS"


class FakeClock:
    """Seconds since the epoch that move only when told (or when the adapter 'sleeps')."""

    def __init__(self) -> None:
        self.t = time.time()
        self.slept = 0.0

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.t += seconds

    def advance(self, seconds: float) -> None:
        self.t += seconds

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)


@dataclass
class Rig:
    sessions: sessionmaker[Session]
    emulator: Emulator
    clock: FakeClock
    engine: ExportEngine
    link_id: int
    team_id: str

    def pass_(self) -> None:
        self.engine.run_pass(self.team_id, self.link_id, limit=1_000)

    def states(self) -> Counter[ExportState]:
        with unit_of_work(self.sessions) as session:
            rows = session.scalars(select(Export.state).where(Export.link_id == self.link_id))
            return Counter(ExportState(state) for state in rows)

    def alerts(self) -> list[Alert]:
        with unit_of_work(self.sessions) as session:
            rows = list(session.scalars(select(Alert).order_by(Alert.id)))
            session.expunge_all()
            return rows

    def failed_events(self) -> int:
        with unit_of_work(self.sessions) as session:
            return len(
                list(
                    session.scalars(select(ExportEvent.id).where(ExportEvent.to_state == ExportState.FAILED))
                )
            )


@pytest.fixture
def rig(sessions: sessionmaker[Session], secret_key: str, request: pytest.FixtureRequest) -> Iterator[Rig]:
    """A link of N candidates to an open Lever posting, exported by an engine on the fake clock."""
    candidates = request.param if hasattr(request, "param") else 40
    clock = FakeClock()
    with running_emulator(clock=clock) as emulator:
        box = SecretBox(secret_key)
        connection = connect(sessions, box, emulator)
        link_id = add_link(sessions, connection, "faults", candidates)
        with unit_of_work(sessions) as session:
            session.execute(update(Link).where(Link.id == link_id).values(alert_channel=CHANNEL))
            team_id = session.scalar(select(Link.team_id).where(Link.id == link_id))
        options = HttpOptions(
            timeout=0.3, connect_timeout=0.3, max_tries=3, sleep=clock.sleep, now=clock, rand=lambda: 0.5
        )
        factory = AdapterFactory(box, budget_for=lambda _c: NullBudget(), http_options=options)
        config = EngineConfig(now=clock.now, clock=clock, batch_size=10, backoff_seconds=30.0)
        engine = ExportEngine(sessions, factory, worker_id="reliability", config=config)
        yield Rig(sessions, emulator, clock, engine, link_id, team_id)
        factory.close()


def run_until_done(rig: Rig, total: int, *, step: float, max_passes: int = 200) -> int:
    """Run passes, moving time on by `step` between them, until every candidate is exported."""
    for passes in range(1, max_passes + 1):
        rig.pass_()
        if rig.states() == {ExportState.EXPORTED: total}:
            return passes
        rig.clock.advance(step)
    pytest.fail(f"not everything was exported after {max_passes} passes: {dict(rig.states())}")


def assert_each_exported_once(rig: Rig, total: int) -> None:
    created = created_per_email(rig.emulator)
    assert set(created) == {email_of("faults", i) for i in range(total)}, "a candidate is missing in the ATS"
    assert set(created.values()) == {1}, "a candidate got two ATS records"


def run_outage(rig: Rig) -> dict[str, int]:
    """Export a quarter, break the ATS for a window (a timeout, then 5xx), recover; return the figures."""
    total, window = 40, pick(600.0, 3600.0)
    emu = rig.emulator
    rig.engine.run_pass(rig.team_id, rig.link_id, limit=10)
    assert rig.states()[ExportState.EXPORTED] == 10

    # The outage starts mid-pass: the next create hangs past the client's timeout (the vendor still
    # creates it), the writes after it answer 503, and from the next pass on every request answers 502.
    emu.faults.hang_next(1, seconds=0.6, method="POST", path=CREATE_PATH)
    emu.faults.fail_for(window, status=503, method="POST", path=CREATE_PATH)
    rig.pass_()
    emu.faults.fail_for(window, status=502)
    passes, end = 1, rig.clock() + window
    while rig.clock() + window / 10 < end:
        rig.clock.advance(window / 10)
        rig.pass_()
        passes += 1
    assert rig.failed_events() == 0, "a candidate failed during the outage instead of waiting"
    assert rig.states() == {ExportState.EXPORTED: 10, ExportState.PENDING: total - 10}, (
        "something moved during the outage"
    )

    # The vendor finishes the create that timed out on our side (it did the work, as a slow vendor does)
    # before it answers anything else. Were it to answer a look-up first, that look-up could not see the
    # record and a second one would be created: a limit of any client without vendor-side idempotency,
    # noted in RELIABILITY.md.
    deadline = time.monotonic() + 10
    while sum(created_per_email(emu).values()) < 11 and time.monotonic() < deadline:
        time.sleep(0.05)
    rig.clock.advance(window / 10)  # the ATS is back
    after = run_until_done(rig, total, step=60.0)
    assert_each_exported_once(rig, total)
    assert rig.failed_events() == 0
    return {
        "outage_seconds": int(window),
        "passes_during_outage": passes,
        "passes_to_catch_up": after,
        "candidates": total,
    }


def test_ats_outage_with_5xx_and_timeouts_loses_nothing_and_exports_everything_after_recovery(rig: Rig):
    figures = run_outage(rig)
    assert not [a for a in rig.alerts() if a.kind == AlertKind.FAILED], "candidates were alerted as failed"
    report("ATS outage", **figures, records_lost=0, duplicates=0)


def test_ats_outage_tells_the_link_channel_once_when_it_starts_and_once_when_it_ends(rig: Rig, request):
    if "postgresql" in request.node.name:
        pytest.skip("the alert bookkeeping is the same on both databases; SQLite runs it")
    run_outage(rig)
    alerts = rig.alerts()
    kinds = Counter(a.kind for a in alerts)
    assert kinds[AlertKind.OUTAGE] == 1, f"expected one outage alert, got {dict(kinds)}"
    assert kinds[AlertKind.RECOVERED] == 1, f"expected one 'recovered' alert, got {dict(kinds)}"
    assert kinds[AlertKind.FAILED] == 0
    told = [a for a in alerts if a.kind in (AlertKind.OUTAGE, AlertKind.RECOVERED)]
    assert [a.kind for a in told] == [AlertKind.OUTAGE, AlertKind.RECOVERED]
    assert {a.channel for a in told} == {CHANNEL}


@pytest.mark.parametrize("rig", [30], indirect=True)
def test_429_storm_with_retry_after_inside_the_wait_limit_only_delays(rig: Rig) -> None:
    """The vendor's window allows 3 requests per 10 s: every 429 is waited out inside the call."""
    total = 30
    rig.emulator.limiter.configure(3, 10.0)
    passes = run_until_done(rig, total, step=1.0)
    assert_each_exported_once(rig, total)
    assert rig.failed_events() == 0
    assert rig.clock.slept >= 10.0 * (total // 3 - 1), "the adapter did not wait out the Retry-After"
    report(
        "429 storm (short Retry-After)",
        candidates=total,
        passes=passes,
        waited_seconds=int(rig.clock.slept),
        failures=0,
    )


@pytest.mark.parametrize("rig", [12], indirect=True)
def test_long_429_storm_on_writes_reschedules_instead_of_failing(rig: Rig) -> None:
    """Every create answers 429 with Retry-After 45 s (longer than a call may wait) for an hour or more."""
    total, storm = 12, pick(3600.0, 4 * 3600.0)
    rig.emulator.faults.fail_for(storm, status=429, method="POST", path=CREATE_PATH, retry_after=45)
    end = rig.clock() + storm
    passes = 0
    while rig.clock() < end:
        rig.pass_()
        passes += 1
        rig.clock.advance(120.0)
    assert rig.failed_events() == 0, "a rate-limited candidate was failed instead of delayed"
    passes += run_until_done(rig, total, step=120.0)
    assert_each_exported_once(rig, total)
    report(
        "429 storm (long, on writes)", storm_seconds=int(storm), candidates=total, passes=passes, failures=0
    )
