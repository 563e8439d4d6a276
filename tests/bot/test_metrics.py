"""`GET /metrics` (bot/metrics.py) over real HTTP: the app served on loopback after an export pass over the
Greenhouse emulator and a signed slash command, a `scaleup worker --metrics-port` process answering on its
own port, and what the page must never show."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from export_rig import add_people, linked_search
from export_world import wait_until
from prometheus_client.parser import text_string_to_metric_families
from scheduling_rig import SCALEUP, add_link, connect, reaped, running_emulator, start_worker, worker_env
from slack_rig import PUBLIC_CHANNEL, SIGNING_SECRET, TEAM, AppServer
from sqlalchemy import func, select

from bot.metrics import Metrics, slack_kind
from bot.worker import build_worker, run_once
from devkit.slack.emulator import DEFAULT_TOKEN
from devkit.slack.signing import command_body, event_body, interaction_body
from storage import migrate
from storage.crypto import SecretBox
from storage.db import make_engine, make_session_factory, unit_of_work
from storage.enums import AlertKind, AlertStatus
from storage.models import Alert

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Return every sample of an exposition, keyed by its name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """Return one sample's value; fail naming it when the page lacks it."""
    key = (name, frozenset(labels.items()))
    assert key in samples, f"{name}{labels} is not on the page"
    return samples[key]


def scrape(url: str) -> tuple[httpx.Response, Samples]:
    """GET `url` + /metrics and return the answer with its samples."""
    response = httpx.get(url + "/metrics", timeout=15)
    assert response.status_code == 200, response.text
    return response, parse(response.text)


def test_the_page_shows_an_export_pass_its_ats_requests_and_slack_acks_and_no_personal_data(
    export_server: AppServer, fast_greenhouse
) -> None:
    search_id, _ = linked_search(export_server, fast_greenhouse)
    people = add_people(export_server, search_id, 5, without_email=1)
    fast_greenhouse.faults.fail_next(1, status=429, method="GET")  # retried in-line, counted once
    # The worker on the server's own services, as `scaleup serve --with-worker` runs it: one registry.
    worker = build_worker(export_server.services, worker_id="metrics-test")
    try:
        run_once(worker)
    finally:
        worker.close()
    assert export_server.command("help").status_code == 200
    with unit_of_work(export_server.sessions) as session:
        # One alert waiting for the poster, one given up (besides what the pass's own alerts became).
        session.add(Alert(team_id=TEAM, kind=AlertKind.OUTAGE, incident_key="m:1", channel=PUBLIC_CHANNEL))
        session.add(
            Alert(team_id=TEAM, kind=AlertKind.FAILED, incident_key="m:2", status=AlertStatus.UNDELIVERABLE)
        )
        session.flush()
        alerts = dict(session.execute(select(Alert.status, func.count()).group_by(Alert.status)).all())

    response, samples = scrape(export_server.url)

    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert value(samples, "scaleup_database_up") == 1
    assert value(samples, "scaleup_exports", state="exported", vendor="greenhouse") == len(people) - 1
    assert value(samples, "scaleup_exports", state="reachout_on_linkedin", vendor="greenhouse") == 1
    assert value(samples, "scaleup_exports", state="failed", vendor="lever") == 0
    for status in (AlertStatus.PENDING, AlertStatus.UNDELIVERABLE):
        assert value(samples, "scaleup_alerts_undelivered", status=status.value) == alerts[status] >= 1
    assert value(samples, "scaleup_links_due") == 0  # the pass just served the link
    assert value(samples, "scaleup_exports_retry_due") == 0
    greenhouse = {labels: v for (name, labels), v in samples.items() if name == "scaleup_ats_requests_total"}
    by_status = {
        dict(labels)["status"]: v for labels, v in greenhouse.items() if ("vendor", "greenhouse") in labels
    }
    assert by_status["429"] == 1 and sum(by_status.values()) > len(people), by_status
    assert value(samples, "scaleup_ats_rate_limited_total", vendor="greenhouse") == 1
    assert value(samples, "scaleup_ats_request_seconds_count", vendor="greenhouse") == sum(by_status.values())
    assert value(samples, "scaleup_export_pass_seconds_count", kind="export") == 1
    assert value(samples, "scaleup_export_pass_seconds_count", kind="confirm") == 1
    assert value(samples, "scaleup_slack_acks_total", kind="command") == 1
    assert value(samples, "scaleup_slack_ack_seconds_count", kind="command") == 1
    assert value(samples, "scaleup_slack_acks_total", kind="view_submission") == 0
    assert value(samples, "process_resident_memory_bytes") > 0

    # Counts only: no address, team, token, key or vendor credential appears on the page.
    text = response.text
    secrets = [*fast_greenhouse.connection_config().secrets.values(), DEFAULT_TOKEN, SIGNING_SECRET]
    assert "@" not in text and "example.com" not in text and TEAM not in text
    assert not [secret for secret in secrets if secret in text]
    assert export_server.services.settings.secret_key_value not in text


@pytest.mark.parametrize("app_server", [{"SCALEUP_METRICS": False}], indirect=True)
def test_the_page_can_be_turned_off(app_server: AppServer) -> None:
    assert app_server.http.get(app_server.url + "/metrics").status_code == 404
    assert app_server.http.get(app_server.url + "/healthz").status_code == 200


def test_the_page_answers_get_only(app_server: AppServer) -> None:
    assert app_server.http.post(app_server.url + "/metrics", content=b"x").status_code == 404
    assert app_server.http.get(app_server.url + "/metrics/").status_code == 404


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (command_body(text="help", team_id=TEAM, user_id="U1", trigger_id="t", response_url="u"), "command"),
        (interaction_body({"type": "block_actions", "actions": []}), "action"),
        (interaction_body({"type": "view_submission", "view": {}}), "view_submission"),
        (interaction_body({"type": "view_closed", "view": {}}), "view_closed"),
        (interaction_body({"type": "message_action", "callback_id": "x"}), "shortcut"),
        (interaction_body({"type": "shortcut", "callback_id": "x"}), "shortcut"),
        (interaction_body({"type": "block_suggestion", "value": "a"}), "options"),
        (event_body({"type": "event_callback", "event": {"type": "app_home_opened"}}), "event"),
        (event_body({"type": "url_verification", "challenge": "c"}), "other"),
        ("payload=not-json", "other"),
        ("&".join(f"f{n}=1" for n in range(300)), "other"),
        ("{", "other"),
        ("", "other"),
    ],
)
def test_slack_requests_are_told_apart_by_kind(body: str, kind: str) -> None:
    assert slack_kind(body.encode()) == kind


def test_a_database_that_does_not_answer_is_a_zero_not_a_failed_page() -> None:
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")  # nothing listens on port 1
    try:
        metrics = Metrics(make_session_factory(engine, read_only=True), process=False)
        server = metrics.wsgi()
        status: list[str] = []
        body = b"".join(
            server({"REQUEST_METHOD": "GET", "PATH_INFO": "/metrics"}, lambda s, h: status.append(s))
        )
    finally:
        engine.dispose()
    samples = parse(body.decode())
    assert status == ["200 OK"]
    assert value(samples, "scaleup_database_up") == 0
    assert not [name for name, _ in samples if name == "scaleup_exports"]
    assert value(samples, "scaleup_slack_acks_total", kind="command") == 0


def wait_for_line(log: Path, pattern: str, timeout: float = 60) -> re.Match[str]:
    """Return the first match of `pattern` in the growing file `log`; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = re.search(pattern, log.read_text(errors="replace")) if log.exists() else None
        if match:
            return match
        time.sleep(0.05)
    pytest.fail(f"no line matching {pattern!r} in the log:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.mark.timeout(180)
def test_a_worker_process_serves_its_own_metrics_on_its_port(tmp_path: Path, secret_key: str) -> None:
    url = f"sqlite:///{tmp_path / 'worker.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    sessions = make_session_factory(engine)
    log = tmp_path / "worker.log"
    with running_emulator() as emulator:
        add_link(sessions, connect(sessions, SecretBox(secret_key), emulator), "metrics", 3)
        worker = start_worker(worker_env(url, secret_key), log, "--metrics-port", "0")
        with reaped(worker):
            found = wait_for_line(log, r"worker's metrics at (http://127\.0\.0\.1:\d+)/metrics")
            metrics_url = found.group(1)

            def exported() -> Samples | None:
                _, samples = scrape(metrics_url)
                done = value(samples, "scaleup_exports", state="exported", vendor="lever") == 3
                # The pass is timed when it ends, a moment after its exports are stored.
                timed = value(samples, "scaleup_export_pass_seconds_count", kind="export") >= 1
                return samples if done and timed else None

            try:  # a hang guard, not a speed check: the worker's first pass has a minute
                samples = wait_until(exported, timeout=60)
            except TimeoutError:
                pytest.fail(log.read_text()[-3000:])
            lever = [
                v
                for (name, labels), v in samples.items()
                if name == "scaleup_ats_requests_total" and ("vendor", "lever") in labels
            ]
            assert sum(lever) >= 3
            assert value(samples, "scaleup_export_pass_seconds_count", kind="export") >= 1
            assert (
                value(samples, "scaleup_slack_acks_total", kind="command") == 0
            )  # a worker answers no Slack
            assert httpx.get(metrics_url + "/healthz", timeout=5).status_code == 404
            worker.terminate()  # SIGTERM: the graceful stop closes the metrics port too
            assert worker.wait(60) == 0, log.read_text()[-3000:]
    engine.dispose()
    with pytest.raises(httpx.TransportError):
        httpx.get(metrics_url + "/metrics", timeout=2)


def test_worker_refuses_a_metrics_port_with_once_or_out_of_range() -> None:
    for args, said in (
        (["--once", "--metrics-port", "9100"], "--once exits after one pass"),
        (["--metrics-port", "70000"], "is not a port"),
    ):
        done = subprocess.run(
            [SCALEUP, "worker", *args], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 2 and said in done.stderr, done.stderr
