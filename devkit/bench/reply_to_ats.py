"""Reply to ATS: how long from an "interested" reply reaching the ingest API to the person being in the ATS?

`scaleup serve --with-worker` runs as its own process (SQLite, the Lever emulator behind the app's default
Lever budget of 8 requests/s). Through the ingest API a search and its N candidates are loaded, then an
automatic link exporting interested responders is created, and N "interested" responses are sent one by
one at a steady pace (peers send replies as they happen). For each, the time from sending the request to
the emulator holding the candidate's record is measured.

    ratio = p95 ÷ 10 s; target ≤ 1.0 (peers poll every 10 to 30 minutes)

    python -m devkit.bench.reply_to_ats [--quick] [--responses 200] [--pace 4]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections import Counter

import httpx

from ats.registry import spec_of
from core.vocabulary import Vendor
from devkit.bench import rig
from devkit.bench.ack_latency import free_port, wait_healthy
from devkit.slack.emulator import SlackEmulator
from storage.crypto import SecretBox, generate_key
from storage.db import unit_of_work
from storage.enums import Audience, ResponseType
from storage.repositories import ApiTokenRepository, SearchRepository

TEAM = "T0BENCH02"
TARGET_SECONDS = 10.0
VENDOR = Vendor.LEVER


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures; the last line is the headline ratio."""
    parser = argparse.ArgumentParser(prog="devkit.bench.reply_to_ats", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="40 responses instead of 200")
    parser.add_argument("--responses", type=int, default=None)
    parser.add_argument("--pace", type=float, default=4.0, help="responses sent per second")
    args = parser.parse_args(argv)
    total = args.responses or (40 if args.quick else 200)
    rig.say(f"reply to ATS — {rig.describe_machine()}")
    rig.say(
        f"{total} interested responses at {args.pace:g}/s through /api/v1; {spec_of(VENDOR).label} emulator"
    )

    key = generate_key()
    ats = rig.start_emulator(VENDOR)
    slack = SlackEmulator(team_id=TEAM).start()
    proc = None
    try:
        with rig.temp_database("sqlite", "bench_reply") as url:
            engine, sessions = rig.migrated(url)
            connection_id = rig.connect_workspace(sessions, SecretBox(key), ats, team_id=TEAM)
            with unit_of_work(sessions) as session:
                _, token = ApiTokenRepository(session, TEAM).issue("bench")
            engine.dispose()
            port = free_port()
            env = rig.app_environment(url, key, slack_api_url=slack.api_url)
            proc = subprocess.Popen(
                [rig.python(), "-m", "bot.cli", "serve", "--with-worker", "--port", str(port)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            base = f"http://127.0.0.1:{port}"
            wait_healthy(base + "/healthz", proc)
            api = httpx.Client(
                base_url=base + "/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
            )
            emails = [f"reply{n}@bench.example.org" for n in range(total)]
            put = api.put("/searches/bench-search", json={"name": "Reply bench"})
            put.raise_for_status()
            for start in range(0, total, 500):
                batch = [
                    {
                        "source_id": f"c{n}",
                        "first_name": "Reply",
                        "last_name": f"Person {n}",
                        "email": emails[n],
                    }
                    for n in range(start, min(total, start + 500))
                ]
                api.post(
                    "/searches/bench-search/candidates/batch", json={"candidates": batch}
                ).raise_for_status()
            engine, sessions = rig.migrated(url)
            with unit_of_work(sessions) as session:
                search = SearchRepository(session, TEAM).get_by_source_id("bench-search")
                assert search is not None
                session.add(
                    rig.bench_link(
                        TEAM,
                        search.id,
                        connection_id,
                        rig.OPEN_JOBS[VENDOR],
                        audience=Audience.RESPONDERS,
                        response_types=[ResponseType.INTERESTED.value],
                    )
                )
            engine.dispose()
            time.sleep(
                1.0
            )  # let a first worker pass see the link (nobody has answered yet: nothing to export)
            sent: dict[str, float] = {}
            errors = 0
            started = time.time()
            for n, email in enumerate(emails):
                rig.wait_until(started + n / args.pace)
                sent[email] = time.time()
                response = api.post(
                    "/searches/bench-search/responses",
                    json={"campaign": "Outreach", "candidate_id": f"c{n}", "type": "interested"},
                )
                errors += response.status_code >= 300
            give_up = time.time() + 120
            arrived: dict[str, float] = {}
            while time.time() < give_up and len(arrived) < total:
                for email in emails:
                    if email not in arrived:
                        created = ats.created_for(email)
                        if created:
                            arrived[email] = min(c.at for c in created)
                time.sleep(0.2)
            api.close()
    finally:
        rig.stop_process(proc)
        slack.stop()
        ats.stop()
    latencies = [arrived[e] - sent[e] for e in emails if e in arrived]
    by_endpoint = Counter(
        f"{r.method} {r.path.split('/')[2] if r.path.count('/') > 1 else r.path}" for r in ats.requests()
    )
    duplicates = sum(max(0, n.get("opportunity", 0) - 1) for n in ats.created_by_email().values())
    p50, p95 = rig.percentile(latencies, 50), rig.percentile(latencies, 95)
    rig.say()
    rig.say(
        f"in the ATS: {len(latencies)}/{total}; p50 {p50:.2f}s, p95 {p95:.2f}s, max {max(latencies, default=0):.2f}s; "
        f"{errors} API errors, {duplicates} duplicates"
    )
    rig.say(
        "ATS requests per reply: " + ", ".join(f"{n / total:.2f} {k}" for k, n in by_endpoint.most_common())
    )
    rig.save_results(
        "reply_to_ats",
        {"responses": total, "pace": args.pace, "p50": p50, "p95": p95, "arrived": len(latencies)},
    )
    if len(latencies) < total:
        rig.say(f"MISSED: {total - len(latencies)} responses never reached the ATS within 2 minutes")
    rig.say(
        f"ratio: {p95 / TARGET_SECONDS:.2f} (p95 {p95:.2f}s ÷ {TARGET_SECONDS:.0f}s target; target ≤ 1.0)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
