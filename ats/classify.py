"""Read ATS responses: status and body → typed errors, Retry-After, rate headers, secret scrubbing.

Each adapter gives `ats.http.AtsHttp` a classifier: usually `StatusClassifier(vendor)`, with `details`
swapped for vendors whose error bodies differ (Lever's `{code, message}`) or a wholly custom callable
(Ashby answers errors with HTTP 200).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from ats.errors import (
    AlreadyExists,
    AtsError,
    AuthFailed,
    NotFound,
    PermissionMissing,
    RateLimited,
    ValidationFailed,
    VendorUnavailable,
)

_MAX_MESSAGE_CHARS = 300

Classifier = Callable[[httpx.Response], AtsError | None]
"""Map a response to the typed error it means, or None when it is a success."""

WindowHint = Callable[[httpx.Response, float], float | None]
"""Given a success and the time now, return seconds to hold every caller (window spent), or None."""


def remaining_reset_hint(remaining: str, reset: str, *, longest: float = 60.0) -> WindowHint:
    """Return a hint that holds callers until `reset` (epoch seconds) once `remaining` reaches 0.

    Other tools may share the account's budget, so the vendor's count beats ours. A `reset` that is not an
    epoch time yields a hold of 0 (harmless); holds are capped at `longest` seconds.
    """

    def hint(response: httpx.Response, now: float) -> float | None:
        try:
            left = int(response.headers[remaining])
            reset_at = float(response.headers[reset])
        except (KeyError, ValueError):
            return None
        return min(longest, max(0.0, reset_at - now)) if left <= 0 else None

    return hint


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Return the seconds a `Retry-After` header asks for (delta-seconds or HTTP-date form), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def scrub(text: str, secrets: Sequence[str]) -> str:
    """Return `text` cut to a safe length with every secret value replaced by `***`."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    if len(text) > _MAX_MESSAGE_CHARS:
        text = text[: _MAX_MESSAGE_CHARS - 1] + "…"
    return text


def json_or_none(response: httpx.Response) -> Any:
    """Return the decoded JSON body, or None when the body is empty or not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def error_details(body: Any) -> tuple[str | None, dict[str, str]]:
    """Extract (message, field_errors) from the error bodies vendors send, whatever their shape.

    Accepts `{"message": …}`, `{"error": …}`, `{"error_description": …}`, `{"errors": ["…"]}`,
    `{"errors": [{"field": …, "message": …}]}`, `{"errors": {"field": ["…"]}}` and Lever's `{code, message}`.
    """
    if not isinstance(body, Mapping):
        return None, {}
    messages: list[str] = []
    fields: dict[str, str] = {}
    for key in ("message", "error_description", "error"):
        value = body.get(key)
        if isinstance(value, str) and value:
            messages.append(value)
        elif isinstance(value, Mapping) and isinstance(value.get("message"), str):
            messages.append(value["message"])
    errors = body.get("errors")
    if isinstance(errors, Mapping):
        for name, text in errors.items():
            fields[str(name)] = "; ".join(map(str, text)) if isinstance(text, list) else str(text)
    elif isinstance(errors, list):
        for item in errors:
            if isinstance(item, str):
                messages.append(item)
            elif isinstance(item, Mapping):
                text = str(item.get("message") or item.get("detail") or item.get("code") or "invalid")
                name = item.get("field") or item.get("attribute") or item.get("param")
                if name:
                    fields[str(name)] = text
                else:
                    messages.append(text)
    message = "; ".join(dict.fromkeys(messages)) or None
    return message, fields


@dataclass(frozen=True)
class StatusClassifier:
    """The default classifier: map an HTTP status to an error class, with the vendor's messages."""

    vendor: str
    overrides: Mapping[int, type[AtsError]] = field(default_factory=dict)
    details: Callable[[Any], tuple[str | None, dict[str, str]]] = error_details
    now: Callable[[], float] = field(default=time.time, repr=False)

    def __call__(self, response: httpx.Response) -> AtsError | None:
        """Return the typed error `response` stands for, or None for 1xx-3xx."""
        status = response.status_code
        if status < 400:
            return None
        message, fields = self.details(json_or_none(response))
        kind = self.overrides.get(status) or _default_error_class(status)
        what = message or f"the request failed with HTTP {status}"
        if kind is RateLimited:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), now=self.now())
            return RateLimited(self.vendor, "rate limit reached", retry_after=retry_after)
        if kind is ValidationFailed:
            return ValidationFailed(self.vendor, f"rejected the data: {what}", field_errors=fields)
        if kind is VendorUnavailable:
            return VendorUnavailable(self.vendor, f"answered with a server error (HTTP {status})")
        if kind is AuthFailed:
            return AuthFailed(self.vendor, f"refused the credentials (HTTP {status})")
        return kind(self.vendor, what)


def _default_error_class(status: int) -> type[AtsError]:
    if status >= 500:
        return VendorUnavailable
    return {
        401: AuthFailed,
        403: PermissionMissing,
        404: NotFound,
        409: AlreadyExists,
        410: NotFound,
        429: RateLimited,
    }.get(status, ValidationFailed)


def odd_answers_are_errors(vendor: str, what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wrap a converter so a vendor answer of an unexpected shape raises VendorUnavailable, not KeyError.

    Adapters promise to raise only `AtsError`s; a field missing or of another type (a list where an object
    was documented) is the vendor's fault, may pass, and must reach the recruiter as a clear message.
    """

    def wrap(convert: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(convert)
        def converted(*args: Any, **kwargs: Any) -> Any:
            try:
                return convert(*args, **kwargs)
            except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
                raise VendorUnavailable(
                    vendor,
                    f"answered with {what} in a shape ScaleUp does not understand ({type(exc).__name__})",
                ) from None

        return converted

    return wrap
