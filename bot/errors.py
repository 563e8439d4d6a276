"""Typed errors a recruiter can act on, and the one handler that shows any error on the right surface.

Listeners never wrap their bodies in try/except: they raise (the request's unit of work rolls back, see
`bot.middleware.scoped`), and `handle_error` (registered with `app.error`) picks the surface the user is
looking at (the slash-command reply, the open modal, a message) and answers Slack with 200 so no generic
"failed" banner appears. Errors it does not know are logged with a short reference id that the user also sees.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.context import BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import views as common_views
from core.errors import ScaleUpError

log = logging.getLogger(__name__)


def known_error_text(error: Exception) -> str | None:
    """Return the user-facing text of a typed error, or None when the error is not one of ours."""
    return error.user_message() if isinstance(error, ScaleUpError) else None


#: Interactions carry ids the app put in its own buttons, options and modal metadata.
INTERACTIONS = frozenset(
    {"block_actions", "block_suggestion", "view_submission", "message_action", "shortcut"}
)
#: What reading such an id raises when the message or modal predates a change (or the payload is odd).
UNREADABLE = (KeyError, IndexError, ValueError)  # pydantic's ValidationError is a ValueError
STALE_TEXT = (
    "This button or form no longer matches what ScaleUp has (it may come from an older message, or what it "
    "pointed to was changed). Open it again from `/scaleup` or the ScaleUp App Home tab."
)


def handle_error(
    error: Exception, body: dict[str, Any], context: BoltContext, client: WebClient, logger: logging.Logger
) -> BoltResponse | None:
    """Show `error` to the user where they are; return the HTTP answer Slack gets (always 200).

    After the listener's `ack()` the answer has left already: the error is shown through the Web API (or
    the command's response_url) and None is returned, as Bolt expects then.
    """
    text = known_error_text(error)
    if text is None and body.get("type") in INTERACTIONS and isinstance(error, UNREADABLE):
        # A verified request whose ids the listener cannot read: an old message, a changed modal. The user
        # gets a clear way forward; the log keeps the details in case it is a bug after all.
        reference = uuid.uuid4().hex[:8].upper()
        log.warning(
            "Unreadable %s payload (reference %s): %s",
            body.get("type"),
            reference,
            type(error).__name__,
            exc_info=error,
        )
        text = f"{STALE_TEXT} (reference {reference})"
    if text is None:
        reference = uuid.uuid4().hex[:8].upper()
        log.error(
            "Unexpected error (reference %s) handling a %s request",
            reference,
            body.get("type"),
            exc_info=error,
        )
        text = (
            f"Something went wrong on our side (reference {reference}). Try again; if it keeps happening, "
            "give the reference to whoever runs ScaleUp."
        )
    acked = context.ack.response if context.ack is not None else None
    try:
        answer = _show(text, body, context, client, acked)
    except SlackApiError as exc:  # the surface itself failed; the log is all that is left
        log.warning("Could not show an error to the user: %s", exc.response.get("error"))
        answer = BoltResponse(status=200, body="")
    return None if acked is not None else answer


def _show(
    text: str, body: dict[str, Any], context: BoltContext, client: WebClient, acked: BoltResponse | None
) -> BoltResponse:
    kind = body.get("type")
    if kind is None and "command" in body:  # slash commands are form fields, not a typed payload
        if acked is None:
            return _json({"response_type": "ephemeral", "text": text})
        context.respond(text=text, response_type="ephemeral")
        return acked
    if kind == "view_submission":
        error_view = common_views.notice_modal("Something went wrong", text)
        if acked is None:
            return _json({"response_action": "push", "view": error_view.to_dict()})
        client.views_update(view_id=body["view"]["id"], view=error_view)
        return acked
    if kind in ("block_actions", "shortcut", "message_action") and body.get("trigger_id"):
        error_view = common_views.notice_modal("Something went wrong", text)
        if body.get("view"):
            client.views_push(trigger_id=body["trigger_id"], view=error_view)
        else:
            client.views_open(trigger_id=body["trigger_id"], view=error_view)
        return acked or BoltResponse(status=200, body="")
    if kind == "block_suggestion":
        return acked or _json({"options": []})
    return acked or BoltResponse(status=200, body="")


def _json(payload: dict[str, Any]) -> BoltResponse:
    return BoltResponse(status=200, body=json.dumps(payload), headers={"content-type": "application/json"})
