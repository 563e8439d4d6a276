"""Drive the app the way Slack does: signed commands, interactions and events over real HTTP.

Shipped with the package because `scaleup demo` and the benchmarks use it as well as the tests. Payloads
follow the shapes Slack sends (bolt-python's scenario tests and
https://docs.slack.dev/reference/interaction-payloads).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from devkit.slack.signing import command_body, event_body, interaction_body, signed_headers

APP_ID = "A0001"


def new_trigger() -> str:
    """Return a fresh trigger id (single-use, like Slack's), dated so the emulator can let it expire.

    Its first part is the issue time in milliseconds (`devkit.slack.emulator.trigger_issued_at`).
    """
    return f"{time.time_ns() // 1_000_000}.{uuid.uuid4().int % 10**6}.{uuid.uuid4().hex[:12]}"


def new_action_ts() -> str:
    """Return a fresh `action_ts`: Slack stamps every click and shortcut anew (repeats share theirs)."""
    return f"{time.time():.6f}{uuid.uuid4().int % 1000:03d}"


def user_of(user: str, team: str) -> dict[str, Any]:
    """Return the `user` object of an interaction payload."""
    return {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team}


def view_payload(view: dict[str, Any], values: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return `view` as Slack sends it back, with the given state values."""
    return {**view, "state": {"values": values or {}}}


def selected(value: str, text: str = "x") -> dict[str, Any]:
    """Return a `selected_option` state entry."""
    return {
        "type": "static_select",
        "selected_option": {"value": value, "text": {"type": "plain_text", "text": text}},
    }


def checked(*values: str) -> dict[str, Any]:
    """Return a checkboxes state entry."""
    return {
        "type": "checkboxes",
        "selected_options": [{"value": v, "text": {"type": "plain_text", "text": v}} for v in values],
    }


def typed(value: str | None) -> dict[str, Any]:
    """Return a plain-text input state entry."""
    return {"type": "plain_text_input", "value": value}


def conversation(channel: str) -> dict[str, Any]:
    """Return a conversations_select state entry."""
    return {"type": "conversations_select", "selected_conversation": channel}


def find_block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    """Return the block `block_id` of a view or message."""
    for block in view["blocks"]:
        if block.get("block_id") == block_id:
            return block
    raise KeyError(f"no block {block_id!r} in {[b.get('block_id') for b in view['blocks']]}")


def answer_json(response: httpx.Response) -> dict[str, Any]:
    """Return the app's JSON answer (an ack with a body), {} for an empty ack."""
    if response.status_code != 200:
        raise RuntimeError(f"the app answered HTTP {response.status_code}: {response.text[:200]}")
    if not response.text:
        return {}
    if response.headers.get("content-type", "").startswith("application/json"):
        return json.loads(response.text)
    return {"text": response.text}


@dataclass
class SlackDriver:
    """Sends what Slack would send to the app at `url`, signed with `signing_secret`.

    Slack's answer comes back as soon as the listener acknowledges; what the listener does after (open a
    modal, post a message) may still be under way. `settle`, when given, is called after each request to
    wait for it (the demo passes the app's `deps.listeners.wait_idle`), so what follows sees its effects.
    """

    url: str
    signing_secret: str
    team: str
    http: httpx.Client
    response_url: str = "https://hooks.slack.invalid/response"
    settle: Callable[[], object] | None = None

    def post(
        self,
        body: str,
        *,
        content_type: str = "application/x-www-form-urlencoded",
        timestamp: int | None = None,
        retry_num: int | None = None,
    ) -> httpx.Response:
        """POST a signed body to /slack/events (optionally as Slack's retry number `retry_num`)."""
        headers = signed_headers(self.signing_secret, body, timestamp=timestamp, content_type=content_type)
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        response = self.http.post(self.url + "/slack/events", content=body.encode(), headers=headers)
        if self.settle is not None:
            self.settle()
        return response

    def command(self, text: str, *, user: str, channel: str = "C0GENERAL") -> httpx.Response:
        """Send `/scaleup <text>` as `user`."""
        body = command_body(
            text=text,
            team_id=self.team,
            user_id=user,
            channel_id=channel,
            trigger_id=new_trigger(),
            response_url=self.response_url,
        )
        return self.post(body)

    def interact(self, payload: dict[str, Any]) -> httpx.Response:
        """Send an interaction payload (block actions, suggestions, submissions, shortcuts)."""
        return self.post(interaction_body(payload))

    def event(self, event: dict[str, Any]) -> httpx.Response:
        """Send an Events API callback."""
        body = {
            "type": "event_callback",
            "team_id": self.team,
            "api_app_id": APP_ID,
            "event": event,
            "event_id": "Ev" + uuid.uuid4().hex[:8],
            "event_time": 1,
        }
        return self.post(event_body(body), content_type="application/json")

    # --- payloads -------------------------------------------------------------------------------------

    def block_actions(
        self, view: dict[str, Any], action: dict[str, Any], values: dict[str, Any] | None = None, *, user: str
    ) -> dict[str, Any]:
        """Return a block_actions payload for an action in an open modal."""
        return {
            "type": "block_actions",
            "team": {"id": self.team, "domain": "acme"},
            "user": user_of(user, self.team),
            "api_app_id": APP_ID,
            "container": {"type": "view", "view_id": view["id"]},
            "trigger_id": new_trigger(),
            "view": view_payload(view, values),
            "actions": [{**action, "action_ts": new_action_ts()}],
        }

    def suggestion(
        self, view: dict[str, Any], action_id: str, block_id: str, value: str, *, user: str
    ) -> dict[str, Any]:
        """Return a block_suggestion payload (the user typed `value` into an external select)."""
        return {
            "type": "block_suggestion",
            "user": user_of(user, self.team),
            "container": {"type": "view", "view_id": view["id"]},
            "api_app_id": APP_ID,
            "action_id": action_id,
            "block_id": block_id,
            "value": value,
            "team": {"id": self.team, "domain": "acme"},
            "view": view_payload(view),
        }

    def submission(self, view: dict[str, Any], values: dict[str, Any], *, user: str) -> dict[str, Any]:
        """Return a view_submission payload with the given state values."""
        return {
            "type": "view_submission",
            "team": {"id": self.team, "domain": "acme"},
            "user": user_of(user, self.team),
            "api_app_id": APP_ID,
            "trigger_id": new_trigger(),
            "view": view_payload(view, values),
            "response_urls": [],
        }

    def message_button(
        self, button: dict[str, Any], *, channel: str, user: str, message_ts: str = "1700000200.000100"
    ) -> dict[str, Any]:
        """Return a block_actions payload for `button` (as posted) on one of the app's channel messages."""
        return {
            "type": "block_actions",
            "team": {"id": self.team, "domain": "acme"},
            "user": user_of(user, self.team),
            "api_app_id": APP_ID,
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel,
                "is_ephemeral": False,
            },
            "trigger_id": new_trigger(),
            "channel": {"id": channel, "name": "recruiting-alerts"},
            "message": {"type": "message", "ts": message_ts},
            "response_url": self.response_url,
            "actions": [
                {
                    "action_id": button["action_id"],
                    "block_id": button.get("block_id") or "actions",
                    "type": "button",
                    "value": button.get("value", ""),
                    "action_ts": new_action_ts(),
                }
            ],
        }

    def message_shortcut(
        self, callback_id: str, message: dict[str, Any], *, channel: str, user: str
    ) -> dict[str, Any]:
        """Return a message_action payload (a message shortcut used on `message` in `channel`)."""
        return {
            "type": "message_action",
            "token": "verification-token-unused",
            "action_ts": new_action_ts(),
            "team": {"id": self.team, "domain": "acme"},
            "user": user_of(user, self.team),
            "channel": {"id": channel, "name": "recruiting"},
            "callback_id": callback_id,
            "trigger_id": new_trigger(),
            "message_ts": message.get("ts", "1700000000.000100"),
            "message": message,
            "response_url": self.response_url,
        }
