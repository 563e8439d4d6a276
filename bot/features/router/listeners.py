"""`/scaleup` routing: features register their subcommands first; this fallback answers everything else.

Each feature registers `app.command(SLASH_COMMAND, matchers=[subcommand_is(...)])`, and Bolt runs the
first listener whose matchers match. This module is registered last, so it only sees `help`, unknown
subcommands, and known subcommands whose feature is not installed. The "Export to ATS" shortcut is the
export feature's (`bot.features.export`).
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.deps import Deps
from bot.features.router.ids import Subcommand, split_command
from bot.features.router.views import coming_soon_text, usage_blocks, usage_text
from bot.ids import SLASH_COMMAND


def register(app: App, deps: Deps) -> None:
    """Register the fallback command listener (after every feature)."""
    app.command(SLASH_COMMAND)(answer_usage)


def answer_usage(ack: Ack, body: dict[str, Any]) -> None:
    """Answer `help`, unknown subcommands and not-yet-available ones with what the command can do."""
    subcommand, word, _ = split_command(body.get("text"))
    if subcommand in (None, Subcommand.HELP):
        unknown = word if subcommand is None and word else None
        ack(text=usage_text(unknown), blocks=usage_blocks(unknown))
        return
    ack(text=coming_soon_text(subcommand))
