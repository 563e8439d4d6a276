"""ATS to Slack: how long from a person moving a candidate in the ATS to the app showing it?

`scaleup serve` and `scaleup worker` run as their own processes (SQLite, the Greenhouse emulator, the Slack
Web API stand-in), as a two-process install does. N candidates are exported one by one with the "Export to
ATS" button (signed Slack requests), so each has its thread answer for two-way sync to redraw. Then a person
moves them in the emulator, M changes at a steady pace (every tenth a rejection), and for each change the
time is measured until

- the API shows it: `GET /api/v1/candidates/{id}` answers with the new `ats.stage` / `ats.status`, and
- Slack shows it: the stand-in received the `chat.update` of the candidate's answer with "Now in …".

Two phases, on the same app:

- **webhooks**: the emulator delivers its signed webhook to `POST /ats/webhooks/<token>` (the URL and secret
  pasted into the vendor's settings, as an admin does). The worker polls once at its start and then only
  hourly, so what is measured is the webhook path.
- **poll**: webhooks off (the emulator delivers nothing); the worker's poll alone brings the changes, every
  `--poll-seconds`: `scaleup worker` with `SCALEUP_SYNC_POLL_MINUTES` for whole minutes, else
  `scaleup worker --once` started every `--poll-seconds`, as cron would.

Each phase prints p50/p95/max for the API and for Slack, and the requests per synced change: ATS requests
the app made (the emulator's log) and Slack Web API calls (the stand-in's), each ÷ changes.

    ratio = the webhook phase's p95 (the worse of API and Slack) ÷ 60 s; target ≤ 1.0

    python -m devkit.bench.ats_to_slack [--quick] [--candidates 50] [--changes 100] [--pace 1]
                                        [--poll-changes 40] [--poll-pace 0.25] [--poll-seconds 60]
"""

from __future__ import annotations

import argparse
import json
import secrets
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ats.registry import spec_of
from bot.features.export.ids import ExportIds
from core.vocabulary import Vendor
from devkit.ats.base import Emulator
from devkit.bench import rig
from devkit.bench.ack_latency import free_port, wait_healthy
from devkit.slack.driver import SlackDriver, answer_json
from devkit.slack.emulator import SlackEmulator
from exports.stage_digest import where
from storage.crypto import SecretBox, generate_key
from storage.db import unit_of_work
from storage.enums import ExportAs, LinkMode
from storage.models import AtsConnection, Candidate, Export, Link
from storage.repositories import WEBHOOK_SECRET, ApiTokenRepository, ConnectionRepository, SearchRepository
from storage.sync_models import AtsRecord

TEAM = "T0BENCH03"
USER = "U0BENCH03"
CHANNEL = "C0BENCH03"
TARGET_SECONDS = 60.0
VENDOR = Vendor.GREENHOUSE
JOB = rig.OPEN_JOBS[VENDOR]
REJECT_EVERY = 10  # every tenth change is a rejection; the rest move the candidate to another stage
API_READS = 8  # API reads a second (`Watcher`)
REASONS = ("Not a cultural fit", "Accepted another offer", "Hiring freeze")  # Greenhouse seed's reasons


@dataclass
class Change:
    """One change made in the ATS, what it should look like, and when the app showed it (monotonic s)."""

    source_id: str
    application_id: str
    answer: tuple[str, str]  # the candidate's thread answer in Slack: (channel, ts)
    status: str  # the status the API should show ("active", "rejected")
    stage: str | None  # the stage it should show (active changes)
    shown: str  # the "Now in …" line the redrawn answer should carry
    made_at: float
    api_at: float | None = None
    slack_at: float | None = None

    @property
    def done(self) -> bool:
        """Return True once both the API and Slack showed the change."""
        return self.api_at is not None and self.slack_at is not None


@dataclass
class Phase:
    """What one phase measured."""

    name: str
    changes: list[Change] = field(default_factory=list)
    ats_requests: Counter[str] = field(default_factory=Counter)
    slack_calls: Counter[str] = field(default_factory=Counter)
    deliveries: Counter[int] = field(default_factory=Counter)
    cadence: float | None = None
    poller: str = ""
    poll_starts: list[float] = field(default_factory=list)  # monotonic; `worker --once` runs only

    def latencies(self, which: str) -> list[float]:
        """Return the seconds from each change to the API (`which` "api") or Slack ("slack") showing it."""
        seen = [(getattr(c, f"{which}_at"), c.made_at) for c in self.changes]
        return [at - made for at, made in seen if at is not None]

    def p95(self) -> float:
        """Return the worse of the API's and Slack's p95 (a change never shown counts as forever)."""
        worst = 0.0
        for which in ("api", "slack"):
            values = self.latencies(which)
            missing = len(self.changes) - len(values)
            worst = max(worst, rig.percentile(values + [float("inf")] * missing, 95))
        return worst


# --- the world ----------------------------------------------------------------------------------------


@dataclass
class World:
    """The emulators, the app's processes and what the bench needs to drive and watch them."""

    ats: Emulator
    slack: SlackEmulator
    sessions: sessionmaker[Session]
    env: dict[str, str]
    base: str
    api: httpx.Client
    connection_id: int
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, *args: str, **env: str) -> subprocess.Popen[bytes]:
        """Start `scaleup <args>` with the world's settings (plus `env`)."""
        proc = subprocess.Popen(
            [rig.python(), "-m", "bot.cli", *args],
            env={**self.env, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.procs.append(proc)
        return proc

    def polled_at(self) -> Any:
        """Return when the worker last polled the connection (None: never)."""
        with unit_of_work(self.sessions) as session:
            return session.get(AtsConnection, self.connection_id).status_polled_at

    def wait_for_poll(self, after: Any, timeout: float) -> None:
        """Wait until the worker has polled since `after` (None: at all)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            polled = self.polled_at()
            if polled is not None and (after is None or polled > after):
                return
            time.sleep(0.2)
        raise RuntimeError(f"the worker did not poll within {timeout:.0f}s")


@contextmanager
def world(candidates: int) -> Iterator[World]:
    """Start the emulators and `scaleup serve`, with a manual link and `candidates` people to export."""
    key, signing = generate_key(), secrets.token_hex(16)
    ats = rig.start_emulator(VENDOR, log_size=1_000_000)
    slack = SlackEmulator(team_id=TEAM).start()
    slack.add_user(USER)
    slack.add_channel(CHANNEL, "recruiting", member=True)
    try:
        with rig.temp_database("sqlite", "bench_ats_to_slack") as url:
            engine, sessions = rig.migrated(url)
            box = SecretBox(key)
            connection_id = rig.connect_workspace(sessions, box, ats, team_id=TEAM)
            with unit_of_work(sessions) as session:
                search = SearchRepository(session, TEAM).get_or_create("Sync bench")
                session.flush()
                search_id = search.id
                session.add(
                    rig.bench_link(
                        TEAM,
                        search_id,
                        connection_id,
                        JOB,
                        mode=LinkMode.MANUAL,
                        export_as=ExportAs.APPLICANT,
                    )
                )
                _, token = ApiTokenRepository(session, TEAM).issue("bench")
            rig.seed_candidates(engine, TEAM, [search_id] * candidates, email="sync{i}@bench.example.org")
            env = rig.app_environment(url, key, slack_api_url=slack.api_url, signing_secret=signing)
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(
                base_url=base + "/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
            ) as api:
                here = World(ats, slack, sessions, env, base, api, connection_id)
                proc = here.start("serve", "--port", str(port))
                wait_healthy(base + "/healthz", proc)
                try:
                    yield here
                finally:
                    for child in reversed(here.procs):
                        rig.stop_process(child)
            engine.dispose()
    finally:
        slack.stop()
        ats.stop()


def paste_webhook(here: World) -> None:
    """Do what a Greenhouse admin does: create a web hook with the app's URL and secret (every event)."""
    with unit_of_work(here.sessions) as session:
        repo = ConnectionRepository(session, TEAM)
        connection = repo.get_current()
        secret = repo.secrets_of(SecretBox(here.env["SCALEUP_SECRET_KEY"]), connection)[WEBHOOK_SECRET]
        url = f"{here.base}/ats/webhooks/{connection.webhook_token}"
    httpx.post(f"{here.ats.url}/_emulator/webhooks", json={"url": url, "secret": secret}).raise_for_status()


def export_by_button(here: World, timeout: float = 300.0) -> dict[str, tuple[str, tuple[str, str]]]:
    """Click "Export to ATS" on each candidate's message; return source id → (application id, answer)."""
    with unit_of_work(here.sessions) as session:
        people = session.execute(select(Candidate.id, Candidate.source_id).order_by(Candidate.id)).all()
        link_id = session.scalar(select(Link.id))
    with httpx.Client(timeout=30) as http:
        driver = SlackDriver(here.base, here.env["SLACK_SIGNING_SECRET"], TEAM, http)
        for n, (candidate_id, _) in enumerate(people):
            button = {
                "action_id": ExportIds.EXPORT_BUTTON.value,
                "block_id": ExportIds.ACTIONS.value,
                "value": json.dumps({"candidate_id": candidate_id, "link_id": link_id}),
            }
            message_ts = f"1700000000.{n:06d}"
            answer_json(
                driver.interact(
                    driver.message_button(button, channel=CHANNEL, user=USER, message_ts=message_ts)
                )
            )  # raises unless acknowledged
    deadline = time.monotonic() + timeout
    while True:
        with unit_of_work(here.sessions) as session:
            rows = session.execute(
                select(
                    Candidate.source_id,
                    AtsRecord.ats_application_id,
                    AtsRecord.slack_channel,
                    AtsRecord.slack_ts,
                )
                .join(Export, Export.id == AtsRecord.export_id)
                .join(Candidate, Candidate.id == Export.candidate_id)
            ).all()
        ready = {s: (a, (c, t)) for s, a, c, t in rows if a and c and t}
        if len(ready) == len(people):
            return ready
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"only {len(ready)} of {len(people)} exports answered in Slack in {timeout:.0f}s"
            )
        time.sleep(0.5)


# --- a person in the ATS, and the bench watching the app ---------------------------------------------


class Mover:
    """A person in Greenhouse: moves the next candidate with no change pending to their job's next stage, or
    (every `REJECT_EVERY`th change) rejects them; a rejected candidate is not moved again."""

    def __init__(self, ats: Emulator, people: dict[str, tuple[str, tuple[str, str]]]) -> None:
        self.ats, self.people = ats, people
        self.order = list(people)
        self.rejected: set[str] = set()
        self.turn = self.made = 0
        with ats.lock:
            stages = [s for s in ats.table("job_interview_stages").values() if str(s["job_id"]) == JOB]
        self.stages = [
            (str(s["id"]), s["name"]) for s in sorted(stages, key=lambda s: s.get("sort_order", 0))
        ]

    def plan(self, busy: set[str]) -> tuple[Change, dict[str, Any]] | None:
        """Return the next change and the move that makes it (None: every candidate has one pending)."""
        for _ in range(len(self.order)):
            source_id = self.order[self.turn % len(self.order)]
            self.turn += 1
            if source_id not in self.rejected and source_id not in busy:
                return self._plan(source_id)
        return None

    def _plan(self, source_id: str) -> tuple[Change, dict[str, Any]]:
        application_id, answer = self.people[source_id]
        label = spec_of(VENDOR).label
        self.made += 1
        if self.made % REJECT_EVERY == 0:
            reason = REASONS[(self.made // REJECT_EVERY) % len(REASONS)]
            self.rejected.add(source_id)
            shown = f"Now in {label}: {where(None, 'rejected')}: {reason}"
            return Change(source_id, application_id, answer, "rejected", None, shown, 0.0), {
                "status": "rejected",
                "reason": reason,
            }
        with self.ats.lock:
            current = str(self.ats.table("applications")[application_id].get("job_interview_stage_id"))
        ids = [stage_id for stage_id, _ in self.stages]
        stage_id, name = self.stages[(ids.index(current) + 1) % len(ids) if current in ids else 0]
        change = Change(source_id, application_id, answer, "active", name, f"Now in {label}: {name}", 0.0)
        return change, {"stage_id": stage_id}


def texts(value: Any) -> Iterator[str]:
    """Yield every string under a `text` key of a message's blocks."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "text" and isinstance(inner, str):
                yield inner
            else:
                yield from texts(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from texts(inner)


class Watcher(threading.Thread):
    """Reads the API for the pending changes, one at a time, the least recently read first, `API_READS` a
    second in all (the default API budget allows 10: a faster reader would slow the app it measures, whose
    SQLite rate budgets share one file), and matches the stand-in's `chat.update`s to them, until stopped."""

    def __init__(self, here: World, changes: list[Change], lock: threading.Lock) -> None:
        super().__init__(name="watcher", daemon=True)
        self.here, self.changes, self.lock = here, changes, lock
        self.stop = threading.Event()
        self.updates: list[tuple[float, tuple[str, str], set[str]]] = []  # (at, (channel, ts), texts)
        self.read_at: dict[int, float] = {}  # id(change) → when its API answer was last read

    def run(self) -> None:
        while not self.stop.is_set():
            due = time.monotonic() + 1 / API_READS
            with self.lock:
                pending = [c for c in self.changes if not c.done]
            calls = self.here.slack.calls("chat.update")
            for call in calls[len(self.updates) :]:
                answer = (str(call.payload.get("channel")), str(call.payload.get("ts")))
                self.updates.append((call.at, answer, set(texts(call.payload.get("blocks")))))
            for change in pending:
                if change.slack_at is None:
                    change.slack_at = next(
                        (
                            at
                            for at, answer, shown in self.updates
                            if answer == change.answer and at >= change.made_at and change.shown in shown
                        ),
                        None,
                    )
            unread = [c for c in pending if c.api_at is None]
            if unread:
                change = min(unread, key=lambda c: self.read_at.get(id(c), 0.0))
                self.read_at[id(change)] = time.monotonic()
                if self._in_api(change):
                    change.api_at = time.monotonic()  # when the answer came back: an upper bound
            self.stop.wait(max(0.0, due - time.monotonic()))

    def _in_api(self, change: Change) -> bool:
        response = self.here.api.get(f"/candidates/{change.source_id}")
        ats = (response.json() if response.status_code == 200 else {}).get("ats") or {}
        return ats.get("status") == change.status and (
            change.stage is None or ats.get("stage") == change.stage
        )


def endpoint(method: str, path: str) -> str:
    """Return a request's endpoint with its ids left out (`GET /v3/applications/{id}`)."""
    parts = ["{id}" if part.isdigit() else part for part in path.split("?")[0].split("/")]
    return f"{method} {'/'.join(parts)}"


def run_phase(here: World, mover: Mover, phase: Phase, total: int, pace: float, settle: float) -> None:
    """Make `total` changes at `pace` per second, then wait up to `settle` s for the app to show them all."""
    lock = threading.Lock()
    watcher = Watcher(here, phase.changes, lock)
    watcher.start()
    wall, started = time.time(), time.monotonic()
    slack_before, deliveries_before = len(here.slack.calls()), len(here.ats.webhooks.deliveries)
    try:
        for n in range(total):
            rig.wait_until(wall + n / pace)
            while True:
                with lock:
                    planned = mover.plan({c.source_id for c in phase.changes if not c.done})
                    if planned is not None:
                        change, move = planned
                        phase.changes.append(change)
                        change.made_at = time.monotonic()
                        break
                time.sleep(0.1)  # every candidate left has a change on its way: wait for one
            here.ats.move_application(change.application_id, **move)
        deadline = time.monotonic() + settle
        while time.monotonic() < deadline and not all(c.done for c in phase.changes):
            time.sleep(0.2)
    finally:
        watcher.stop.set()
        watcher.join()
    ended = time.time()
    phase.ats_requests = Counter(
        endpoint(r.method, r.path) for r in here.ats.requests() if wall <= r.at <= ended
    )
    phase.slack_calls = Counter(c.method for c in here.slack.calls()[slack_before:])
    phase.deliveries = Counter(d.status for d in here.ats.webhooks.deliveries[deliveries_before:])
    rig.say(
        f"  {phase.name}: {total} changes in {time.monotonic() - started:.0f}s, "
        f"{sum(c.done for c in phase.changes)} shown in both the API and Slack"
    )


def wait_for_budget(here: World) -> None:
    """Wait until at most half the app's request budget for the ATS is spent, so a poll does not wait for
    what the set-up's exports spent (the poll shares the connection's budget with exports, by design)."""
    budget = spec_of(VENDOR).rate_limit
    window = budget.window * 1.05  # `ats.budgets.WINDOW_MARGIN`
    started = time.monotonic()
    while len([r for r in here.ats.requests() if r.at > time.time() - window]) > budget.limit // 2:
        time.sleep(0.5)
    if time.monotonic() - started > 1:
        rig.say(
            f"  waited {time.monotonic() - started:.0f}s for the exports to leave the app's {spec_of(VENDOR).label} "
            f"budget ({budget.limit} requests per {budget.window:g}s)"
        )


class OnceLoop(threading.Thread):
    """Start `scaleup worker --once` every `seconds` (start to start, the next waiting for the last), as cron
    would."""

    def __init__(self, here: World, seconds: float) -> None:
        super().__init__(name="worker-once", daemon=True)
        self.here, self.seconds = here, seconds
        self.stop = threading.Event()
        self.runs: list[float] = []
        self.starts: list[float] = []  # monotonic

    def run(self) -> None:
        due = time.monotonic()
        while not self.stop.is_set():
            started = time.monotonic()
            self.starts.append(started)
            proc = self.here.start("worker", "--once")
            proc.wait()
            self.here.procs.remove(proc)
            self.runs.append(time.monotonic() - started)
            due += self.seconds
            self.stop.wait(max(0.0, due - time.monotonic()))


# --- the run and its report ----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures; the last line is the headline ratio."""
    parser = argparse.ArgumentParser(prog="devkit.bench.ats_to_slack", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 candidates, 20 + 8 changes, a 10 s poll")
    parser.add_argument("--candidates", type=int, default=None, help="exported by button (default 50)")
    parser.add_argument("--changes", type=int, default=None, help="changes with webhooks (default 100)")
    parser.add_argument("--pace", type=float, default=None, help="changes per second with webhooks (1)")
    parser.add_argument(
        "--poll-changes", type=int, default=None, help="changes by poll (default 40; 0: skip)"
    )
    parser.add_argument("--poll-pace", type=float, default=None, help="changes per second by poll (0.25)")
    parser.add_argument(
        "--poll-seconds",
        type=int,
        default=None,
        help="poll cadence (default 60: `scaleup worker`, SCALEUP_SYNC_POLL_MINUTES=1; "
        "not whole minutes: `scaleup worker --once` that often)",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    people = args.candidates or (10 if quick else 50)
    total = args.changes or (20 if quick else 100)
    pace = args.pace or (2.0 if quick else 1.0)
    poll_total = args.poll_changes if args.poll_changes is not None else (8 if quick else 40)
    poll_pace = args.poll_pace or (0.5 if quick else 0.25)
    cadence = args.poll_seconds or (10 if quick else 60)
    label = spec_of(VENDOR).label
    rig.say(f"ATS to Slack — {rig.describe_machine()}")
    rig.say(
        f"{label} emulator, {people} candidates exported by button; with webhooks {total} changes at "
        f"{pace:g}/s; by poll {poll_total} changes at {poll_pace:g}/s, a poll every {cadence}s"
    )
    hooked = Phase("webhooks")
    polled = Phase("poll", cadence=float(cadence))
    with world(people) as here:
        started = time.monotonic()
        exported = export_by_button(here)
        rig.say(
            f"  exported {len(exported)} by button, each with its answer in Slack, in "
            f"{time.monotonic() - started:.0f}s ({len(here.ats.requests()) / people:.1f} ATS requests each)"
        )
        mover = Mover(here.ats, exported)
        paste_webhook(here)
        # The worker polls at its start, then hourly: within this phase the changes come by webhook.
        worker = here.start("worker", SCALEUP_SYNC_POLL_MINUTES="60")
        here.wait_for_poll(None, timeout=120)
        run_phase(here, mover, hooked, total, pace, settle=TARGET_SECONDS)
        rig.stop_process(worker)
        here.procs.remove(worker)
        if poll_total:
            wait_for_budget(here)
            here.ats.webhooks.paused = True  # webhooks off: the poll alone brings the changes
            before = here.polled_at()
            loop = None
            if cadence % 60 == 0:
                polled.poller = f"scaleup worker, SCALEUP_SYNC_POLL_MINUTES={cadence // 60}"
                here.start("worker", SCALEUP_SYNC_POLL_MINUTES=str(cadence // 60))
            else:
                polled.poller = f"scaleup worker --once every {cadence}s"
                loop = OnceLoop(here, cadence)
                loop.start()
            try:
                here.wait_for_poll(before, timeout=cadence + 120)
                run_phase(here, mover, polled, poll_total, poll_pace, settle=2 * cadence + 30)
            finally:
                if loop is not None:
                    loop.stop.set()
                    loop.join()
            if loop is not None:
                polled.poll_starts = loop.starts
            if loop is not None and loop.runs:
                polled.poller += f" (each run {rig.median(loop.runs):.1f}s, {len(loop.runs)} runs)"
    return report(hooked, polled if poll_total else None, people)


def describe(phase: Phase) -> list[str]:
    """Return a phase's figures as printed lines."""
    count = len(phase.changes)
    lines = []
    for which, name in (("api", "API"), ("slack", "Slack")):
        values = phase.latencies(which)
        line = (
            f"  {name:<5} {len(values)}/{count} shown; p50 {rig.percentile(values, 50):.2f}s, "
            f"p95 {rig.percentile(values, 95):.2f}s, max {max(values, default=float('nan')):.2f}s"
        )
        if phase.cadence:
            line += f"; p95 ÷ cadence {rig.percentile(values, 95) / phase.cadence:.2f}"
        lines.append(line)
    per = max(1, count)
    ats = sum(phase.ats_requests.values())
    lines.append(
        f"  ATS requests per synced change: {ats / per:.2f}"
        + (
            " (" + ", ".join(f"{n / per:.2f} {k}" for k, n in phase.ats_requests.most_common()) + ")"
            if ats
            else ""
        )
    )
    slack = sum(phase.slack_calls.values())
    lines.append(
        f"  Slack Web API calls per synced change: {slack / per:.2f}"
        + (
            " (" + ", ".join(f"{n / per:.2f} {k}" for k, n in phase.slack_calls.most_common()) + ")"
            if slack
            else ""
        )
    )
    if phase.deliveries:
        answered = ", ".join(f"{n} answered {status}" for status, n in sorted(phase.deliveries.items()))
        lines.append(f"  webhook deliveries: {answered}")
    return lines


def report(hooked: Phase, polled: Phase | None, people: int) -> int:
    """Print each phase's figures, save them, and print the headline ratio last."""
    rig.say()
    rig.say(f"with webhooks ({len(hooked.changes)} changes):")
    for line in describe(hooked):
        rig.say(line)
    if polled is not None:
        rig.say(f"by poll, webhooks off ({len(polled.changes)} changes; {polled.poller}):")
        for line in describe(polled):
            rig.say(line)
        rig.say(
            f"  poll ratio: {polled.p95() / (polled.cadence or 1):.2f} "
            "(p95, the worse of API and Slack, ÷ the cadence; expected ≤ 1 + a poll's own time)"
        )

    def figures(phase: Phase) -> dict[str, Any]:
        return {
            which: {
                "shown": len(phase.latencies(which)),
                "p50": rig.percentile(phase.latencies(which), 50),
                "p95": rig.percentile(phase.latencies(which), 95),
                "max": max(phase.latencies(which), default=None),
            }
            for which in ("api", "slack")
        } | {
            "changes": len(phase.changes),
            "ats_requests": dict(phase.ats_requests),
            "slack_calls": dict(phase.slack_calls),
            "cadence": phase.cadence,
            "poller": phase.poller,
            # Seconds from the phase's first change: when each change was made, and shown in the API and Slack.
            "timeline": [
                [
                    c.source_id,
                    c.made_at - first,
                    c.api_at and c.api_at - first,
                    c.slack_at and c.slack_at - first,
                ]
                for first in [phase.changes[0].made_at if phase.changes else 0.0]
                for c in phase.changes
            ],
            "poll_starts": [at - phase.changes[0].made_at for at in phase.poll_starts]
            if phase.changes
            else [],
        }

    rig.save_results(
        "ats_to_slack",
        {"candidates": people, "webhooks": figures(hooked), "poll": figures(polled) if polled else None},
    )
    for phase in (hooked, polled):
        missed = [c for c in phase.changes if not c.done] if phase else []
        if missed:
            rig.say(f"MISSED: {phase.name}: {len(missed)} changes never shown in both the API and Slack")
    api, slack = (rig.percentile(hooked.latencies(w), 95) for w in ("api", "slack"))
    worse = "Slack" if slack >= api else "API"
    p95 = hooked.p95()
    rig.say(
        f"ratio: {p95 / TARGET_SECONDS:.3f} (webhook p95 {p95:.2f}s ({worse}) ÷ {TARGET_SECONDS:.0f}s target; "
        "target ≤ 1.0)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
