"""The Slack Web API stand-in keeps Slack's rules the app must live with: single-use, short-lived triggers."""

from __future__ import annotations

import time

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from devkit.slack.driver import new_trigger
from devkit.slack.emulator import DEFAULT_TOKEN, TRIGGER_LIFETIME, SlackEmulator, trigger_issued_at

VIEW = {"type": "modal", "title": {"type": "plain_text", "text": "Hi"}, "blocks": []}


def open_error(client: WebClient, trigger: str) -> str | None:
    try:
        client.views_open(trigger_id=trigger, view=VIEW)
    except SlackApiError as exc:
        return exc.response["error"]
    return None


def test_a_dated_trigger_expires_after_slacks_three_seconds_and_is_used_once() -> None:
    with SlackEmulator(trigger_lifetime=TRIGGER_LIFETIME) as slack:
        client = WebClient(token=DEFAULT_TOKEN, base_url=slack.api_url)
        fresh = new_trigger()
        assert trigger_issued_at(fresh) == pytest.approx(time.time(), abs=60)
        assert open_error(client, fresh) is None
        assert open_error(client, fresh) == "exchanged_trigger_id"

        issued_long_ago = f"{int((time.time() - TRIGGER_LIFETIME - 1) * 1000)}.1.abc"
        assert open_error(client, issued_long_ago) == "expired_trigger_id"
        assert open_error(client, "12345.67.890abc") is None  # not dated (a fixture's): never expires


def test_triggers_do_not_expire_unless_asked() -> None:
    with SlackEmulator() as slack:
        client = WebClient(token=DEFAULT_TOKEN, base_url=slack.api_url)
        assert open_error(client, f"{int((time.time() - 60) * 1000)}.1.abc") is None
