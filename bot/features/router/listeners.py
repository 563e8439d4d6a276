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
from bot.features.router.ids import split_command
from bot.features.router.views import usage_blocks, usage_text
from bot.ids import SLASH_COMMAND


def register(app: App, deps: Deps) -> None:
    """Register the fallback command listener (after every feature)."""
    app.command(SLASH_COMMAND)(answer_usage)


def answer_usage(ack: Ack, body: dict[str, Any]) -> None:
    """Answer `help` and unknown subcommands with what the command can do (every known one has its
    feature's listener, registered before this fallback)."""
    subcommand, word, _ = split_command(body.get("text"))
    unknown = word if subcommand is None and word else None
    ack(text=usage_text(unknown), blocks=usage_blocks(unknown))
