"""A small WSGI toolkit for the ingest API: routes, JSON requests and responses, and typed HTTP errors.

Deliberately tiny (no web framework dependency): a route is a method, a path template and a handler.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel

from core.errors import ScaleUpError
from ingest.records import FieldProblem

#: The largest body accepted; a full batch of 1,000 candidates is far below it.
MAX_BODY_BYTES = 16 * 1024 * 1024

_FORMS = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
_PARAM = re.compile(r"\{(\w+)\}")


class ApiError(ScaleUpError):
    """An HTTP error answered as JSON: `{"error": {"code", "message", "fields": [{"field", "message"}]}}`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fields: Sequence[FieldProblem] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.fields = list(fields)
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        """Return the JSON error document."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            error["fields"] = [{"field": p.field, "message": p.message} for p in self.fields]
        return {"error": error}


@dataclass(frozen=True)
class Route:
    """One operation: `handler(call)` answers `method path`; `body` and `response` also feed the OpenAPI document."""

    method: str
    path: str
    handler: Callable[..., Any]
    summary: str
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    #: The query string's parameters, validated like a body (one value each).
    query: type[BaseModel] | None = None
    auth: bool = True
    #: For batch bodies: the list field and its most items, checked before validation (413 when exceeded).
    batch: tuple[str, int] | None = None
    errors: tuple[int, ...] = ()
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        regex = _PARAM.sub(
            lambda m: f"(?P<{m.group(1)}>[^/]+)", re.escape(self.path).replace(r"\{", "{").replace(r"\}", "}")
        )
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))

    @property
    def params(self) -> list[str]:
        """Return the names of the path parameters."""
        return _PARAM.findall(self.path)


class Router:
    """Finds the route for a method and path."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = list(routes)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """Return the route and its path parameters, or raise 404 / 405."""
        allowed = []
        for route in self.routes:
            found = route.pattern.match(path)
            if found is None:
                continue
            if route.method == method:
                return route, found.groupdict()
            allowed.append(route.method)
        if allowed:
            raise ApiError(
                405,
                "method_not_allowed",
                f"{method} is not allowed here; use {', '.join(allowed)}",
                headers={"Allow": ", ".join(allowed)},
            )
        raise ApiError(404, "not_found", f"there is no API endpoint {path}")


def read_json(environ: Mapping[str, Any]) -> Any:
    """Return the request body parsed as JSON.

    Raises:
        ApiError: 413 when larger than MAX_BODY_BYTES, 415 when not JSON, 400 when empty or malformed.
    """
    content_type = (environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
    # Only forms are refused outright: some servers (wsgiref) report a missing Content-Type as text/plain.
    if content_type in _FORMS:
        raise ApiError(
            415, "unsupported_media_type", f"send the body as application/json, not {content_type}"
        )
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ApiError(400, "bad_request", "the Content-Length header is not a number") from None
    if length > MAX_BODY_BYTES:
        raise ApiError(413, "body_too_large", f"the body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB")
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    if not raw.strip():
        raise ApiError(400, "malformed_json", "the request needs a JSON body")
    try:
        return json.loads(raw, parse_constant=_no_constant, object_pairs_hook=_no_duplicate_keys)
    except _NotStrictJson as exc:
        raise ApiError(400, "malformed_json", f"the body is not strict JSON: {exc}") from None
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise ApiError(400, "malformed_json", f"the body is not valid JSON ({exc})") from None


class _NotStrictJson(Exception):
    """Python's JSON reader accepts more than RFC 8259: NaN, Infinity and repeated keys (the last wins)."""


def _no_constant(name: str) -> Any:
    raise _NotStrictJson(f"{name} is not a JSON value (send a number or null)")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _NotStrictJson(f"the key {key[:100]!r} appears twice in one object")
        found[key] = value
    return found


def respond(
    start_response: Callable[..., Any], status: int, body: Any, headers: Mapping[str, str] | None = None
) -> list[bytes]:
    """Send `body` as JSON with `status`."""
    payload = json.dumps(body, separators=(",", ":"), default=str).encode()
    head = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(payload))),
        ("Cache-Control", "no-store"),
        *(headers or {}).items(),
    ]
    start_response(f"{status} {HTTPStatus(status).phrase}", head)
    return [payload]
