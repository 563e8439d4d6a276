"""The app's metrics in Prometheus' text format: one registry per process, built by the wiring
(`bot.wiring.Services.metrics`), served at `GET /metrics` by `scaleup serve` and on its own port by
`scaleup worker --metrics-port`.

Each process counts what it did itself (ATS requests, worker passes, Slack acknowledgements): with several
`serve` or `worker` processes, scrape every one and sum them in Prometheus. The database figures (exports by
state and vendor, work due, undelivered alerts) are read at scrape time and are the same from every process:
aggregate them with `max`, not `sum`.

Labels are bounded vocabularies (export state, vendor, request kind, HTTP status, alert status): no
workspace, user, email, job or token ever becomes a label or a value, so the page exposes nobody's data.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from prometheus_client import CollectorRegistry, Counter, Histogram, PlatformCollector, ProcessCollector
from prometheus_client import make_wsgi_app as prometheus_wsgi_app
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ats.http import SentRequest
from core.vocabulary import Vendor
from exports.gauges import read_gauges
from exports.scheduling import PASS_KINDS
from storage.base import utcnow

log = logging.getLogger(__name__)

METRICS_PATH = "/metrics"

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: What a Slack request is, by the `type` of its payload (commands carry `command=` instead).
SLACK_KINDS = {
    "event_callback": "event",
    "block_actions": "action",
    "interactive_message": "action",
    "view_submission": "view_submission",
    "view_closed": "view_closed",
    "shortcut": "shortcut",
    "message_action": "shortcut",
    "block_suggestion": "options",
    "dialog_suggestion": "options",
}
COMMAND, OTHER = "command", "other"

# Slack wants its answer within 3 seconds; an ATS call may take up to its 20-second timeout; a worker's
# pass is bounded by SCALEUP_WORKER_LINK_SECONDS per link, over however many links are due.
ACK_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
ATS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0)
PASS_BUCKETS = (0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)


class Metrics:
    """One process's metrics and the registry they are exposed from.

    Args:
        read_sessions: read-only sessions for the database figures, read at each scrape; None leaves them
            out (tests of the counters alone).
        now: the clock the database figures judge "due" by.
        process: add the standard `process_*` and `python_info` metrics of this process.
    """

    def __init__(
        self,
        read_sessions: sessionmaker[Session] | None,
        *,
        now: Callable[[], datetime] = utcnow,
        process: bool = True,
    ) -> None:
        self.registry = registry = CollectorRegistry()
        self.ats_requests = Counter(
            "scaleup_ats_requests",
            "ATS requests sent (every try, retries included), by vendor and HTTP status (no_answer: none came)",
            ("vendor", "status"),
            registry=registry,
        )
        self.ats_request_seconds = Histogram(
            "scaleup_ats_request_seconds",
            "Time from sending an ATS request to its answer, by vendor (waits for the rate budget excluded)",
            ("vendor",),
            buckets=ATS_BUCKETS,
            registry=registry,
        )
        self.ats_rate_limited = Counter(
            "scaleup_ats_rate_limited",
            "ATS answers asking the app to slow down (HTTP 429 or the vendor's equivalent), by vendor",
            ("vendor",),
            registry=registry,
        )
        self.export_pass_seconds = Histogram(
            "scaleup_export_pass_seconds",
            "Duration of the worker's runs: export (due links), retry (due retries), confirm (processing)",
            ("kind",),
            buckets=PASS_BUCKETS,
            registry=registry,
        )
        self.slack_acks = Counter(
            "scaleup_slack_acks",
            "Slack requests answered over HTTP, by kind",
            ("kind",),
            registry=registry,
        )
        self.slack_ack_seconds = Histogram(
            "scaleup_slack_ack_seconds",
            "Time from a Slack request reaching the app to its answer (Slack allows 3 s), by kind",
            ("kind",),
            buckets=ACK_BUCKETS,
            registry=registry,
        )
        # Every series that can exist starts at zero, so rates and alerts work before the first event.
        for vendor in Vendor:
            self.ats_rate_limited.labels(vendor.value)
        for kind in PASS_KINDS:
            self.export_pass_seconds.labels(kind)
        for kind in dict.fromkeys([COMMAND, *SLACK_KINDS.values(), OTHER]):
            self.slack_acks.labels(kind)
            self.slack_ack_seconds.labels(kind)
        self.request_kinds = RequestKinds()
        if read_sessions is not None:
            registry.register(DatabaseFigures(read_sessions, now))
        if process:
            ProcessCollector(registry=registry)
            PlatformCollector(registry=registry)

    def ats_request(self, request: SentRequest) -> None:
        """Count one try of an ATS request (`ats.http.HttpOptions.on_request`)."""
        status = str(request.status) if request.status is not None else "no_answer"
        self.ats_requests.labels(request.vendor, status).inc()
        self.ats_request_seconds.labels(request.vendor).observe(request.seconds)
        if request.error_code == "rate_limited":
            self.ats_rate_limited.labels(request.vendor).inc()

    def export_pass(self, kind: str, seconds: float) -> None:
        """Time one run of a worker job (`exports.scheduling.JobDeps.on_pass`)."""
        self.export_pass_seconds.labels(kind).observe(seconds)

    def slack_ack(self, kind: str, seconds: float) -> None:
        """Count one Slack request answered, `seconds` after it reached the app."""
        self.slack_acks.labels(kind).inc()
        self.slack_ack_seconds.labels(kind).observe(seconds)

    def wsgi(self) -> Wsgi:
        """Return a WSGI app answering with the exposition of this registry (whatever the path).

        Text format 0.0.4 unless the scraper asks for OpenMetrics; gzip when it accepts it.
        """
        return prometheus_wsgi_app(self.registry)


def metrics_only_app(metrics: Metrics) -> Wsgi:
    """Return a WSGI app serving `GET /metrics` and nothing else (`scaleup worker --metrics-port`)."""
    exposition = metrics.wsgi()

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == METRICS_PATH and environ.get("REQUEST_METHOD") == "GET":
            return exposition(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "10")])
        return [b"not found\n"]

    return application


class RequestKinds:
    """The kind of the Slack request each server thread is serving, noted from the body Bolt parsed.

    Finding the kind in the raw body parses it a second time: a link form's submission carries the whole
    modal, about 16 kB of URL-encoded JSON, and unquoting and decoding it cost 1-2 ms of CPU per request,
    more than Bolt's whole dispatch. Bolt's global middleware runs on the thread serving the request,
    with the body parsed, before any listener: `middleware` notes the kind there and the server `take`s
    it once Bolt answered. A request refused before the middleware (by Bolt's own checks) is parsed here.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def middleware(self, body: dict[str, Any], next: Callable[[], Any]) -> Any:
        """Bolt global middleware: note this request's kind."""
        self._local.kind = payload_kind(body)
        return next()

    def start(self) -> None:
        """Forget what this thread noted for an earlier request."""
        self._local.kind = None

    def take(self, raw_body: bytes) -> str:
        """Return the kind noted for this thread's request (parsed from `raw_body` if none was)."""
        kind, self._local.kind = getattr(self._local, "kind", None), None
        return kind or slack_kind(raw_body)


def payload_kind(body: Any) -> str:
    """Return the kind of a Slack request from its parsed body (Bolt's `body`)."""
    if not isinstance(body, dict):
        return OTHER
    if "command" in body:
        return COMMAND
    kind = body.get("type")
    return SLACK_KINDS.get(kind, OTHER) if isinstance(kind, str) else OTHER


def slack_kind(body: bytes) -> str:
    """Return the kind of the Slack request `body` (a value of `SLACK_KINDS`, `COMMAND` or `OTHER`)."""
    text = body.decode("utf-8", "replace")
    if text.startswith("{"):  # the Events API posts JSON; commands and interactions are form-encoded
        payload: Any = _json_or_none(text)
    else:
        try:
            form = parse_qs(text, max_num_fields=200)  # Slack's forms have a dozen fields at most
        except ValueError:
            return OTHER
        if "command" in form:
            return COMMAND
        payload = _json_or_none(form.get("payload", [""])[0])
    kind = payload.get("type") if isinstance(payload, dict) else None
    return SLACK_KINDS.get(kind, OTHER) if isinstance(kind, str) else OTHER


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


class DatabaseFigures:
    """A collector reading `exports.gauges` at each scrape; a database that does not answer turns
    `scaleup_database_up` to 0 instead of failing the whole page (the process's own metrics still show)."""

    def __init__(self, read_sessions: sessionmaker[Session], now: Callable[[], datetime]) -> None:
        self._sessions = read_sessions
        self._now = now

    def describe(self) -> Iterator[Metric]:
        """Name the metric families (so the registry never reads the database to learn them)."""
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        """Read the figures and yield them."""
        up, exports, links_due, retries_due, alerts = self._families()
        try:
            with self._sessions() as session:
                gauges = read_gauges(session, self._now())
        except SQLAlchemyError as exc:
            log.warning("metrics: the database did not answer (%s)", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        for (state, vendor), count in gauges.exports.items():
            exports.add_metric([state.value, vendor.value], count)
        links_due.add_metric([], gauges.links_due)
        retries_due.add_metric([], gauges.retries_due)
        for status, count in gauges.alerts_undelivered.items():
            alerts.add_metric([status.value], count)
        yield from (up, exports, links_due, retries_due, alerts)

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, ...]:
        return (
            GaugeMetricFamily("scaleup_database_up", "1 when this scrape read the figures from the database"),
            GaugeMetricFamily(
                "scaleup_exports", "Export records by state and ATS vendor", labels=("state", "vendor")
            ),
            GaugeMetricFamily("scaleup_links_due", "Automatic links whose pass is due and unclaimed"),
            GaugeMetricFamily(
                "scaleup_exports_retry_due", "Pending exports on automatic links whose retry back-off is over"
            ),
            GaugeMetricFamily(
                "scaleup_alerts_undelivered",
                "Alerts not in their channel: pending (waiting to be posted) or undeliverable (given up)",
                labels=("status",),
            ),
        )
