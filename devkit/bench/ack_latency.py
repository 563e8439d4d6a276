"""Acknowledgement latency: does Slack ever wait on the ATS?

`scaleup serve` runs as its own process (SQLite, the Slack Web API stand-in, an ATS emulator answering every
request 500 ms late), and so does a bare Bolt app on the same server stack (waitress via
`bot.server.HttpServer`, Bolt's WSGI handler) whose listeners only `ack()`. Signed requests go over loopback,
N in all at C concurrent, mixed evenly over four kinds:

- `/scaleup link <search>` (ack, then the link modal is opened),
- a `block_suggestion` of the link modal's job select (answers with the cached job options),
- a `view_submission` of the link modal (validated and saved),
- the "Export to ATS" message shortcut (ack, then the prefilled modal is opened).

    ratio = our p99 ÷ the bare app's p99 over the acknowledged kinds (all but the options); target ≤ 1.5

Options must answer with data, so they are reported on their own against the emulator's latency.

    python -m devkit.bench.ack_latency [--quick] [--requests 2000] [--concurrency 20] [--latency 0.5]
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


@dataclass
class Latencies:
    """Milliseconds per request kind, and the failures."""

    app: str
    by_kind: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    errors: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # the server process's CPU time (user + system) during the run

    @property
    def total(self) -> int:
        """Return how many requests were sent."""
        return sum(len(v) for v in self.by_kind.values())

    def acked(self) -> list[float]:
        """Return the latencies of every kind that only has to be acknowledged."""
        return [ms for kind in ACKED for ms in self.by_kind[kind]]


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


def requests_for(
    driver: SlackDriver, view: dict[str, Any], values: dict[str, Any]
) -> dict[str, Callable[[], Any]]:
    """Return, per kind, a function sending one such request and returning the response."""
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
    name: str,
    url: str,
    secret: str,
    view: dict[str, Any],
    values: dict[str, Any],
    total: int,
    concurrency: int,
    pid: int,
    rate: float = 0.0,
) -> Latencies:
    """Send `total` requests, kinds in turn, from `concurrency` threads each with its own connection.

    With `rate` 0 each thread sends its next request as soon as the last is answered (a closed loop: the
    load is whatever the app can take). With `rate`, request n is due n/rate seconds after the start
    whatever the answers (an open loop, as users act), and its latency counts from when it was due.
    """
    result = Latencies(name)
    cpu_before = cpu_seconds(pid)
    clients = [httpx.Client(timeout=30) for _ in range(concurrency)]
    drivers = [SlackDriver(url, secret, TEAM, client) for client in clients]
    senders = [requests_for(d, view, values) for d in drivers]
    started = time.perf_counter()

    def one(n: int) -> tuple[str, float, bool]:
        kind = KINDS[n % len(KINDS)]
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
    result.cpu_seconds = cpu_seconds(pid) - cpu_before
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or, with --bare, be the bare app's process)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--bare":
        return serve_bare(int(argv[1]), argv[2])
    parser = argparse.ArgumentParser(prog="devkit.bench.ack_latency", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 requests instead of 2,000")
    parser.add_argument("--requests", type=int, default=None, help="requests per app (default 2,000)")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument(
        "--latency", type=float, default=0.5, help="seconds the ATS emulator waits per request"
    )
    parser.add_argument(
        "--pace",
        type=float,
        default=50.0,
        help="requests/s of the second, paced run (as users act, below what either app can take; 0: skip)",
    )
    parser.add_argument(
        "--slack-latency",
        type=float,
        default=0.0,
        help="seconds the Slack Web API stand-in takes per call (Slack's own is about 0.1-0.3)",
    )
    parser.add_argument(
        "--database", choices=["sqlite", "postgresql"], default="sqlite", help="the app's database"
    )
    args = parser.parse_args(argv)
    total = args.requests or (200 if args.quick else 2_000)
    rig.say(f"ack latency — {rig.describe_machine()}")
    rig.say(
        f"{total} requests per app at {args.concurrency} concurrent; "
        f"ATS latency {args.latency * 1000:.0f} ms, Slack latency {args.slack_latency * 1000:.0f} ms"
    )

    secret = secrets.token_hex(16)
    key = generate_key()
    ats = rig.start_emulator(Vendor.GREENHOUSE)
    # Like Slack, the stand-in refuses a modal opened more than 3 s after the user acted.
    slack = SlackEmulator(team_id=TEAM, trigger_lifetime=TRIGGER_LIFETIME).start()
    slack.add_user(USER, admin=True)
    slack.add_channel(CHANNEL, "recruiting")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with rig.temp_database(args.database, "bench_ack") as url:
            engine, sessions = rig.migrated(url)
            rig.connect_workspace(sessions, SecretBox(key), ats, team_id=TEAM)
            with unit_of_work(sessions) as session:
                search = SearchRepository(session, TEAM).get_or_create(SEARCH)
                session.flush()
                search_id = search.id
            rig.seed_candidates(engine, TEAM, [search_id] * 50, email="ack{i}@bench.example.org")
            engine.dispose()
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "SCALEUP_SECRET_KEY": key,
                "SCALEUP_ATS_PRIVATE_URLS": "1",  # the ATS emulators listen on loopback
                "SLACK_SIGNING_SECRET": secret,
                "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
                "SLACK_API_URL": slack.api_url,
                "LOG_LEVEL": "warning",
            }
            ours_port, bare_port = free_port(), free_port()
            procs.append(
                subprocess.Popen(
                    [rig.python(), "-m", "bot.cli", "serve", "--port", str(ours_port)],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            procs.append(
                subprocess.Popen(
                    [rig.python(), "-m", "devkit.bench.ack_latency", "--bare", str(bare_port), secret],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            ours_url, bare_url = f"http://127.0.0.1:{ours_port}", f"http://127.0.0.1:{bare_port}"
            wait_healthy(ours_url + "/healthz", procs[0])
            wait_healthy(bare_url + "/slack/events", procs[1])

            # Open the link modal once and choose a job, as a recruiter would, to get a real view and form.
            with httpx.Client(timeout=30) as client:
                driver = SlackDriver(ours_url, secret, TEAM, client)
                answer_json(driver.command(f"link {SEARCH}", user=USER, channel=CHANNEL))
                view = wait_for_view(slack)
                started = time.perf_counter()
                first = answer_json(
                    driver.interact(
                        driver.suggestion(view, LinkIds.JOB_SELECT, LinkIds.JOB_BLOCK, "", user=USER)
                    )
                )
                cold_ms = (time.perf_counter() - started) * 1000
                options = [o for g in first.get("option_groups", []) for o in g["options"]] + first.get(
                    "options", []
                )
                job = options[0]["value"] if options else rig.OPEN_JOBS[Vendor.GREENHOUSE]
            values: dict[str, Any] = {
                LinkIds.SEARCH_BLOCK: {LinkIds.SEARCH_SELECT: selected(str(search_id))},
                LinkIds.JOB_BLOCK: {LinkIds.JOB_SELECT: selected(job)},
                LinkIds.EXPORT_AS_BLOCK: {LinkIds.EXPORT_AS_RADIO: selected(ExportAs.APPLICANT)},
                LinkIds.MODE_BLOCK: {LinkIds.MODE_RADIO: selected(LinkMode.AUTOMATIC)},
                LinkIds.AUDIENCE_BLOCK: {LinkIds.AUDIENCE_RADIO: selected(Audience.ALL)},
                LinkIds.CHANNEL_BLOCK: {LinkIds.CHANNEL_SELECT: conversation(CHANNEL)},
            }
            # Every ATS request is slow from now on: nothing on the way to an ack may wait for one.
            ats.faults.set_latency(args.latency)
            slack.set_latency(args.slack_latency)
            results, paced = [], []
            apps = (("bare Bolt", bare_url, procs[1].pid), ("scaleup serve", ours_url, procs[0].pid))
            for name, target, pid in apps:
                hammer(name, target, secret, view, values, min(100, total), args.concurrency, pid)  # warm up
                slack.reset()
                results.append(hammer(name, target, secret, view, values, total, args.concurrency, pid))
                rig.say(
                    f"  {name}: {total} requests in {results[-1].seconds:.1f}s, {results[-1].errors} not 200"
                )
            wait_for_quiet(slack)
            opens = slack.calls("views.open")
            opened = sum("_view_id" in call.payload for call in opens)
            if args.pace:
                for name, target, pid in apps:
                    paced.append(
                        hammer(name, target, secret, view, values, total, args.concurrency, pid, args.pace)
                    )
                    rig.say(f"  {name}, paced at {args.pace:g}/s: {paced[-1].errors} not 200")
            ats_calls = len(ats.requests())
    finally:
        for proc in procs:
            rig.stop_process(proc)
        slack.stop()
        ats.stop()
    return report(results, paced, cold_ms, ats_calls, (opened, len(opens)), args, total)


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


def percentiles(result: Latencies) -> dict[str, dict[str, float]]:
    """Return p50 and p99 per request kind, as saved with the results."""
    return {
        k: {"p50": rig.percentile(v, 50), "p99": rig.percentile(v, 99)} for k, v in result.by_kind.items()
    }


def acked_ratio(results: list[Latencies]) -> float:
    """Return our p99 over the acknowledged kinds ÷ the bare app's."""
    bare, ours = results
    return rig.percentile(ours.acked(), 99) / rig.percentile(bare.acked(), 99)


def report(
    results: list[Latencies],
    paced: list[Latencies],
    cold_ms: float,
    ats_calls: int,
    modals: tuple[int, int],
    args: argparse.Namespace,
    total: int,
) -> int:
    """Print the tables and the headline ratio."""
    bare, ours = results
    rig.say()
    rig.say(f"closed loop, {args.concurrency} concurrent (the load is what each app can take):")
    table(results)
    if paced:
        rig.say()
        rig.say(f"paced at {args.pace:g} requests/s (as users act):")
        table(paced)
        rig.say(f"paced ratio (p99 of the acknowledged kinds, ours ÷ bare): {acked_ratio(paced):.2f}")
    rig.say()
    rig.say(
        f"job options: first (cold) {cold_ms:.0f} ms; "
        f"under load p99 {rig.percentile(ours.by_kind['options'], 99):.0f} ms "
        f"with the ATS answering in {args.latency * 1000:.0f} ms ({ats_calls} ATS requests during the run)"
    )
    rig.say(
        f"modals the app opened within Slack's {TRIGGER_LIFETIME:.0f} s: {modals[0]} of {modals[1]} "
        "(the link command's and the shortcut's, after their acks)"
    )
    for result in results:
        rig.say(
            f"{result.app}: {result.total / result.seconds:.0f} requests/s, "
            f"{result.cpu_seconds * 1000 / result.total:.2f} ms of server CPU per request"
        )
    ratio = acked_ratio(results)
    rig.save_results(
        "ack_latency",
        {
            "requests": total,
            "concurrency": args.concurrency,
            "ats_latency": args.latency,
            "apps": {r.app: percentiles(r) for r in results},
            "ratio": ratio,
            "slack_latency": args.slack_latency,
            "modals_opened": modals[0],
            "views_open_calls": modals[1],
            "cpu_ms_per_request": {r.app: r.cpu_seconds * 1000 / r.total for r in results},
            "requests_per_second": {r.app: r.total / r.seconds for r in results},
            "pace": args.pace,
            "paced": {r.app: percentiles(r) for r in paced},
            "paced_ratio": acked_ratio(paced) if paced else None,
        },
    )
    for result in results + paced:
        if result.errors:
            rig.say(f"MISSED: {result.app}: {result.errors} requests were not answered 200")
    rig.say(
        f"ratio: {ratio:.2f} (target ≤ 1.5; p99 of the acknowledged kinds: scaleup serve "
        f"{rig.percentile(ours.acked(), 99):.1f} ms ÷ bare Bolt {rig.percentile(bare.acked(), 99):.1f} ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
