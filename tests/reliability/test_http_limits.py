"""What one request may cost a real `scaleup serve` process (issue 18): oversized bodies are refused with 413
before they are read, unsigned bodies never reach the log, slow and idle clients are cut off and cannot keep
/healthz from answering, and the largest payloads Slack and the ingest API really send still pass."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from reliability_rig import report
from serve_rig import ServeProcess, serve_process
from slack_rig import SIGNING_SECRET, TEAM, checked, selected

from bot.features.link.forms import JobChoice, LinkDraft, StageChoice
from bot.features.link.ids import LinkIds, stage_block_id
from bot.features.link.views import LinkFormData, SearchChoice, link_modal
from bot.http_limits import HttpLimits
from core.vocabulary import Vendor
from devkit.slack.driver import view_payload
from devkit.slack.emulator import SlackEmulator
from devkit.slack.signing import interaction_body, signed_headers
from storage.db import make_engine, make_session_factory, unit_of_work
from storage.repositories import ApiTokenRepository, ensure_workspace

LIMITS = HttpLimits()
MARKER = b"SECRET-BODY-MARKER-"  # bytes of every refused body: they must never appear in the log


@pytest.fixture
def served(tmp_path: Path, slack: SlackEmulator, secret_key: str) -> Iterator[ServeProcess]:
    env = {"SCALEUP_HTTP_HEADER_SECONDS": "2", "SCALEUP_HTTP_IDLE_SECONDS": "2"}
    with serve_process(tmp_path, slack, secret_key, **env) as process:
        yield process


def raw_request(served: ServeProcess, head: bytes, body: bytes = b"", *, timeout: float = 10) -> bytes:
    """Send `head` and `body` on a new connection and return everything the server answers until it closes."""
    with socket.create_connection(served.host_port, timeout=timeout) as conn:
        conn.sendall(head)
        try:
            conn.sendall(body)
        except OSError:
            pass  # the server answered and closed before taking the body: what a cap should do
        return read_all(conn)


def read_all(conn: socket.socket) -> bytes:
    chunks = []
    try:
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    except (ConnectionResetError, TimeoutError):
        pass
    return b"".join(chunks)


def post_head(path: str, length: int, *, extra: str = "") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: scaleup\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {length}\r\n{extra}\r\n"
    ).encode()


def test_bodies_over_the_paths_cap_are_refused_before_they_are_read(served: ServeProcess) -> None:
    before = served.rss_bytes()
    declared = 200 * 1024 * 1024
    started = time.monotonic()
    answer = raw_request(served, post_head("/slack/events", declared), MARKER * 4096)
    refused_in = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"Slack requests are at most 1,048,576 bytes" in answer

    # A chunked body (no Content-Length) is read only up to the cap.
    chunk = MARKER * 3000
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(40)) + b"0\r\n\r\n"
    head = (
        b"POST /slack/events HTTP/1.1\r\nHost: scaleup\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    assert raw_request(served, head, chunked).startswith(b"HTTP/1.1 413")

    api = raw_request(served, post_head("/api/v1/searches/s1/candidates", LIMITS.api_body_bytes + 1))
    assert api.startswith(b"HTTP/1.1 413") and b"ingest API requests are at most 16,777,216 bytes" in api
    other = raw_request(served, post_head("/healthz", LIMITS.other_body_bytes + 1))
    assert other.startswith(b"HTTP/1.1 413")

    grown = served.rss_bytes() - before
    assert grown < 20 * 1024 * 1024, f"RSS grew {grown:,} bytes"
    assert httpx.get(served.url + "/healthz").json() == {"ok": True}
    report(
        "oversized bodies",
        declared_bytes=declared,
        answered="413 before the body",
        refused_in_ms=round(refused_in * 1000),
        rss_growth_mb=round(grown / 1024 / 1024, 1),
    )


def test_unsigned_bodies_never_reach_the_log(served: ServeProcess) -> None:
    body = (b"payload=" + MARKER * 50_000)[
        : LIMITS.slack_body_bytes
    ]  # just under the cap: read, then refused
    answer = httpx.post(
        served.url + "/slack/events",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": "1"},
    )
    forged = httpx.post(
        served.url + "/slack/events",
        content=b"payload=" + MARKER,
        headers={**signed_headers("not-the-secret", "x"), "X-Slack-Signature": "v0=" + "0" * 64},
    )
    assert answer.status_code == forged.status_code == 401
    log = served.log_text()
    assert MARKER.decode() not in log
    assert "without a valid signature" in log  # said, with its size only
    report("unsigned bodies", body_bytes=len(body), answered=401, body_bytes_logged=0)


def test_slow_and_idle_clients_are_cut_off_and_health_still_answers(served: ServeProcess) -> None:
    # 200 clients that send half a header and stop: they hold connection slots, never threads.
    idle = []
    for _ in range(200):
        conn = socket.create_connection(served.host_port, timeout=10)
        conn.sendall(b"POST /slack/events HTTP/1.1\r\nHost: scaleup\r\nContent-Le")
        idle.append(conn)
    started = time.monotonic()
    health = httpx.get(served.url + "/healthz", timeout=5)  # waited 120 s for a slot before the limits
    health_ms = round((time.monotonic() - started) * 1000)
    assert health.json() == {"ok": True}

    # A client trickling its headers a byte at a time past SCALEUP_HTTP_HEADER_SECONDS gets 408.
    with socket.create_connection(served.host_port, timeout=10) as slow:
        slow.sendall(b"POST /slack/events HTTP/1.1\r\n")
        answer = b""
        for byte in b"X-Slow: " + b"a" * 60:
            try:
                slow.sendall(bytes([byte]))
            except OSError:
                break
            time.sleep(0.1)
            slow.setblocking(False)
            try:
                answer = slow.recv(4096)
            except BlockingIOError:
                pass
            finally:
                slow.setblocking(True)
            if answer:
                break
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]

    # The idle ones are closed by SCALEUP_HTTP_IDLE_SECONDS (waitress checks every second here).
    closed = 0
    for conn in idle:
        closed += read_all(conn) == b""
        conn.close()
    assert closed == len(idle)
    report("slow clients", half_header_connections=200, healthz_ms=health_ms, trickle="408", idle="closed")


def full_link_submission() -> bytes:
    """Return the link modal at its fullest, submitted: 100 searches, 100 stages, names at Slack's 75 chars."""
    name = "n" * 75
    data = LinkFormData(
        vendor=Vendor.GREENHOUSE,
        searches=[SearchChoice(i, f"{i:03d}{name}"[:75]) for i in range(100)],
        search_count=100,
        draft=LinkDraft(search_id=1, job=JobChoice("4001", name * 3), stage_id="40011", alert_channel="C1"),
        stages=[StageChoice(f"4001{i:03d}", f"{i:03d}{name}"[:75]) for i in range(100)],
        jobs_refreshed_at=None,
        jobs_refreshing=False,
        now=datetime(2026, 12, 5, tzinfo=UTC),
        interval_minutes=5,
    )
    view = {**link_modal(data).to_dict(), "id": "V1", "hash": "h", "team_id": TEAM}
    values = {
        LinkIds.SEARCH_BLOCK: {LinkIds.SEARCH_SELECT: selected("1", name)},
        stage_block_id("4001"): {LinkIds.STAGE_SELECT: selected("4001011", name)},
        LinkIds.EMAILS_BLOCK: {LinkIds.EMAILS_CHECKBOXES: checked("work", "personal", "other")},
    }
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "acme"},
        "user": {"id": "U1", "team_id": TEAM},
        "api_app_id": "A0001",
        "trigger_id": "1.2.3",
        "view": view_payload(view, values),
    }
    return interaction_body(payload).encode()


def test_the_largest_real_payloads_still_pass(served: ServeProcess) -> None:
    body = full_link_submission()
    answer = httpx.post(
        served.url + "/slack/events", content=body, headers=signed_headers(SIGNING_SECRET, body.decode())
    )
    assert answer.status_code == 200, answer.text[:300]

    engine = make_engine(f"sqlite:///{served.database}")
    with unit_of_work(make_session_factory(engine)) as session:
        ensure_workspace(session, TEAM)
        token = ApiTokenRepository(session, TEAM).issue("limits")[1]
    engine.dispose()
    batch = {
        "candidates": [
            {
                "source_id": f"cand-{n:04d}-" + "s" * 100,
                "first_name": "F" * 100,
                "last_name": "L" * 100,
                **{
                    f"{k}_email": f"person{n}.{k}@{'d' * 60}.example.com"
                    for k in ("work", "personal", "other")
                },
                "email": f"person{n}@{'d' * 60}.example.com",
                "linkedin_url": f"https://www.linkedin.com/in/person-{n}-" + "x" * 100,
                "title": "T" * 200,
                "company": "C" * 200,
                "location": "L" * 200,
                "phone": "+1 555 0100",
            }
            for n in range(1_000)
        ]
    }
    raw = json.dumps(batch).encode()
    auth = {"Authorization": f"Bearer {token}"}
    assert (
        httpx.put(served.url + "/api/v1/searches/big", json={"name": "Big"}, headers=auth).status_code == 200
    )
    stored = httpx.post(
        served.url + "/api/v1/searches/big/candidates/batch",
        content=raw,
        headers={**auth, "Content-Type": "application/json"},
        timeout=60,
    )
    assert stored.status_code == 200, stored.text[:300]
    report(
        "largest real payloads",
        link_modal_submission_bytes=len(body),
        slack_cap_bytes=LIMITS.slack_body_bytes,
        api_batch_bytes=len(raw),
        api_cap_bytes=LIMITS.api_body_bytes,
    )
