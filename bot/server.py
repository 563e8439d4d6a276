"""The deployable HTTP server: one WSGI app for Slack, OAuth, the ingest API and health, served by waitress.

Routes:
    POST /slack/events                      every Slack request (events, commands, interactivity, options)
    GET  /slack/install, /slack/oauth_redirect   OAuth installs (only in OAuth install mode)
    GET  /healthz                           200 when the database answers, else 503
    GET  /metrics                           Prometheus metrics of this process (`bot.metrics`), unless
                                            SCALEUP_METRICS is off
    *    /api/v1/...                        the ingest API (`bot.api.make_api`), when it is installed
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import text

from bot.app import EVENTS_PATH, INSTALL_PATH, REDIRECT_PATH
from bot.http_limits import API_PREFIX, WEBHOOK_PREFIX, HttpLimits, limited_channel
from bot.metrics import METRICS_PATH
from bot.wiring import Services

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def make_wsgi_app(
    app: App, services: Services, *, api: Wsgi | None = None, webhooks: Wsgi | None = None
) -> Wsgi:
    """Return the WSGI app routing Slack, OAuth, health, the ingest API and ATS webhooks."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH)
    oauth_paths = {INSTALL_PATH, REDIRECT_PATH} if app.oauth_flow is not None else set()
    secret = services.settings.slack_signing_secret
    verifier = SignatureVerifier(secret.get_secret_value()) if secret is not None else None
    metrics = services.metrics
    exposition = metrics.wsgi() if services.settings.metrics else None

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return route(environ, _with_security_headers(start_response))

    def route(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            answer = _health(services, start_response)
            # HEAD gets the headers only: waitress sends whatever the app returns, and a body after a HEAD
            # answer would be read as the start of the next answer on a kept-alive connection.
            return [] if method == "HEAD" else answer
        if path == METRICS_PATH and method == "GET" and exposition is not None:
            return exposition(environ, start_response)
        if api is not None and (path == API_PREFIX or path.startswith(API_PREFIX + "/")):
            return api(environ, start_response)
        if webhooks is not None and path.startswith(WEBHOOK_PREFIX):
            return webhooks(environ, start_response)
        if path == EVENTS_PATH and not _plausible_timestamp(environ):
            # slack-sdk's verifier calls int() on the header and raises, which Bolt then answers as an
            # application error (200 with an error text): refuse the unverifiable request here instead.
            return _json(start_response, "401 Unauthorized", {"error": "invalid_request"})
        if path == EVENTS_PATH and method == "POST" and verifier is not None:
            started = time.perf_counter()
            # Checked before Bolt, whose own check logs a refused request's whole body at INFO: a request
            # that is not Slack's is answered without a word of it reaching the logs.
            body = _body(environ)
            headers = (environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"), environ.get("HTTP_X_SLACK_SIGNATURE"))
            if not verifier.is_valid(body, *headers):
                log.info("Refused a Slack request without a valid signature (%d bytes)", len(body))
                return _json(start_response, "401 Unauthorized", {"error": "invalid_request"})
            environ["wsgi.input"] = io.BytesIO(body)
            metrics.request_kinds.start()
            answer = to_bolt(environ, start_response)
            # Bolt returns as soon as the listener calls ack() (`bot.app`): this is how long Slack waited.
            metrics.slack_ack(metrics.request_kinds.take(body), time.perf_counter() - started)
            return answer
        if path == EVENTS_PATH or path in oauth_paths:
            return to_bolt(environ, start_response)
        return _json(start_response, "404 Not Found", {"error": "not_found"})

    def to_bolt(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            return slack(environ, start_response)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            # Bolt parses the body (JSON payloads, ids) before it verifies the signature or reaches a
            # listener, and raises on bodies Slack never sends: that is a bad request, not a crash.
            log.warning("Refused a malformed Slack request (%s)", type(exc).__name__)
            return _json(start_response, "400 Bad Request", {"error": "malformed_request"})

    return application


#: On every answer; they matter on the HTML ones (Bolt's install and OAuth pages): no framing (click-jacking
#: the "Add to Slack" button), no MIME sniffing, and no Referer, so the OAuth redirect's `code` and `state`
#: never leave in a header to the images the page loads.
SECURITY_HEADERS = (
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
)


def _with_security_headers(start_response: Callable[..., Any]) -> Callable[..., Any]:
    def start(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
        names = {name.lower() for name, _ in headers}
        extra = [(name, value) for name, value in SECURITY_HEADERS if name.lower() not in names]
        return start_response(status, [*headers, *extra], *exc_info)

    return start


def _plausible_timestamp(environ: dict[str, Any]) -> bool:
    """Return False when Slack's timestamp header is present but not a whole number of seconds."""
    stamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
    return stamp is None or (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12)


def _body(environ: dict[str, Any]) -> bytes:
    """Return the request body; waitress has read it already, within the path's cap (`HttpLimits`)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return b""
    return environ["wsgi.input"].read(length) if length > 0 else b""


def _health(services: Services, start_response: Callable[..., Any]) -> Iterable[bytes]:
    try:
        with services.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
        log.warning("Health check failed: %s", type(exc).__name__)
        return _json(start_response, "503 Service Unavailable", {"ok": False, "database": "unreachable"})
    return _json(start_response, "200 OK", {"ok": True})


def _json(start_response: Callable[..., Any], status: str, body: dict[str, Any]) -> Iterable[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


class HttpServer:
    """A waitress server for `wsgi` on a background thread; port 0 picks a free port (read `url`)."""

    def __init__(
        self,
        wsgi: Wsgi,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        threads: int = 16,
        limits: HttpLimits | None = None,
    ) -> None:
        from waitress.server import create_server

        limits = limits or HttpLimits()
        self._server = create_server(
            wsgi, host=host, port=port, threads=threads, ident="scaleup", **limits.waitress_options()
        )
        self._server.channel_class = limited_channel(limits)  # type: ignore[union-attr]
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._closed = threading.Event()

    @property
    def url(self) -> str:
        """Return the server's root URL."""
        return f"http://{self._server.effective_host}:{self._server.effective_port}"

    def serve_forever(self) -> None:
        """Serve in the current thread until `close()` (or Ctrl-C)."""
        from waitress import wasyncore

        server = self._server
        try:
            # waitress's own run() loops until its sockets are closed from another thread, which races
            # with select(); looping here lets close() wake the loop and the sockets close in this thread.
            while not self._stop.is_set():
                wasyncore.loop(
                    timeout=server.adj.asyncore_loop_timeout,
                    map=server._map,
                    use_poll=server.adj.asyncore_use_poll,
                    count=1,
                )
        finally:
            server.task_dispatcher.shutdown()
            wasyncore.close_all(server._map)
            self._closed.set()

    def start(self) -> HttpServer:
        """Serve on a daemon thread and return self."""
        self._thread = threading.Thread(target=self.serve_forever, name="scaleup-http", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and wait for requests in progress."""
        self._stop.set()
        if not self._closed.is_set():
            try:
                self._server.pull_trigger()  # wakes the loop so it sees the stop flag
            except OSError:
                pass  # the loop closed its sockets meanwhile
        if self._thread is not None:
            self._thread.join(timeout=10)
