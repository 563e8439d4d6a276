"""Acknowledgement latency: does Slack wait on us longer than on an app that does nothing?

`scaleup serve` runs as its own process (the Slack Web API stand-in, an ATS emulator answering every
request 500 ms late), and so does a bare Bolt app on the same server stack (waitress via
`bot.server.HttpServer`, Bolt's WSGI handler) whose listeners only `ack()`. Signed requests go over
loopback, N per run, mixed evenly over four kinds:

- `/scaleup link <search>` (ack, then the link modal is opened),
- a `block_suggestion` of the link modal's job select (answers with the cached job options),
- a `view_submission` of the link modal (validated and saved),
- the "Export to ATS" message shortcut (ack, then the prefilled modal is opened).

Each app takes them paced, as users act (an open loop: request n is due n/R s after the start whatever the
answers, and its latency counts from then), at R = 50 and 150 requests/s, on SQLite and on PostgreSQL:

    ratio = our p99 ÷ the bare app's p99 over the acknowledged kinds (all but the options), the worst of
            (database × pace); target ≤ 1.5

A closed loop (C senders, each sending its next request as soon as the last is answered) measures
capacity: requests/s and the server's CPU time per request (target ≤ 4 ms). Options must answer with data,
so they are reported on their own against the emulator's latency.

    python -m devkit.bench.ack_latency [--quick] [--database sqlite|postgresql|both] [--pace 50 150]
                                       [--requests 2000] [--concurrency 20] [--latency 0.5] [--kinds-only]

`BENCH_PROFILE=DIR` records `scaleup serve` while it serves each kind alone and prints where each kind's
CPU time went: with py-spy (on PATH, or at `BENCH_PYSPY`) sampling the thread that holds the GIL, else
in-process (`devkit.bench.thread_profile`), which also lists the SQL statements each kind ran.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import httpx

from bot.features.link.ids import LinkIds
from bot.ids import Shortcut
from core.vocabulary import Vendor
from devkit.bench import rig
from devkit.slack.driver import SlackDriver, answer_json, conversation, selected
from devkit.slack.emulator import DEFAULT_TOKEN, TRIGGER_LIFETIME, SlackEmulator
from storage.crypto import SecretBox, generate_key
from storage.db import unit_of_work
from storage.enums import Audience, ExportAs, LinkMode
from storage.repositories import SearchRepository

TEAM = "T0BENCH01"
USER = "U0BENCH01"
CHANNEL = "C0BENCH01"
SEARCH = "Bench search"
KINDS = ("link", "options", "submission", "shortcut")
ACKED = ("link", "submission", "shortcut")
MESSAGE = {
    "type": "message",
    "user": "U0SOURCER",
    "text": "Strong lead: Gus Grant, gus.grant@example.com, https://www.linkedin.com/in/gus-grant",
    "ts": "1700000123.000100",
}
BARE, OURS = "bare Bolt", "scaleup serve"
TARGET_RATIO = 1.5
TARGET_CPU_MS = 4.0


@dataclass
class Latencies:
    """One app's run: milliseconds per request kind, the failures, and the server's CPU time."""

    app: str
    by_kind: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    errors: int = 0
    seconds: float = 0.0
    cpu_seconds: float = (
        0.0  # the server process's CPU time (user + system), until its work after the acks ended
    )
    modals: tuple[int, int] = (0, 0)  # views.open calls that opened a modal, of all made during the run

    @property
    def total(self) -> int:
        """Return how many requests were sent."""
        return sum(len(v) for v in self.by_kind.values())

    def acked(self) -> list[float]:
        """Return the latencies of every kind that only has to be acknowledged."""
        return [ms for kind in ACKED for ms in self.by_kind[kind]]

    def p99(self) -> float:
        """Return the p99 of the acknowledged kinds."""
        return rig.percentile(self.acked(), 99)

    def cpu_ms(self) -> float:
        """Return the server's CPU milliseconds per request."""
        return self.cpu_seconds * 1000 / max(1, self.total)


@dataclass
class DatabaseRun:
    """Everything measured on one database: the closed loop and each pace, for both apps."""

    database: str
    closed: dict[str, Latencies] = field(default_factory=dict)
    by_kind: dict[str, dict[str, Latencies]] = field(default_factory=dict)  # app → kind → its own run
    paced: dict[float, dict[str, Latencies]] = field(default_factory=dict)
    cold_ms: float = 0.0
    ats_calls: int = 0

    def ratio(self, pace: float) -> float:
        """Return our p99 ÷ the bare app's p99 at `pace`."""
        return self.paced[pace][OURS].p99() / self.paced[pace][BARE].p99()


# --- the bare app (a child process) ----------------------------------------------------------------------


def serve_bare(port: int, signing_secret: str) -> int:
    """Serve a Bolt app whose listeners only ack(), on the same server stack as `scaleup serve`."""
    from slack_bolt import App
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_sdk import WebClient

    from bot.server import HttpServer

    # The client talks to the same Slack stand-in as `scaleup serve` (Bolt checks the token once).
    client = WebClient(token=DEFAULT_TOKEN, base_url=os.environ["SLACK_API_URL"])
    app = App(signing_secret=signing_secret, client=client)
    anything = re.compile(".*")
    app.command(anything)(lambda ack: ack())
    app.options(anything)(lambda ack: ack(options=[]))
    app.view(anything)(lambda ack: ack())
    app.shortcut(anything)(lambda ack: ack())
    handler = SlackRequestHandler(app)
    threads = int(os.environ.get("SCALEUP_LISTENER_THREADS", "16"))
    server = HttpServer(handler, host="127.0.0.1", port=port, threads=threads)
    print("ready", flush=True)
    server.serve_forever()
    return 0


# --- set-up ----------------------------------------------------------------------------------------------


def free_port() -> int:
    """Return a free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Wait until `url` answers, or raise when the process died or the time ran out."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout:.0f}s")


def cpu_seconds(pid: int) -> float:
    """Return the CPU time (user + system) process `pid` has used so far (Linux `/proc/<pid>/stat`)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Stack:
    """The two servers and what the requests need: URLs, pids, the signing secret, the modal and its form."""

    slack: SlackEmulator
    secret: str
    apps: dict[str, tuple[str, int]]  # app → (URL, pid)
    view: dict[str, Any]
    values: dict[str, Any]


def requests_for(driver: SlackDriver, stack: Stack) -> dict[str, Callable[[], Any]]:
    """Return, per kind, a function sending one such request and returning the response."""
    view, values = stack.view, stack.values
    return {
        "link": lambda: driver.command(f"link {SEARCH}", user=USER, channel=CHANNEL),
        "options": lambda: driver.interact(
            driver.suggestion(view, LinkIds.JOB_SELECT, LinkIds.JOB_BLOCK, "", user=USER)
        ),
        "submission": lambda: driver.interact(driver.submission(view, values, user=USER)),
        "shortcut": lambda: driver.interact(
            driver.message_shortcut(Shortcut.EXPORT_TO_ATS.value, MESSAGE, channel=CHANNEL, user=USER)
        ),
    }


def hammer(
    stack: Stack, app: str, total: int, concurrency: int, rate: float = 0.0, kinds: tuple[str, ...] = KINDS
) -> Latencies:
    """Send `total` requests to `app`, `kinds` in turn, from `concurrency` threads each with its connection.

    With `rate` 0 each thread sends its next request as soon as the last is answered (a closed loop: the
    load is whatever the app can take). With `rate`, request n is due n/rate seconds after the start
    whatever the answers (an open loop, as users act), and its latency counts from when it was due.
    The server's CPU time runs until its work after the acknowledgements is done too (its last Slack call).
    """
    url, pid = stack.apps[app]
    result = Latencies(app)
    wait_for_quiet(stack.slack)
    stack.slack.reset()
    cpu_before = cpu_seconds(pid)
    clients = [httpx.Client(timeout=30) for _ in range(concurrency)]
    # Slack's response URLs (the stand-in's here), so no reply is refused for pointing elsewhere.
    drivers = [
        SlackDriver(url, stack.secret, TEAM, c, response_url=stack.slack.webhook_url()) for c in clients
    ]
    senders = [requests_for(d, stack) for d in drivers]
    started = time.perf_counter()

    def one(n: int) -> tuple[str, float, bool]:
        kind = kinds[n % len(kinds)]
        send = senders[n % concurrency][kind]
        start = time.perf_counter()
        if rate:
            start = started + n / rate
            time.sleep(max(0.0, start - time.perf_counter()))
        response = send()
        return kind, (time.perf_counter() - start) * 1000, response.status_code == 200

    try:
        with ThreadPoolExecutor(concurrency) as pool:
            for kind, ms, ok in pool.map(one, range(total)):
                result.by_kind[kind].append(ms)
                result.errors += not ok
    finally:
        for client in clients:
            client.close()
    result.seconds = time.perf_counter() - started
    wait_for_quiet(stack.slack)
    result.cpu_seconds = cpu_seconds(pid) - cpu_before
    opens = stack.slack.calls("views.open")
    result.modals = (sum("_view_id" in call.payload for call in opens), len(opens))
    return result


def start_stack(
    url: str, slack: SlackEmulator, key: str, search_id: int, procs: list[subprocess.Popen[bytes]]
) -> tuple[Stack, float]:
    """Start both servers on database `url`; open the link modal once and choose a job, as a recruiter
    would. Return the stack and how long the first (cold) job options request took, in milliseconds."""
    secret = secrets.token_hex(16)
    env = rig.app_environment(url, key, slack_api_url=slack.api_url, signing_secret=secret)
    ours_port, bare_port = free_port(), free_port()
    ours = ["-m", "bot.cli", "serve", "--port", str(ours_port)]
    if profiler() == "in-process":  # every thread of `scaleup serve` recorded (`thread_profile`)
        ours[:2] = ["-m", "devkit.bench.thread_profile", os.environ["BENCH_PROFILE"]]
    for command in (
        ours,
        ["-m", "devkit.bench.ack_latency", "--bare", str(bare_port), secret],
    ):
        procs.append(
            subprocess.Popen(
                [rig.python(), *command], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        )
    ours_url, bare_url = f"http://127.0.0.1:{ours_port}", f"http://127.0.0.1:{bare_port}"
    wait_healthy(ours_url + "/healthz", procs[-2])
    wait_healthy(bare_url + "/slack/events", procs[-1])
    with httpx.Client(timeout=30) as client:
        driver = SlackDriver(ours_url, secret, TEAM, client, response_url=slack.webhook_url())
        answer_json(driver.command(f"link {SEARCH}", user=USER, channel=CHANNEL))
        view = wait_for_view(slack)
        started = time.perf_counter()
        first = answer_json(
            driver.interact(driver.suggestion(view, LinkIds.JOB_SELECT, LinkIds.JOB_BLOCK, "", user=USER))
        )
        cold_ms = (time.perf_counter() - started) * 1000
        options = [o for g in first.get("option_groups", []) for o in g["options"]] + first.get("options", [])
        job = options[0]["value"] if options else rig.OPEN_JOBS[Vendor.GREENHOUSE]
    values: dict[str, Any] = {
        LinkIds.SEARCH_BLOCK: {LinkIds.SEARCH_SELECT: selected(str(search_id))},
        LinkIds.JOB_BLOCK: {LinkIds.JOB_SELECT: selected(job)},
        LinkIds.EXPORT_AS_BLOCK: {LinkIds.EXPORT_AS_RADIO: selected(ExportAs.APPLICANT)},
        LinkIds.MODE_BLOCK: {LinkIds.MODE_RADIO: selected(LinkMode.AUTOMATIC)},
        LinkIds.AUDIENCE_BLOCK: {LinkIds.AUDIENCE_RADIO: selected(Audience.ALL)},
        LinkIds.CHANNEL_BLOCK: {LinkIds.CHANNEL_SELECT: conversation(CHANNEL)},
    }
    apps = {OURS: (ours_url, procs[-2].pid), BARE: (bare_url, procs[-1].pid)}
    return Stack(slack=slack, secret=secret, apps=apps, view=view, values=values), cold_ms


def measure(database: str, args: argparse.Namespace, total: int) -> DatabaseRun:
    """Build everything on a new database of kind `database`, run the closed loop and each pace."""
    run = DatabaseRun(database)
    key = generate_key()
    ats = rig.start_emulator(Vendor.GREENHOUSE)
    # Like Slack, the stand-in refuses a modal opened more than 3 s after the user acted.
    slack = SlackEmulator(team_id=TEAM, trigger_lifetime=TRIGGER_LIFETIME).start()
    slack.add_user(USER, admin=True)
    slack.add_channel(CHANNEL, "recruiting")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with rig.temp_database(database, "bench_ack") as url:
            engine, sessions = rig.migrated(url)
            rig.connect_workspace(sessions, SecretBox(key), ats, team_id=TEAM)
            with unit_of_work(sessions) as session:
                search = SearchRepository(session, TEAM).get_or_create(SEARCH)
                session.flush()
                search_id = search.id
            rig.seed_candidates(engine, TEAM, [search_id] * 50, email="ack{i}@bench.example.org")
            engine.dispose()
            stack, run.cold_ms = start_stack(url, slack, key, search_id, procs)
            # Every ATS request is slow from now on: nothing on the way to an ack may wait for one.
            ats.faults.set_latency(args.latency)
            slack.set_latency(args.slack_latency)
            for app in (BARE, OURS):
                hammer(stack, app, min(100, total), args.concurrency)  # warm up
                if args.kinds_only:
                    continue
                run.closed[app] = hammer(stack, app, total, args.concurrency)
                rig.say(
                    f"  {database}, {app}: closed loop, {total} requests in {run.closed[app].seconds:.1f}s"
                )
            for app in (BARE, OURS):  # each kind alone, for its CPU time (work after the ack included)
                run.by_kind[app] = {}
                for kind in KINDS:
                    profile = None
                    if app == OURS and profiler():
                        cls = Profiled if profiler() == "py-spy" else InProcessProfiled
                        profile = cls(stack.apps[app][1], f"{database}-{kind}", stack.slack)
                    with profile or nullcontext():
                        run.by_kind[app][kind] = hammer(stack, app, args.kind_requests, 4, kinds=(kind,))
                    if profile is not None:
                        profile.report(run.by_kind[app][kind].cpu_ms())
            for pace in [] if args.kinds_only else args.pace:
                run.paced[pace] = {}
                for app in (BARE, OURS):
                    run.paced[pace][app] = hammer(stack, app, total, args.concurrency, pace)
                rig.say(f"  {database}: paced at {pace:g}/s, ratio {run.ratio(pace):.2f}")
            run.ats_calls = len(ats.requests())
    finally:
        for proc in procs:
            rig.stop_process(proc)
        slack.stop()
        ats.stop()
    return run


def wait_for_view(slack: SlackEmulator, timeout: float = 10.0) -> dict[str, Any]:
    """Return the modal the app opened (views.open runs after the ack)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            return slack.latest_view()
        except (LookupError, IndexError, AssertionError):
            time.sleep(0.05)
    raise RuntimeError("the app opened no modal")


def wait_for_quiet(slack: SlackEmulator, quiet: float = 1.0, timeout: float = 60.0) -> None:
    """Wait until the app has made no Slack call for `quiet` seconds (its work after the acks is done)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        calls = slack.calls()
        if not calls or time.monotonic() - calls[-1].at >= quiet:
            return
        time.sleep(0.2)


# --- profiling (BENCH_PROFILE) ---------------------------------------------------------------------------


def profiler() -> str | None:
    """Return how `scaleup serve` is profiled: "py-spy" when BENCH_PROFILE is set and py-spy is found (on
    PATH or at BENCH_PYSPY), "in-process" (`devkit.bench.thread_profile`) when it is set without py-spy,
    None when it is not set."""
    if not os.environ.get("BENCH_PROFILE"):
        return None
    return "py-spy" if os.environ.get("BENCH_PYSPY") or shutil.which("py-spy") else "in-process"


class Profiled:
    """Record process `pid` with py-spy while the block runs (BENCH_PROFILE=DIR; py-spy on PATH or at
    BENCH_PYSPY), into DIR/ack_latency-NAME.txt (py-spy's raw format: one stack and its count a line).

    Only samples of the thread holding the GIL are kept (`--gil`): where the server's Python CPU time goes,
    which every other thread, the acknowledgements' included, waits for. On a busy machine a thread
    descheduled while it holds the GIL is still sampled, so quote profiles of quiet runs. py-spy pauses
    the process for each sample, so CPU figures of a profiled run are not the ones to quote.
    """

    def __init__(self, pid: int, name: str, _slack: SlackEmulator) -> None:
        folder = os.environ["BENCH_PROFILE"]
        spy = os.environ.get("BENCH_PYSPY") or shutil.which("py-spy")
        self.out = Path(folder) / f"ack_latency-{name}.txt"
        self._command = [str(spy), "record", "--pid", str(pid), "--gil", "--rate", "200"]
        self._command += ["--format", "raw", "-o", str(self.out)]
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self._proc = subprocess.Popen(self._command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)  # py-spy attaches
        return self

    def __exit__(self, *_: object) -> None:
        if self._proc is not None:
            self._proc.send_signal(signal.SIGINT)  # py-spy writes its file and exits
            self._proc.wait(timeout=60)

    def report(self, cpu_ms: float) -> None:
        """Print the heaviest functions, as a share of the samples and as CPU ms per request."""
        if not self.out.exists():
            return
        rig.say(f"  profile: {self.out}")
        for share, name in heaviest(self.out):
            rig.say(f"    {100 * share:5.1f}%  {share * cpu_ms:5.2f} ms  {name}")


class InProcessProfiled:
    """Collect what `devkit.bench.thread_profile` recorded in `scaleup serve` while the block runs: CPU time
    by stack (DIR/ack_latency-NAME.txt, py-spy's raw format) or, with BENCH_PROFILE_MODE=cprofile, pstats
    (DIR/ack_latency-NAME.prof); the SQL statements run, with their counts, in DIR/ack_latency-NAME.sql.txt.
    """

    def __init__(self, pid: int, name: str, slack: SlackEmulator) -> None:
        self._pid, self._slack = pid, slack
        self._folder = Path(os.environ["BENCH_PROFILE"])
        self._name = f"ack_latency-{name}"
        self._outs = [self._folder / f"{self._name}.{ext}" for ext in ("txt", "prof")]

    def __enter__(self) -> Self:
        wait_for_quiet(self._slack)  # the work after the acks of the run before is not this kind's
        for out in self._outs:
            out.unlink(missing_ok=True)
        os.kill(self._pid, signal.SIGUSR1)  # forget what was recorded so far
        return self

    def __exit__(self, *_: object) -> None:
        (self._folder / ".next").write_text(self._name)
        os.kill(self._pid, signal.SIGUSR2)
        deadline = time.monotonic() + 60
        while not any(out.exists() for out in self._outs) and time.monotonic() < deadline:
            time.sleep(0.1)

    def report(self, cpu_ms: float) -> None:
        """Print the heaviest functions, inclusive, as a share of the recorded CPU time."""
        for out in self._outs:
            if out.exists():
                rig.say(f"  profile: {out}")
                found = heaviest(out) if out.suffix == ".txt" else heaviest_cprofile(out)
                for share, name in found:
                    rig.say(f"    {100 * share:5.1f}%  {share * cpu_ms:5.2f} ms  {name}")


def heaviest_cprofile(path: Path, top: int = 24) -> list[tuple[float, str]]:
    """Return the functions with most CPU time under them (inclusive): the project's own, and each library
    function as called from the project's code (SQLAlchemy's `Session.execute`, slack_sdk's `views_open`…)."""
    import pstats

    stats: dict[Any, Any] = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    total = sum(tt for _cc, _nc, tt, _ct, _callers in stats.values()) or 1.0
    inclusive: Counter[str] = Counter()
    for (file, line, function), (_cc, _nc, _tt, ct, callers) in stats.items():
        name = f"{function} ({_relative(file)}:{line})"
        if PROJECT.search(f"({_relative(file)}"):
            if not ENTRY.search(f"{function} ({_relative(file)}"):
                inclusive[name] += ct
            continue
        for (caller_file, _l, _f), caller_stats in callers.items():
            if PROJECT.search(f"({_relative(caller_file)}"):
                inclusive[name] += caller_stats[3]
    return [(seconds / total, name) for name, seconds in inclusive.most_common(top)]


def _relative(file: str) -> str:
    """Return `file` relative to the project (or to site-packages for a library)."""
    root = str(Path(__file__).resolve().parents[2]) + os.sep
    return file.removeprefix(root).rpartition("site-packages" + os.sep)[2]


#: Where the project's own code lives (frames of other files are libraries').
PROJECT = re.compile(r"\((bot|exports|storage|ingest|ats|core|sync)/")
#: Frames every sample of a thread passes through, which say nothing of where its time went.
ENTRY = re.compile(
    r"^(<module>|main|run_serve|HttpServer\.serve_forever|make_wsgi_app\.<locals>\.application"
    r"|RequestScope\.after_commit\.<locals>\.<lambda>) \((bot|exports|storage)/"
)


def heaviest(path: Path, top: int = 16) -> list[tuple[float, str]]:
    """Return the functions most samples were under (inclusive): the project's own, and the first library
    function each called (SQLAlchemy's `Session.execute`, slack_sdk's `views_open`…), with their shares."""
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        total += int(count)
        frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]
        seen = set()
        for caller, frame in zip(["", *frames], frames):
            if PROJECT.search(frame) or PROJECT.search(caller):
                seen.add(frame)
        for frame in seen:
            if not ENTRY.search(frame):
                inclusive[frame] += int(count)
    return [(n / max(1, total), name) for name, n in inclusive.most_common(top)]


# --- report ----------------------------------------------------------------------------------------------


def table(results: list[Latencies]) -> None:
    """Print p50, p99 and max per app and kind."""
    rig.say(f"{'app':<14} {'kind':<11} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for result in results:
        rows = [(kind, result.by_kind[kind]) for kind in KINDS] + [("acked", result.acked())]
        for kind, values in rows:
            rig.say(
                f"{result.app:<14} {kind:<11} {len(values):>5} {rig.percentile(values, 50):>8.1f} "
                f"{rig.percentile(values, 99):>8.1f} {max(values, default=0):>8.1f}"
            )


def percentiles(result: Latencies) -> dict[str, Any]:
    """Return p50 and p99 per request kind, as saved with the results."""
    kinds = {
        k: {"p50": rig.percentile(v, 50), "p99": rig.percentile(v, 99)} for k, v in result.by_kind.items()
    }
    return {
        "by_kind": kinds,
        "acked_p99": result.p99(),
        "errors": result.errors,
        "seconds": result.seconds,
        "cpu_ms_per_request": result.cpu_ms(),
        "modals_opened": result.modals[0],
        "views_open_calls": result.modals[1],
    }


def report_database(run: DatabaseRun, args: argparse.Namespace) -> None:
    """Print one database's tables: the closed loop, then each pace."""
    rig.say()
    rig.say(f"=== {run.database}")
    rig.say(f"closed loop, {args.concurrency} concurrent (capacity: the load is what each app can take):")
    table([run.closed[BARE], run.closed[OURS]])
    for pace, apps in run.paced.items():
        rig.say()
        rig.say(f"paced at {pace:g} requests/s (as users act):")
        table([apps[BARE], apps[OURS]])
    rig.say()
    options = run.closed[OURS].by_kind["options"]
    rig.say(
        f"job options: first (cold) {run.cold_ms:.0f} ms; under load p99 {rig.percentile(options, 99):.0f} ms "
        f"with the ATS answering in {args.latency * 1000:.0f} ms ({run.ats_calls} ATS requests in all the runs)"
    )
    for label, result in [("closed loop", run.closed[OURS])] + [
        (f"paced at {pace:g}/s", apps[OURS]) for pace, apps in run.paced.items()
    ]:
        rig.say(
            f"modals opened within Slack's {TRIGGER_LIFETIME:.0f} s, {label}: {result.modals[0]} of "
            f"{result.modals[1]} (the link command's and the shortcut's, after their acks)"
        )


def report_kinds(runs: list[DatabaseRun]) -> None:
    """Print the server's CPU milliseconds per request of each kind alone, bare → ours."""
    rig.say("server CPU ms per request of each kind alone (work after the ack included), bare → ours:")
    for run in runs:
        rig.say(
            f"  {run.database:<10} "
            + "; ".join(
                f"{kind} {run.by_kind[BARE][kind].cpu_ms():.2f} → {run.by_kind[OURS][kind].cpu_ms():.2f}"
                for kind in KINDS
            )
        )


def report(runs: list[DatabaseRun], args: argparse.Namespace, total: int) -> int:
    """Print every database's figures, the capacity and paced summaries, and the headline ratio last."""
    for run in runs:
        report_database(run, args)
    rig.say()
    rig.say("capacity (closed loop): requests/s and server CPU per request (target ≤ 4 ms of ours):")
    for run in runs:
        bare, ours = run.closed[BARE], run.closed[OURS]
        rig.say(
            f"  {run.database:<10} bare Bolt {bare.total / bare.seconds:5.0f}/s {bare.cpu_ms():5.2f} ms; "
            f"scaleup serve {ours.total / ours.seconds:5.0f}/s {ours.cpu_ms():5.2f} ms "
            f"({'met' if ours.cpu_ms() <= TARGET_CPU_MS else 'not met'})"
        )
    report_kinds(runs)
    rig.say("paced: p99 of the acknowledged kinds, ours ÷ bare (target ≤ 1.5 each):")
    worst: tuple[float, str] = (0.0, "")
    for run in runs:
        for pace, apps in run.paced.items():
            ratio = run.ratio(pace)
            where = f"{run.database} at {pace:g}/s"
            rig.say(
                f"  {where:<22} {apps[OURS].p99():7.1f} ÷ {apps[BARE].p99():5.1f} ms = {ratio:5.2f}  "
                f"(ours uses {apps[OURS].cpu_ms():.2f} ms CPU per request)"
            )
            worst = max(worst, (ratio, where))
    rig.save_results(
        "ack_latency",
        {
            "requests": total,
            "concurrency": args.concurrency,
            "ats_latency": args.latency,
            "slack_latency": args.slack_latency,
            "runs": {
                run.database: {
                    "closed": {app: percentiles(r) for app, r in run.closed.items()},
                    "requests_per_second": {app: r.total / r.seconds for app, r in run.closed.items()},
                    "cpu_ms_by_kind": {
                        app: {kind: r.cpu_ms() for kind, r in kinds.items()}
                        for app, kinds in run.by_kind.items()
                    },
                    "paced": {
                        str(pace): {app: percentiles(r) for app, r in apps.items()}
                        | {"ratio": run.ratio(pace)}
                        for pace, apps in run.paced.items()
                    },
                    "cold_options_ms": run.cold_ms,
                    "ats_calls": run.ats_calls,
                }
                for run in runs
            },
            "ratio": worst[0],
            "worst": worst[1],
        },
    )
    for run in runs:
        for result in [*run.closed.values(), *(r for apps in run.paced.values() for r in apps.values())]:
            if result.errors:
                rig.say(
                    f"MISSED: {run.database}, {result.app}: {result.errors} requests were not answered 200"
                )
    paces = " and ".join(f"{p:g}" for p in args.pace)
    rig.say(
        f"paced ratio: {worst[0]:.2f} (target ≤ {TARGET_RATIO}; the worst of "
        f"{' and '.join(r.database for r in runs)} at {paces} requests/s: {worst[1]})"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or, with --bare, be the bare app's process)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--bare":
        return serve_bare(int(argv[1]), argv[2])
    parser = argparse.ArgumentParser(prog="devkit.bench.ack_latency", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="300 requests per run instead of 2,000")
    parser.add_argument("--requests", type=int, default=None, help="requests per app and run (default 2,000)")
    parser.add_argument(
        "--concurrency", type=int, default=20, help="senders of the closed loop (and paced runs)"
    )
    parser.add_argument(
        "--kind-requests",
        type=int,
        default=None,
        help="requests of each kind alone, for its CPU (default 200)",
    )
    parser.add_argument(
        "--latency", type=float, default=0.5, help="seconds the ATS emulator waits per request"
    )
    parser.add_argument(
        "--pace",
        type=float,
        nargs="+",
        default=[50.0, 150.0],
        help="requests/s of the paced runs (default 50 150)",
    )
    parser.add_argument(
        "--slack-latency",
        type=float,
        default=0.0,
        help="seconds the Slack Web API stand-in takes per call (Slack's own is about 0.1-0.3)",
    )
    parser.add_argument(
        "--kinds-only",
        action="store_true",
        help="only the CPU per request of each kind alone (no closed loop, no paced runs, no ratio)",
    )
    parser.add_argument(
        "--database", choices=["sqlite", "postgresql", "both"], default="both", help="the app's database"
    )
    args = parser.parse_args(argv)
    args.pace = [p for p in args.pace if p > 0]
    if not args.pace:
        parser.error("--pace needs at least one rate above 0: the paced ratio is the headline")
    total = args.requests or (300 if args.quick else 2_000)
    args.kind_requests = args.kind_requests or (50 if args.quick else 200)
    rig.say(f"ack latency — {rig.describe_machine()}")
    rig.say(
        f"{total} requests per app and run; closed loop at {args.concurrency} concurrent, paced at "
        f"{', '.join(f'{p:g}' for p in args.pace)}/s; ATS latency {args.latency * 1000:.0f} ms, "
        f"Slack latency {args.slack_latency * 1000:.0f} ms"
    )
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    if "postgresql" in databases and not rig.postgres_available():
        rig.say(
            f"PostgreSQL at {rig.POSTGRES_URL} does not answer: its runs are SKIPPED (BENCH_POSTGRES_URL)"
        )
        databases.remove("postgresql")
    if not databases:
        return 1
    runs = [measure(database, args, total) for database in databases]
    if args.kinds_only:
        report_kinds(runs)
        return 0
    return report(runs, args, total)


if __name__ == "__main__":
    sys.exit(main())
