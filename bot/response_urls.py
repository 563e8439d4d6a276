"""Answer only to Slack's own response URLs.

A `response_url` arrives inside the request (command, interaction), and Bolt's `respond()` POSTs to
whatever it says. The signature proves the request is Slack's, but the check is cheap and a leaked signing
secret should not turn the app into a POST relay. Every reply through `respond()` goes through the
middleware here, installed before every listener and the error handler: a response URL that is not
`https://hooks.slack.com/…` (or GovSlack's `hooks.slack-gov.com`), nor on the host of `SLACK_API_URL`
(where the operator already sends the bot token: the loopback stand-in in tests and the demo), is dropped
with a warning and the reply goes nowhere.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from slack_bolt import BoltContext

log = logging.getLogger(__name__)

#: Where Slack's response URLs point (docs.slack.com, "Handling user interaction": hooks.slack.com).
SLACK_RESPONSE_ORIGINS = ("https://hooks.slack.com", "https://hooks.slack-gov.com")

Origin = tuple[str, str, int]


def _origin(url: str) -> Origin | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.username is not None or parts.password is not None or not parts.hostname:
        return None
    default = {"https": 443, "http": 80}.get(parts.scheme)
    if default is None:
        return None
    return parts.scheme, parts.hostname.lower(), port or default


class ResponseUrls:
    """The origins (scheme, host, port) a response URL may point at."""

    def __init__(self, origins: Iterable[str]) -> None:
        self._origins = {o for o in map(_origin, origins) if o is not None}

    @classmethod
    def for_api(cls, slack_api_url: str) -> ResponseUrls:
        """Return Slack's own origins plus that of `slack_api_url` (SLACK_API_URL)."""
        return cls([*SLACK_RESPONSE_ORIGINS, slack_api_url])

    def allows(self, url: str) -> bool:
        """Return True when `url` points at one of the allowed origins."""
        return _origin(url) in self._origins


def _dropped(*_args: Any, **_kwargs: Any) -> None:
    log.info("A reply was not sent: the request's response_url is not Slack's")


def guard_response_urls(allowed: ResponseUrls) -> Callable[..., Any]:
    """Return the Bolt middleware that replaces `respond()` when the request's response URL is not allowed."""

    def middleware(context: BoltContext, next: Callable[[], Any]) -> Any:
        url = context.response_url
        if url is not None and not allowed.allows(url):
            origin = _origin(url)
            log.warning("Dropped a response_url that is not Slack's (host %s)", origin[1] if origin else "?")
            context["response_url"] = None
            context["respond"] = _dropped
        return next()

    return middleware
