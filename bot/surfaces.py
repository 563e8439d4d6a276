"""Slack calls made from background work, where the user may have moved on meanwhile."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View

from bot.slack_clients import waiting_client

log = logging.getLogger(__name__)

#: views.update errors that only mean "the user closed or changed the modal since": nothing to do.
GONE = frozenset({"not_found", "hash_conflict", "view_not_found"})


def update_modal_quietly(
    client: WebClient, view_id: str, view: View, *, view_hash: str | None = None
) -> dict[str, Any] | None:
    """Update a modal from background work; return the updated view, or None when it is gone or newer.

    Rate-limited updates wait out Slack's Retry-After (`bot.slack_clients.waiting_client`).
    With `view_hash`, an update that lost a race with a newer one (`hash_conflict`) is dropped: the newer
    update drew the form from fresher state.
    """
    try:
        return waiting_client(client).views_update(view_id=view_id, hash=view_hash, view=view)["view"]
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error not in GONE:
            raise
        log.debug("Modal %s not updated: %s", view_id, error)
        return None
