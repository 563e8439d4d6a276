"""Request/reply values and the stdlib HTTP handler the loopback emulators share."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar, Protocol
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)

_SECRET_HEADER = re.compile(r"auth|token|key|secret|cookie|signature", re.IGNORECASE)
_SECRET_FIELD = re.compile(r"secret|password|token|api_?key", re.IGNORECASE)
REDACTED = "[redacted]"


@dataclass(frozen=True)
class EmuRequest:
    """A parsed request as a route handler sees it; header names are lower-cased."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
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
    """What a handler answers: status, JSON-able body (None = empty) and extra headers."""

    status: int = 200
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    """A method and path regex (named groups → handler kwargs); `public` skips auth, limits, faults."""

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

    @classmethod
    def of(cls, request: EmuRequest, at: float) -> LoggedRequest:
        """Return the redacted log entry for `request`."""
        return cls(
            request.method,
            request.path,
            request.query,
            redact_fields(request.json),
            redact_fields(request.form),
            redact_headers(request.headers),
            at,
        )


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Return `headers` with every credential-looking value replaced."""
    return {name: (REDACTED if _SECRET_HEADER.search(name) else value) for name, value in headers.items()}


def redact_fields(data: Any) -> Any:
    """Return `data` with credential-looking keys' values replaced, recursively."""
    if isinstance(data, Mapping):
        return {k: (REDACTED if _SECRET_FIELD.search(str(k)) else redact_fields(v)) for k, v in data.items()}
    if isinstance(data, list):
        return [redact_fields(item) for item in data]
    return data


def pick(record: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    """Return the given keys of `record` that are present."""
    return {k: record[k] for k in keys if k in record}


def iso(seconds: float) -> str:
    """Return `seconds` since the epoch as ISO-8601 UTC with milliseconds."""
    millis = int(seconds * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def header_number(value: float) -> str:
    """Format a header number: integers without a fraction, else three decimals."""
    return str(int(value)) if float(value).is_integer() else f"{value:.3f}"


class Dispatcher(Protocol):
    """What the handler hands parsed requests to (an `Emulator`)."""

    def handle(self, request: EmuRequest) -> Reply:
        """Answer one request."""
        ...


class EmulatorHandler(BaseHTTPRequestHandler):
    """Parse a request, let the emulator answer it, write the JSON reply."""

    dispatcher: ClassVar[Dispatcher]
    protocol_version = "HTTP/1.1"  # keep-alive, so clients exercise connection reuse
    # Headers and body go out as two writes; without TCP_NODELAY, delayed ACKs stall each keep-alive reply.
    disable_nagle_algorithm = True

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
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        request = EmuRequest(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=raw,
            json=payload,
            form=form,
            host_url=f"http://{host}",
        )
        try:
            reply = self.dispatcher.handle(request)
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
            pass  # the client gave up (a timeout test); there is no one to answer

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve
