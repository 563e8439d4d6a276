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

    python -m bench.ack_latency [--quick] [--requests 2000] [--concurrency 20] [--latency 0.5]
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
from typing import Any

import httpx

from ats.types import Vendor
from bench import rig
from bot.features.link.ids import LinkIds
from bot.ids import Shortcut
from bot.slack_driver import SlackDriver, answer_json, conversation, selected
from bot.slack_emulator import DEFAULT_TOKEN, SlackEmulator
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
) -> Latencies:
    """Send `total` requests, kinds in turn, from `concurrency` threads each with its own connection."""
    result = Latencies(name)
    clients = [httpx.Client(timeout=30) for _ in range(concurrency)]
    drivers = [SlackDriver(url, secret, TEAM, client) for client in clients]
    senders = [requests_for(d, view, values) for d in drivers]

    def one(n: int) -> tuple[str, float, bool]:
        kind = KINDS[n % len(KINDS)]
        send = senders[n % concurrency][kind]
        start = time.perf_counter()
        response = send()
        return kind, (time.perf_counter() - start) * 1000, response.status_code == 200

    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(concurrency) as pool:
            for kind, ms, ok in pool.map(one, range(total)):
                result.by_kind[kind].append(ms)
                result.errors += not ok
    finally:
        for client in clients:
            client.close()
    result.seconds = time.perf_counter() - started
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or, with --bare, be the bare app's process)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--bare":
        return serve_bare(int(argv[1]), argv[2])
    parser = argparse.ArgumentParser(prog="bench.ack_latency", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 requests instead of 2,000")
    parser.add_argument("--requests", type=int, default=None, help="requests per app (default 2,000)")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument(
        "--latency", type=float, default=0.5, help="seconds the ATS emulator waits per request"
    )
    parser.add_argument(
        "--database", choices=["sqlite", "postgresql"], default="sqlite", help="the app's database"
    )
    args = parser.parse_args(argv)
    total = args.requests or (200 if args.quick else 2_000)
    rig.say(f"ack latency — {rig.describe_machine()}")
    rig.say(
        f"{total} requests per app at {args.concurrency} concurrent; ATS latency {args.latency * 1000:.0f} ms"
    )

    secret = secrets.token_hex(16)
    key = generate_key()
    ats = rig.start_emulator(Vendor.GREENHOUSE)
    slack = SlackEmulator(team_id=TEAM).start()
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
                "SLACK_SIGNING_SECRET": secret,
                "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
                "SLACK_API_URL": slack.api_url,
                "SCALEUP_LOG_LEVEL": "WARNING",
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
                    [rig.python(), "-m", "bench.ack_latency", "--bare", str(bare_port), secret],
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
            results = []
            for name, target in (("bare Bolt", bare_url), ("scaleup serve", ours_url)):
                hammer(name, target, secret, view, values, min(100, total), args.concurrency)  # warm up
                results.append(hammer(name, target, secret, view, values, total, args.concurrency))
                rig.say(
                    f"  {name}: {total} requests in {results[-1].seconds:.1f}s, {results[-1].errors} not 200"
                )
            ats_calls = len(ats.requests())
    finally:
        for proc in procs:
            rig.stop_process(proc)
        slack.stop()
        ats.stop()
    return report(results, cold_ms, ats_calls, args, total)


def wait_for_view(slack: SlackEmulator, timeout: float = 10.0) -> dict[str, Any]:
    """Return the modal the app opened (views.open runs after the ack)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            return slack.latest_view()
        except (LookupError, IndexError, AssertionError):
            time.sleep(0.05)
    raise RuntimeError("the app opened no modal")


def report(
    results: list[Latencies], cold_ms: float, ats_calls: int, args: argparse.Namespace, total: int
) -> int:
    """Print the table and the headline ratio."""
    bare, ours = results
    rig.say()
    rig.say(f"{'app':<14} {'kind':<11} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for result in results:
        for kind in KINDS:
            values = result.by_kind[kind]
            rig.say(
                f"{result.app:<14} {kind:<11} {len(values):>5} {rig.percentile(values, 50):>8.1f} "
                f"{rig.percentile(values, 99):>8.1f} {max(values, default=0):>8.1f}"
            )
        acked = result.acked()
        rig.say(
            f"{result.app:<14} {'acked':<11} {len(acked):>5} {rig.percentile(acked, 50):>8.1f} "
            f"{rig.percentile(acked, 99):>8.1f} {max(acked, default=0):>8.1f}"
        )
    rig.say(
        f"job options: first (cold) {cold_ms:.0f} ms; under load p99 {rig.percentile(ours.by_kind['options'], 99):.0f} ms "
        f"with the ATS answering in {args.latency * 1000:.0f} ms ({ats_calls} ATS requests during the run)"
    )
    ratio = rig.percentile(ours.acked(), 99) / rig.percentile(bare.acked(), 99)
    rig.save_results(
        "ack_latency",
        {
            "requests": total,
            "concurrency": args.concurrency,
            "ats_latency": args.latency,
            "apps": {
                r.app: {
                    k: {"p50": rig.percentile(v, 50), "p99": rig.percentile(v, 99)}
                    for k, v in r.by_kind.items()
                }
                for r in results
            },
            "ratio": ratio,
        },
    )
    for result in results:
        if result.errors:
            rig.say(f"MISSED: {result.app}: {result.errors} requests were not answered 200")
    rig.say(
        f"ratio: {ratio:.2f} (target ≤ 1.5; p99 of the acknowledged kinds: scaleup serve "
        f"{rig.percentile(ours.acked(), 99):.1f} ms ÷ bare Bolt {rig.percentile(bare.acked(), 99):.1f} ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
