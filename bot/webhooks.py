"""`POST /ats/webhooks/<token>`: ATS change notifications in, verified, answered fast, acted on after.

The token (random, per connection, in the URL the vendor was given) says which connection a delivery is for;
the vendor's signature, checked with the connection's webhook secret (`sync.webhooks.receive`), says it is the
vendor's. The answer leaves once the delivery is verified and recorded; records the payload only names are
read back from the ATS on the background pool, so a vendor waiting a few seconds for our answer never times
out and redelivers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from bot.deps import Deps
from bot.features.export.live import redraw_stale
from bot.http_limits import WEBHOOK_PREFIX
from bot.slack_clients import clients_by_team
from sync.webhooks import MAX_BODY, read_back, receive

log = logging.getLogger(__name__)

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def make_webhook_app(deps: Deps) -> Wsgi:
    """Return the WSGI app answering ATS webhook deliveries with `deps`' adapters and background pool."""
    sessions = deps.services.sessions
    engine = deps.exports
    clients = clients_by_team(deps.services)

    def follow_up(connection_id: int, to_read: list[int]) -> None:
        if to_read:
            read_back(sessions, adapter_for(connection_id), to_read)
        redraw_stale(sessions, clients)  # the candidates' answers in Slack show where they are now

    def adapter_for(connection_id: int):  # the shared adapter: its rate budget covers the read-backs too
        assert engine is not None
        return engine.adapter_for(connection_id)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return _answer(start_response, 405, "Webhooks are delivered with POST.")
        if engine is None:
            return _answer(start_response, 503, "Exporting is not available in this installation.")
        token = (environ.get("PATH_INFO") or "").removeprefix(WEBHOOK_PREFIX).strip("/")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            return _answer(start_response, 413, f"A webhook delivery is at most {MAX_BODY:,} bytes.")
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        intake = receive(sessions, adapter_for, token, headers, body)
        if intake.connection_id is not None and (intake.to_read or intake.applied):
            deps.background.submit(follow_up, intake.connection_id, intake.to_read)
        return _answer(start_response, intake.status, intake.message)

    return application


def _answer(start_response: Callable[..., Any], status: int, message: str) -> Iterable[bytes]:
    reasons = {
        200: "OK",
        400: "Bad Request",
        401: "Unauthorized",
        404: "Not Found",
        405: "Method Not Allowed",
        413: "Content Too Large",
        503: "Service Unavailable",
    }
    data = json.dumps({"ok": status == 200, "message": message}).encode()
    start_response(
        f"{status} {reasons.get(status, 'Error')}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
    )
    return [data]
