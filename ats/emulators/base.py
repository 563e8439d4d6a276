"""A loopback HTTP emulator framework that each vendor emulator builds on (stdlib only).

A vendor emulator subclasses `Emulator`, lists its `routes()`, and formats errors the vendor's way in
`error_reply()`. The base gives every vendor: in-memory records and seeding, a fixed-window rate limit that
answers 429 + Retry-After, injectable faults (5xx, hangs, latency), delayed visibility, a redacted request
log, and control endpoints under `/_emulator/` for out-of-process users:

    GET  /_emulator/state       counts per collection, created records per email, faults, request count
    GET  /_emulator/requests    the redacted request log
    POST /_emulator/faults      {"kind": "error"|"hang", "count"?: n, "duration"?: s, "status"?: 503,
                                 "seconds"?: s, "method"?: "POST", "path"?: "/v3/candidates"}
                                 or {"latency": 0.5} or {"clear": true}
    POST /_emulator/rate_limit  {"limit": n, "window": s}  (limit null turns it off)
    POST /_emulator/seed        {"<collection>": [records…]}  (added to what is there)
    POST /_emulator/reset       {"seed"?: {...}} empties everything, then seeds
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar, Self
from urllib.parse import parse_qs, urlsplit

from ats.types import Vendor

log = logging.getLogger(__name__)

_SECRET_HEADER = re.compile(r"auth|token|key|secret|cookie|signature", re.IGNORECASE)
_SECRET_FIELD = re.compile(r"secret|password|token|api_?key", re.IGNORECASE)
REDACTED = "[redacted]"


@dataclass(frozen=True)
class EmuRequest:
    """A parsed request as a route handler sees it."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]  # lower-cased names
    body: bytes = b""
    json: Any = None
    form: Mapping[str, list[str]] = field(default_factory=dict)
    host_url: str = ""

    def arg(self, name: str, default: str | None = None) -> str | None:
        """Return the first value of query parameter `name`."""
        values = self.query.get(name)
        return values[0] if values else default


@dataclass(frozen=True)
class Reply:
    """What a handler answers: status, JSON-able body (or None) and extra headers."""

    status: int = 200
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    """A method + path regex (named groups become handler kwargs); `public` skips auth, rate limit and faults."""

    method: str
    pattern: str
    handler: Callable[..., Reply]
    public: bool = False


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the emulator received it, with credentials redacted."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    json: Any
    form: Mapping[str, list[str]]
    headers: Mapping[str, str]
    at: float


@dataclass
class Fault:
    """A failure injected into matching requests: `count` of them (None = all) until `until` (None = ever)."""

    kind: str = "error"  # "error" answers `status`; "hang" waits `seconds` before answering
    status: int = 503
    seconds: float = 0.0
    count: int | None = 1
    until: float | None = None
    method: str | None = None
    path: str | None = None

    def matches(self, request: EmuRequest, now: float) -> bool:
        """Return True when this fault applies to `request` now."""
        if self.until is not None and now >= self.until:
            return False
        if self.count is not None and self.count <= 0:
            return False
        if self.method and self.method.upper() != request.method:
            return False
        return not self.path or request.path.startswith(self.path)


@dataclass(frozen=True)
class CreatedRecord:
    """A record created through the vendor API (not seeded), for tests and the control API to count."""

    kind: str
    id: str
    emails: tuple[str, ...]
    at: float


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Return `headers` with every credential-looking value replaced."""
    return {name: (REDACTED if _SECRET_HEADER.search(name) else value) for name, value in headers.items()}


def redact_fields(data: Any) -> Any:
    """Return `data` with credential-looking keys replaced, recursively."""
    if isinstance(data, Mapping):
        return {k: (REDACTED if _SECRET_FIELD.search(str(k)) else redact_fields(v)) for k, v in data.items()}
    if isinstance(data, list):
        return [redact_fields(item) for item in data]
    return data


class Emulator:
    """Base of the vendor emulators: a threaded loopback server with records, faults and rate limits.

    Args:
        host, port: where to listen (port 0 picks a free one; read `url` after `start()`).
        seed: collections to load, e.g. `{"jobs": [...], "candidates": [...]}`.
        rate_limit: requests allowed per `rate_window` seconds (None = unlimited).
        visibility_delay: seconds a created record stays invisible to reads (vendors with async creates).
        clock: time source for windows, faults and visibility.
    """

    vendor: ClassVar[Vendor]
    default_rate_window: ClassVar[float] = 1.0
    api_prefix: ClassVar[str] = ""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: Mapping[str, Any] | None = None,
        rate_limit: int | None = None,
        rate_window: float | None = None,
        visibility_delay: float = 0.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.host = host
        self.port = port
        self.clock = clock
        self.visibility_delay = visibility_delay
        self.lock = threading.RLock()
        self.collections: dict[str, dict[str, dict[str, Any]]] = {}
        self.created: list[CreatedRecord] = []
        self.log: list[LoggedRequest] = []
        self.faults: list[Fault] = []
        self.latency = 0.0
        self.rate_limit = rate_limit
        self.rate_window = rate_window or self.default_rate_window
        self._window_start = 0.0
        self._window_count = 0
        self._next_id = 1000
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._routes = [(r, re.compile(r.pattern + r"\Z")) for r in self.routes()]
        if seed:
            self.seed(seed)

    # --- vendor hooks -----------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        """Return the vendor's routes."""
        raise NotImplementedError

    def error_reply(
        self, status: int, message: str, *, field_errors: Mapping[str, str] | None = None
    ) -> Reply:
        """Return an error in the vendor's body shape."""
        return Reply(status, {"message": message, "errors": dict(field_errors or {})})

    def authenticate(self, request: EmuRequest) -> Reply | None:
        """Return an error reply when the request's credentials are wrong, else None."""
        return None

    def rate_headers(self, limit: int, remaining: int, reset_at: float) -> dict[str, str]:
        """Return the vendor's rate-limit headers."""
        return {}

    def normalize_seed(self, collection: str, record: dict[str, Any]) -> dict[str, Any]:
        """Fill defaults into a seeded record (ids, timestamps) before it is stored."""
        return record

    # --- lifecycle --------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Return the server's root URL (after `start()`)."""
        if self._server is None:
            raise RuntimeError("emulator not started")
        return f"http://{self.host}:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        """Return what a `ConnectionConfig.base_url` should be to reach this emulator."""
        return self.url + self.api_prefix

    def start(self) -> Self:
        """Start serving on a daemon thread and return self."""
        handler = type("Handler", (_Handler,), {"emulator": self})
        self._stopping.clear()
        self._server = ThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"{self.vendor}-emulator", daemon=True
        )
        self._thread.start()
        log.info("%s emulator listening on %s", self.vendor.label, self.url)
        return self

    def stop(self) -> None:
        """Stop serving and release hung requests."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Start and block until interrupted (for `scaleup ats emulate`)."""
        self.start()
        try:
            while not self._stopping.wait(1.0):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    # --- records ----------------------------------------------------------------------------------------

    def new_id(self) -> str:
        """Return a fresh numeric id as a string."""
        with self.lock:
            self._next_id += 1
            return str(self._next_id)

    def table(self, collection: str) -> dict[str, dict[str, Any]]:
        """Return the live id → record dict of `collection` (hold `lock` while changing it)."""
        return self.collections.setdefault(collection, {})

    def records(self, collection: str) -> list[dict[str, Any]]:
        """Return a copy of every record of `collection`, including invisible ones."""
        with self.lock:
            return [json.loads(json.dumps(r)) for r in self.table(collection).values()]

    def seed(self, data: Mapping[str, Any]) -> None:
        """Add the records of each collection in `data` (each record needs an `id`, or gets one)."""
        with self.lock:
            for collection, items in data.items():
                for item in items:
                    record = self.normalize_seed(collection, dict(item))
                    record.setdefault("id", self.new_id())
                    self.table(collection)[str(record["id"])] = record
                    if str(record["id"]).isdigit():
                        self._next_id = max(self._next_id, int(record["id"]))

    def seed_file(self, path: str | Path) -> None:
        """Seed from a JSON file shaped like `seed()`'s argument."""
        self.seed(json.loads(Path(path).read_text()))

    def reset(self, seed: Mapping[str, Any] | None = None) -> None:
        """Forget records, the log, created records and faults; then seed."""
        with self.lock:
            self.collections.clear()
            self.created.clear()
            self.log.clear()
            self.faults.clear()
            self.latency = 0.0
            self._window_count = 0
        if seed:
            self.seed(seed)

    def record_created(self, kind: str, record_id: str, emails: Iterable[str]) -> None:
        """Note a record created through the API, for `created_by_email()` and the state endpoint."""
        with self.lock:
            normalized = tuple(e.strip().lower() for e in emails if e)
            self.created.append(CreatedRecord(kind, str(record_id), normalized, self.clock()))

    def created_by_email(self) -> dict[str, dict[str, int]]:
        """Return {email: {kind: count}} of records created through the API."""
        counts: dict[str, dict[str, int]] = {}
        with self.lock:
            for item in self.created:
                for email in item.emails:
                    per_kind = counts.setdefault(email, {})
                    per_kind[item.kind] = per_kind.get(item.kind, 0) + 1
        return counts

    def stamp_visibility(self, record: dict[str, Any]) -> None:
        """Mark a just-created record invisible for `visibility_delay` seconds."""
        if self.visibility_delay > 0:
            record["_visible_at"] = self.clock() + self.visibility_delay

    def is_visible(self, record: Mapping[str, Any]) -> bool:
        """Return True once a record may be read."""
        return record.get("_visible_at", 0) <= self.clock()

    @staticmethod
    def public(record: Mapping[str, Any]) -> dict[str, Any]:
        """Return the record without the emulator's private `_…` keys."""
        return {k: v for k, v in record.items() if not k.startswith("_")}

    # --- faults and limits ------------------------------------------------------------------------------

    def add_fault(self, fault: Fault) -> None:
        """Inject `fault` into upcoming requests."""
        with self.lock:
            self.faults.append(fault)

    def fail_next(
        self, count: int = 1, *, status: int = 503, method: str | None = None, path: str | None = None
    ) -> None:
        """Answer the next `count` matching requests with `status`."""
        self.add_fault(Fault("error", status=status, count=count, method=method, path=path))

    def fail_for(
        self, seconds: float, *, status: int = 503, method: str | None = None, path: str | None = None
    ) -> None:
        """Answer every matching request with `status` for the next `seconds`."""
        self.add_fault(
            Fault("error", status=status, count=None, until=self.clock() + seconds, method=method, path=path)
        )

    def fail_always(self, *, status: int = 503, method: str | None = None, path: str | None = None) -> None:
        """Answer every matching request with `status` until `clear_faults()`."""
        self.add_fault(Fault("error", status=status, count=None, method=method, path=path))

    def hang_next(
        self, count: int = 1, *, seconds: float = 2.0, method: str | None = None, path: str | None = None
    ) -> None:
        """Hold the next `count` matching requests for `seconds` (longer than the client's timeout)."""
        self.add_fault(Fault("hang", seconds=seconds, count=count, method=method, path=path))

    def set_latency(self, seconds: float) -> None:
        """Delay every vendor request by `seconds`."""
        with self.lock:
            self.latency = seconds

    def clear_faults(self) -> None:
        """Remove every fault and the latency."""
        with self.lock:
            self.faults.clear()
            self.latency = 0.0

    def set_rate_limit(self, limit: int | None, window: float | None = None) -> None:
        """Allow `limit` requests per `window` seconds (None turns limiting off)."""
        with self.lock:
            self.rate_limit = limit
            self.rate_window = window or self.rate_window
            self._window_count = 0

    def requests(self, method: str | None = None, path: str | None = None) -> list[LoggedRequest]:
        """Return logged vendor requests, optionally filtered by method and exact path."""
        with self.lock:
            return [
                r
                for r in self.log
                if (method is None or r.method == method) and (path is None or r.path == path)
            ]

    def state(self) -> dict[str, Any]:
        """Return the JSON served by `GET /_emulator/state`."""
        with self.lock:
            return {
                "vendor": str(self.vendor),
                "counts": {name: len(rows) for name, rows in self.collections.items()},
                "created": self.created_by_email(),
                "requests": len(self.log),
                "latency": self.latency,
                "rate_limit": {"limit": self.rate_limit, "window": self.rate_window},
                "faults": [asdict(f) for f in self.faults],
            }

    # --- dispatch ---------------------------------------------------------------------------------------

    def handle(self, request: EmuRequest) -> Reply:
        """Answer one request: control API, or log → latency → faults → route → auth → rate limit → handler."""
        if request.path.startswith("/_emulator/"):
            return self._control(request)
        route, params = self._match(request)
        if route is not None and route.public:
            with self.lock:
                return route.handler(request, **params)
        with self.lock:
            self.log.append(
                LoggedRequest(
                    request.method,
                    request.path,
                    request.query,
                    redact_fields(request.json),
                    redact_fields(request.form),
                    redact_headers(request.headers),
                    self.clock(),
                )
            )
            latency = self.latency
            fault = self._take_fault(request)
        if latency:
            self._stopping.wait(latency)
        if fault is not None and fault.kind == "hang":
            self._stopping.wait(fault.seconds)
        elif fault is not None:
            return self.error_reply(fault.status, "injected failure")
        if route is None:
            return self.error_reply(404, "not found")
        denied = self.authenticate(request)
        if denied is not None:
            return denied
        with self.lock:
            limited, headers = self._count_request()
            if limited is not None:
                return limited
            reply = route.handler(request, **params)
        return Reply(reply.status, reply.body, {**headers, **reply.headers})

    def _match(self, request: EmuRequest) -> tuple[Route | None, dict[str, str]]:
        for route, regex in self._routes:
            found = regex.match(request.path)
            if found and route.method == request.method:
                return route, found.groupdict()
        return None, {}

    def _take_fault(self, request: EmuRequest) -> Fault | None:
        now = self.clock()
        # Spent and expired faults go, so the state endpoint shows only what is still armed.
        self.faults = [
            f for f in self.faults if (f.count is None or f.count > 0) and (f.until is None or now < f.until)
        ]
        for fault in self.faults:
            if fault.matches(request, now):
                if fault.count is not None:
                    fault.count -= 1
                return fault
        return None

    def _count_request(self) -> tuple[Reply | None, dict[str, str]]:
        if not self.rate_limit:
            return None, {}
        now = self.clock()
        # Fixed windows, as Greenhouse and Workable count them.
        if now - self._window_start >= self.rate_window:
            self._window_start = now
            self._window_count = 0
        reset_at = self._window_start + self.rate_window
        if self._window_count >= self.rate_limit:
            retry_after = max(1, int(reset_at - now + 0.999)) if self.rate_window >= 1 else reset_at - now
            headers = self.rate_headers(self.rate_limit, 0, reset_at) | {"Retry-After": _number(retry_after)}
            error = self.error_reply(429, "rate limit exceeded")
            return Reply(429, error.body, {**error.headers, **headers}), headers
        self._window_count += 1
        return None, self.rate_headers(self.rate_limit, self.rate_limit - self._window_count, reset_at)

    def _control(self, request: EmuRequest) -> Reply:
        action = request.path.removeprefix("/_emulator/").strip("/")
        body = request.json if isinstance(request.json, Mapping) else {}
        if request.method == "GET" and action == "state":
            return Reply(200, self.state())
        if request.method == "GET" and action == "requests":
            with self.lock:
                return Reply(200, [asdict(r) for r in self.log])
        if request.method == "GET" and action.startswith("records/"):
            return Reply(200, self.records(action.removeprefix("records/")))
        if request.method != "POST":
            return Reply(405, {"error": "use POST"})
        if action == "reset":
            self.reset(body.get("seed"))
        elif action == "seed":
            self.seed(body)
        elif action == "rate_limit":
            self.set_rate_limit(body.get("limit"), body.get("window"))
        elif action == "faults":
            if body.get("clear"):
                self.clear_faults()
            if "latency" in body:
                self.set_latency(float(body["latency"]))
            if "kind" in body:
                duration = body.get("duration")
                count = body.get("count", None if duration else 1)
                until = self.clock() + float(duration) if duration else None
                self.add_fault(
                    Fault(
                        kind=body["kind"],
                        status=int(body.get("status", 503)),
                        seconds=float(body.get("seconds", 0)),
                        count=count,
                        until=until,
                        method=body.get("method"),
                        path=body.get("path"),
                    )
                )
        else:
            return Reply(404, {"error": f"unknown control action {action!r}"})
        return Reply(200, self.state())


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.3f}"


class _Handler(BaseHTTPRequestHandler):
    emulator: ClassVar[Emulator]
    protocol_version = "HTTP/1.1"  # keep-alive, so clients exercise connection reuse

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the stdlib's per-request stderr lines out of test output."""

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        content_type = self.headers.get("Content-Type", "")
        payload: Any = None
        form: dict[str, list[str]] = {}
        if raw and "json" in content_type:
            try:
                payload = json.loads(raw)
            except ValueError:
                payload = None
        elif raw and "x-www-form-urlencoded" in content_type:
            form = parse_qs(raw.decode(), keep_blank_values=True)
        request = EmuRequest(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=raw,
            json=payload,
            form=form,
            host_url=f"http://{self.headers.get('Host') or self.emulator.url.removeprefix('http://')}",
        )
        try:
            reply = self.emulator.handle(request)
        except Exception:  # an emulator bug must answer 500, not hang the client
            log.exception("emulator handler failed for %s %s", request.method, request.path)
            reply = Reply(500, {"message": "emulator error"})
        data = b"" if reply.body is None else json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test); nothing to answer

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


def pick(record: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    """Return the given keys of `record` that are present."""
    return {k: record[k] for k in keys if k in record}


def now_iso(clock: Callable[[], float]) -> str:
    """Return the clock's time as ISO-8601 UTC with milliseconds."""
    seconds = clock()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int(seconds * 1000) % 1000:03d}Z"
