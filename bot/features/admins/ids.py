"""Parsing of `/scaleup admins …`."""

from __future__ import annotations

import re
from enum import StrEnum

#: With `should_escape: true` in the manifest, Slack sends mentions as <@U123> or <@U123|name>.
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


class AdminsAction(StrEnum):
    """What `/scaleup admins` can do."""

    ADD = "add"
    LIST = "list"


def mentioned_users(text: str) -> list[str]:
    """Return the user ids mentioned in `text`, in order, without repeats."""
    seen: list[str] = []
    for user_id in MENTION.findall(text):
        if user_id not in seen:
            seen.append(user_id)
    return seen
