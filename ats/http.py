"""HTTP plumbing shared by every ATS adapter: client factory, error classification, bounded retries.

Adapters never call `httpx` directly: they get an `AtsHttp` (built by `ats.registry.create_adapter`) and
pass it a per-vendor classifier that turns a response into a typed `ats.errors.AtsError` or None.
"""

from __future__ import annotations

import logging
import random
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from ats.base import ConnectionConfig, RateBudget
from ats.classify import (
    Classifier,
    StatusClassifier,
    WindowHint,
    error_details,
    json_or_none,
    parse_retry_after,
    remaining_reset_hint,
    scrub,
)
from ats.errors import (
    AddressRefused,
    AtsError,
    RateLimited,
    ValidationFailed,
    VendorUnavailable,
)
from ats.pagination import Page, body_token, iter_link_pages, iter_token_pages, link_next, paginate
from ats.public_hosts import AddressNotAllowed, PublicHostsTransport

# Response reading lives in ats.classify and paginators in ats.pagination; adapters may import them from here.
# fmt: off
__all__ = [
    "AtsHttp", "Classifier", "HttpOptions", "Page", "RequestObserver", "SentRequest", "StatusClassifier",
    "WindowHint", "body_token", "build_http", "error_details", "iter_link_pages", "iter_token_pages",
    "json_or_none", "link_next", "make_http_client", "paginate", "parse_retry_after", "remaining_reset_hint",
    "scrub"
]
# fmt: on

log = logging.getLogger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# A POST that timed out or got a 500 may still have created the candidate; retrying it in-line could
# create a duplicate. Only these outcomes prove the vendor did nothing, so only they are retried for writes
# (the export engine retries later, after a dedupe look-up, for everything else).
_SAFE_WRITE_RETRY_STATUSES = frozenset({429, 503})
_SAFE_WRITE_RETRY_EXCEPTIONS: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)
_RETRY_EXCEPTIONS: tuple[type[Exception], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)


@dataclass(frozen=True)
class SentRequest:
    """One try of a request that reached the wire, as `HttpOptions.on_request` is told of it.

    Attributes:
        vendor: the `core.vocabulary.Vendor` value of the connection ("greenhouse").
        method: the HTTP method.
        status: the answer's HTTP status, or None when none came (timeout, connection refused or reset).
        seconds: how long the try took, from sending to the answer (the budget's wait not included).
        error_code: the `AtsError.code` the answer was classified as ("rate_limited"), or None on success.
    """

    vendor: str
    method: str
    status: int | None
    seconds: float
    error_code: str | None


class RequestObserver(Protocol):
    """Told of every try an `AtsHttp` sends (the app counts them in its metrics, `bot.metrics`)."""

    def __call__(self, request: SentRequest) -> None:
        """Record one try; must be quick and must not raise."""


@dataclass(frozen=True)
class HttpOptions:
    """Timeouts, retry policy and injectable clock/sleep for one adapter's HTTP calls.

    Attributes:
        timeout: read/write/pool timeout in seconds.
        connect_timeout: TCP connect timeout in seconds.
        max_tries: total attempts per request (1 = no retry).
        backoff_base: first back-off in seconds; doubles per attempt, with jitter.
        backoff_cap: longest back-off between two attempts.
        max_retry_after: a 429 asking to wait longer than this is raised at once as `RateLimited`
            (the export engine reschedules) instead of blocking the caller.
        page_size: overrides each vendor's page size for listings (tests use a tiny one).
        public_hosts_only: send only HTTPS requests to public addresses (`ats.public_hosts`), and put the
            errors of a connection with its own base URL in ScaleUp's words, never the answer's (the app
            sets it unless SCALEUP_ATS_PRIVATE_URLS allows private ATSs: tests, the demo, on-premise).
        ssl_context: a TLS context shared by every client; building one loads the CA bundle (~0.1 s), so
            the entrypoint builds it once. None: each client builds its own.
        on_request: told of every try sent (status, time, classification); None: nobody is.
        app_credentials: credentials this install holds for a vendor rather than each connection, by
            `Vendor` value (Merge: the app's API key, `SCALEUP_MERGE_API_KEY`; each connection holds its
            linked-account token). Never printed.
        sleep, rand, now: injected in tests so back-off takes no real time.
    """

    timeout: float = 20.0
    connect_timeout: float = 5.0
    max_tries: int = 4
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    max_retry_after: float = 60.0
    max_connections: int = 10
    user_agent: str = "ScaleUp-ATS-Export/0.1"
    page_size: int | None = None
    public_hosts_only: bool = False
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)
    on_request: RequestObserver | None = field(default=None, repr=False, compare=False)
    app_credentials: Mapping[str, Mapping[str, str]] = field(default_factory=dict, repr=False, compare=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    rand: Callable[[], float] = field(default=random.random, repr=False)
    now: Callable[[], float] = field(default=time.time, repr=False)

    def backoff(self, attempt: int) -> float:
        """Return the jittered delay before try `attempt + 1` (attempt counts from 1)."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
        # "Equal jitter": never less than half the ceiling, so bursts of clients still spread out.
        return ceiling / 2 + self.rand() * ceiling / 2


def make_http_client(
    config: ConnectionConfig,
    *,
    default_base_url: str,
    options: HttpOptions,
    auth: httpx.Auth | tuple[str, str] | None = None,
) -> httpx.Client:
    """Build the pooled client for one connection; `config.base_url` overrides the vendor's URL."""
    verify: ssl.SSLContext | bool = options.ssl_context if options.ssl_context is not None else True
    limits = httpx.Limits(
        max_connections=options.max_connections, max_keepalive_connections=options.max_connections
    )
    return httpx.Client(
        base_url=config.base_url or default_base_url,
        auth=auth,
        verify=verify,
        timeout=httpx.Timeout(options.timeout, connect=options.connect_timeout),
        limits=limits,
        transport=PublicHostsTransport(verify=verify, limits=limits) if options.public_hosts_only else None,
        headers={"User-Agent": options.user_agent, "Accept": "application/json"},
        follow_redirects=False,
    )


def build_http(
    config: ConnectionConfig,
    *,
    label: str,
    default_base_url: str,
    classifier: Classifier,
    budget: RateBudget,
    options: HttpOptions,
    auth: httpx.Auth | tuple[str, str] | None = None,
    window_hint: WindowHint | None = None,
) -> AtsHttp:
    """Build the `AtsHttp` an adapter uses for `config`; every secret value is scrubbed from its errors.

    `label` is the vendor's name its errors carry (`SPEC.label`). `auth` is sent with every request (e.g.
    Basic `(api_key, "")`); requests may pass their own.
    `window_hint` reads the vendor's rate headers so the budget holds off before a 429 (see
    `remaining_reset_hint`).
    """
    return AtsHttp(
        make_http_client(config, default_base_url=default_base_url, options=options, auth=auth),
        vendor=label,
        classifier=classifier,
        budget=budget,
        options=options,
        secrets=tuple(config.secrets.values()),
        window_hint=window_hint,
        vendor_key=str(config.vendor),
        # An admin-typed URL may be anyone's server: what it answers never reaches Slack as its own text.
        own_words=options.public_hosts_only and config.base_url not in (None, default_base_url),
    )


#: What an error answer of each kind says, in ScaleUp's words (`AtsHttp.own_words`).
_OWN_WORDS = {
    "auth_failed": "refused the credentials",
    "permission_missing": "refused: the credentials lack a permission",
    "not_found": "answered that what was asked for does not exist",
    "validation_failed": "refused the data it was sent",
    "already_exists": "answered that the record exists already",
    "rate_limited": "asked to slow down",
}


def _in_own_words(error: AtsError, status: int) -> AtsError:
    """Replace the answer's text in `error` by its kind and HTTP status (ids parsed from it stay)."""
    error.message = f"{_OWN_WORDS.get(error.code, 'answered with an error')} (HTTP {status})"
    error.args = (error.message,)
    if isinstance(error, ValidationFailed):
        error.field_errors = {}
    return error


@dataclass(frozen=True)
class _Attempt:
    error: AtsError
    retry: bool
    delay: float


class AtsHttp:
    """Send requests for one ATS connection: budget, classify, bounded retry with back-off.

    Args:
        client: the pooled `httpx.Client` (see `make_http_client`); closed by `close()`.
        vendor: display name put in every error ("Greenhouse").
        classifier: the vendor's status/body → error mapping; requests may pass their own.
        budget: the connection's rate budget; `acquire()` is called before every try.
        options: retry policy and injected sleep/clock.
        secrets: credential values scrubbed from every error message.
        window_hint: reads rate headers of successful responses; a hold becomes `budget.penalize(hold)`.
        own_words: an error answer is described by its kind and status only, never with the answer's text.
        vendor_key: the vendor's `Vendor` value, naming it to `options.on_request`.
    """

    def __init__(
        self,
        client: httpx.Client,
        *,
        vendor: str,
        classifier: Classifier,
        budget: RateBudget,
        options: HttpOptions,
        secrets: Sequence[str] = (),
        window_hint: WindowHint | None = None,
        own_words: bool = False,
        vendor_key: str = "",
    ) -> None:
        self.client = client
        self.vendor_key = vendor_key or vendor.lower()
        self.window_hint = window_hint
        self.own_words = own_words
        self.vendor = vendor
        self.classifier = classifier
        self.budget = budget
        self.options = options
        self._secrets = tuple(secrets)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        classifier: Classifier | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send one request and return the successful response.

        Raises:
            AtsError: the classified error once it is not retryable or the tries ran out; transport
                failures become `VendorUnavailable`.
        """
        method = method.upper()
        classify = classifier or self.classifier
        safe = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        tries = max(1, self.options.max_tries)
        try:
            path = httpx.URL(url).path or url
        except UnicodeError:
            raise self._unsendable(method, "its URL") from None
        for attempt in range(1, tries + 1):
            self.budget.acquire()
            started = time.perf_counter()
            try:
                response = self.client.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    data=data,
                    headers=headers,
                    auth=auth or httpx.USE_CLIENT_DEFAULT,
                )
            except AddressNotAllowed as exc:
                raise AddressRefused(self.vendor, f"not called: {exc}") from None
            except httpx.HTTPError as exc:
                outcome = self._transport_failure(exc, method, path, attempt, safe)
                self._observe(method, None, started, outcome.error)
            except UnicodeError:
                raise self._unsendable(method, path) from None
            else:
                error = classify(response)
                self._observe(method, response.status_code, started, error)
                if error is None:
                    self._heed_window(response)
                    return response
                if self.own_words:
                    error = _in_own_words(error, response.status_code)
                outcome = self._http_failure(error, response, attempt, safe)
            if not outcome.retry or attempt == tries:
                raise self._clean(outcome.error)
            log.info(
                "%s %s %s failed (%s), try %d of %d in %.2fs",
                self.vendor,
                method,
                path,
                outcome.error.code,
                attempt,
                tries,
                outcome.delay,
            )
            self.options.sleep(outcome.delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _observe(self, method: str, status: int | None, started: float, error: AtsError | None) -> None:
        if self.options.on_request is not None:
            seconds = time.perf_counter() - started
            code = error.code if error is not None else None
            self.options.on_request(SentRequest(self.vendor_key, method, status, seconds, code))

    def _unsendable(self, method: str, where: str) -> ValidationFailed:
        # An id the ATS itself returned can hold a lone surrogate (valid JSON, not encodable in a URL or
        # header): nothing was sent, and sending it again cannot work.
        return ValidationFailed(
            self.vendor, f"a value in the {method} request ({where}) holds characters that cannot be sent"
        )

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        """Send a GET (see `request`)."""
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        """Send a POST (see `request`)."""
        return self.request("POST", url, **kwargs)

    def close(self) -> None:
        """Close the pooled connections."""
        self.client.close()

    def _heed_window(self, response: httpx.Response) -> None:
        hold = self.window_hint(response, self.options.now()) if self.window_hint else None
        if hold:
            log.info("%s says its rate window is spent; holding requests for %.1fs", self.vendor, hold)
            self.budget.penalize(hold)

    def _transport_failure(
        self, exc: httpx.HTTPError, method: str, path: str, attempt: int, safe: bool
    ) -> _Attempt:
        # The exception text can carry the URL; only its class name reaches the error.
        kind = "did not answer in time" if isinstance(exc, httpx.TimeoutException) else "could not be reached"
        error = VendorUnavailable(self.vendor, f"{kind} ({type(exc).__name__} on {method} {path})")
        retry = isinstance(exc, _SAFE_WRITE_RETRY_EXCEPTIONS) or (safe and isinstance(exc, _RETRY_EXCEPTIONS))
        return _Attempt(error, retry, self.options.backoff(attempt))

    def _http_failure(self, error: AtsError, response: httpx.Response, attempt: int, safe: bool) -> _Attempt:
        status = response.status_code
        retry_ok = safe or status in _SAFE_WRITE_RETRY_STATUSES
        if isinstance(error, RateLimited):
            retry_after = parse_retry_after(response.headers.get("Retry-After"), now=self.options.now())
            if retry_after is None:
                retry_after = error.retry_after
            wait = self.options.backoff(attempt) if retry_after is None else retry_after
            self.budget.penalize(wait)
            error.retry_after = wait
            # A little jitter on top of Retry-After keeps workers that were told the same instant apart.
            delay = wait + self.options.rand() * min(1.0, self.options.backoff_base)
            # A rate-limited request was not processed, so even a write is safe to send again.
            return _Attempt(error, wait <= self.options.max_retry_after, delay)
        if isinstance(error, VendorUnavailable) or status >= 500:
            return _Attempt(error, retry_ok, self.options.backoff(attempt))
        return _Attempt(error, False, 0.0)

    def _clean(self, error: AtsError) -> AtsError:
        error.message = scrub(error.message, self._secrets)
        error.hint = scrub(error.hint, self._secrets)
        error.args = (error.message,)
        if isinstance(error, ValidationFailed):
            error.field_errors = {k: scrub(v, self._secrets) for k, v in error.field_errors.items()}
        return error
