"""Build requests the way Slack sends them: signed bodies for slash commands and interactions.

Used by the tests, the demo and the benchmarks to drive the app over real HTTP. The signature is Slack's
v0 scheme (https://docs.slack.dev/authentication/verifying-requests-from-slack), computed with slack-sdk's
own `SignatureVerifier`, so the app's verification is exercised exactly as in production.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

FORM = "application/x-www-form-urlencoded"


def signed_headers(
    signing_secret: str, body: str, *, timestamp: int | None = None, content_type: str = FORM
) -> dict[str, str]:
    """Return the headers Slack sends with `body`: content type, timestamp and v0 signature."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=stamp, body=body)
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}


def command_body(
    *,
    text: str,
    team_id: str,
    user_id: str,
    channel_id: str = "C0GENERAL",
    trigger_id: str,
    response_url: str,
    command: str = "/scaleup",
    team_domain: str = "acme",
) -> str:
    """Return a slash-command request body (form fields, as Slack posts them)."""
    return urlencode(
        {
            "token": "verification-token-unused",
            "team_id": team_id,
            "team_domain": team_domain,
            "channel_id": channel_id,
            "channel_name": "general",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0001",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def interaction_body(payload: dict[str, Any]) -> str:
    """Return an interaction request body (`payload=<JSON>`), as Slack posts block actions and submissions."""
    return urlencode({"payload": json.dumps(payload)})


def event_body(payload: dict[str, Any]) -> str:
    """Return an Events API request body (JSON)."""
    return json.dumps(payload)
