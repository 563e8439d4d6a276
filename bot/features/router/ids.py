"""Subcommands of `/scaleup`, and matchers that route a command to the feature that handles it."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any


class Subcommand(StrEnum):
    """What `/scaleup <subcommand>` can ask for."""

    HELP = "help"
    CONNECT = "connect"
    LINK = "link"
    EXPORT = "export"
    STATUS = "status"
    HISTORY = "history"
    PREVIEW = "preview"
    ADMINS = "admins"


def split_command(text: str | None) -> tuple[Subcommand | None, str, str]:
    """Return (subcommand or None when unknown/empty, the word typed, the rest of the text)."""
    word, _, rest = (text or "").strip().partition(" ")
    try:
        return Subcommand(word.lower()), word, rest.strip()
    except ValueError:
        return None, word, rest.strip()


def subcommand_is(*wanted: Subcommand) -> Callable[..., bool]:
    """Return a Bolt listener matcher that is true when the command's first word is one of `wanted`."""

    def matches(body: dict[str, Any]) -> bool:
        return split_command(body.get("text"))[0] in wanted

    return matches
