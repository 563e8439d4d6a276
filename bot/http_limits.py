"""What one HTTP request may cost the server: body sizes per path, read time, open connections.

waitress reads a request's whole body before the WSGI app sees it, so a cap checked in the app comes too
late: a 200 MB body would already sit in memory or a temporary file. The caps here are applied by
waitress's parser as soon as the request line and headers are in (`Content-Length` over the path's cap is
answered 413 without reading the body; a chunked body is cut off at the cap), and a client that sends its
request too slowly is answered 408 and disconnected, so slow or idle clients hold a connection slot (never
a thread: waitress reads requests on its event loop) for a bounded time. In production put a reverse proxy
that buffers requests in front (README, "Behind a reverse proxy").
"""

from __future__ import annotations

import time
from copy import copy
from dataclasses import dataclass
from typing import Any

from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.utilities import Error, RequestEntityTooLarge

from bot.app import EVENTS_PATH
from bot.settings import Settings

API_PREFIX = "/api/v1"
#: ATS webhooks arrive at `<prefix><connection's webhook token>` (`bot.webhooks`).
WEBHOOK_PREFIX = "/ats/webhooks/"

MIB = 1024 * 1024


@dataclass(frozen=True)
class HttpLimits:
    """Per-request bounds of the HTTP server.

    Attributes:
        slack_body_bytes: the largest body on /slack/events. Slack's largest payloads are view submissions:
            the link modal at its fullest (100 searches, 100 stages, every option named at Slack's 75
            characters) is about 53 KB form-encoded (`tests/reliability/test_http_limits.py` measures it).
        api_body_bytes: the largest ingest API body; a batch of 1,000 candidates with every field is ~2 MB.
        webhook_body_bytes: the largest ATS webhook delivery (vendors' change notifications are a few KB).
        other_body_bytes: any other path (health, OAuth pages take no body).
        header_seconds: the request line and headers must arrive within this time of the first byte.
        request_seconds: the whole request (with its body) must arrive within this time of the first byte.
        idle_seconds: a connection that sends nothing for this long is closed (waitress's channel_timeout).
        connection_limit: open connections at most; slow clients beyond it wait in the listen backlog.
    """

    slack_body_bytes: int = 1 * MIB
    api_body_bytes: int = 16 * MIB
    webhook_body_bytes: int = 1 * MIB
    other_body_bytes: int = 64 * 1024
    header_seconds: float = 10.0
    request_seconds: float = 60.0
    idle_seconds: int = 30
    connection_limit: int = 1000

    def body_cap(self, path: str) -> tuple[int, str]:
        """Return the largest body accepted on `path`, and what the path is (for the refusal's text)."""
        if path == EVENTS_PATH:
            return self.slack_body_bytes, "Slack requests"
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            return self.api_body_bytes, "ingest API requests"
        if path.startswith(WEBHOOK_PREFIX):
            return self.webhook_body_bytes, "ATS webhook deliveries"
        return self.other_body_bytes, "requests to this path"

    def waitress_options(self) -> dict[str, Any]:
        """Return `waitress.create_server` keyword arguments that enforce these limits."""
        return {
            "max_request_body_size": max(self.slack_body_bytes, self.api_body_bytes, self.other_body_bytes),
            "max_request_header_size": 64 * 1024,  # Slack's headers are a few hundred bytes
            "channel_timeout": self.idle_seconds,
            "cleanup_interval": max(1, min(10, self.idle_seconds // 3)),
            "connection_limit": self.connection_limit,
            "asyncore_use_poll": True,  # select() cannot watch descriptors past 1024
        }


def limits_of(settings: Settings) -> HttpLimits:
    """Return the limits `scaleup serve` runs with (the body caps are fixed: see HttpLimits)."""
    return HttpLimits(
        header_seconds=settings.http_header_seconds,
        request_seconds=settings.http_request_seconds,
        idle_seconds=settings.http_idle_seconds,
        connection_limit=settings.http_connection_limit,
    )


class RequestTimeout(Error):
    code = 408
    reason = "Request Timeout"


def limited_channel(limits: HttpLimits) -> type[HTTPChannel]:
    """Return a waitress channel class whose requests obey `limits` (set as the server's `channel_class`)."""

    class LimitedParser(HTTPRequestParser):
        def __init__(self, adj: Any) -> None:
            super().__init__(adj)
            self.first_byte = time.monotonic()  # waitress makes a parser when a request's first bytes arrive

        def parse_header(self, header_plus: bytes) -> None:
            super().parse_header(header_plus)
            cap, what = limits.body_cap(self.path or "/")
            self.cap_text = f"{what} are at most {cap:,} bytes; this one is larger"
            if cap < self.adj.max_request_body_size:
                # waitress compares Content-Length (and a chunked body's bytes) with adj's cap right after.
                adj = copy(self.adj)
                adj.max_request_body_size = cap + 1
                self.adj = adj

        def received(self, data: bytes) -> int:
            consumed = super().received(data)
            if isinstance(self.error, RequestEntityTooLarge):
                self.error = RequestEntityTooLarge(self.cap_text)
            elif not self.completed:
                elapsed = time.monotonic() - self.first_byte
                if not self.headers_finished and elapsed > limits.header_seconds:
                    self._time_out(f"the headers must arrive within {limits.header_seconds:g} s")
                elif elapsed > limits.request_seconds:
                    self._time_out(f"the request must arrive within {limits.request_seconds:g} s")
            return consumed

        def _time_out(self, text: str) -> None:
            if not self.headers_finished:
                self.parse_header(b"GET / HTTP/1.1\r\n")  # an error answer needs a parsed request line
            self.error = RequestTimeout(text)
            self.completed = True

    class LimitedChannel(HTTPChannel):
        parser_class = LimitedParser

    return LimitedChannel
