"""What `/scaleup help` (and an unknown subcommand) answers: pure functions of the typed subcommand."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.features.router.ids import Subcommand
from bot.ids import SLASH_COMMAND
from bot.views import clip, escape, note, section

#: One line per subcommand, in the order the usage lists them.
USAGE: dict[Subcommand, str] = {
    Subcommand.LINK: "`{cmd} link [search]` — link a search to an ATS job and choose how it exports",
    Subcommand.EXPORT: "`{cmd} export [search]` — export chosen candidates now",
    Subcommand.STATUS: "`{cmd} status [search]` — what was exported, what failed and why",
    Subcommand.PREVIEW: "`{cmd} preview <search>` — what exporting a linked search now would do (changes nothing)",
    Subcommand.HISTORY: "`{cmd} history <name or email>` — everything that happened to a candidate's export",
    Subcommand.CONNECT: "`{cmd} connect` — connect your ATS (admins)",
    Subcommand.ADMINS: "`{cmd} admins add @user` — let someone connect the ATS and change links (admins)",
    Subcommand.HELP: "`{cmd} help` — this list",
}


def usage_text(unknown: str | None = None) -> str:
    """Return the usage as plain text (the notification fallback of `usage_blocks`)."""
    lead = f"I don't know `{clip(escape(unknown), 40)}`. " if unknown else ""
    return lead + "Usage: " + "; ".join(line.format(cmd=SLASH_COMMAND) for line in USAGE.values())


def usage_blocks(unknown: str | None = None) -> list[Block]:
    """Return the usage; `unknown` is the word typed when it is not a subcommand."""
    blocks: list[Block] = []
    if unknown:
        blocks.append(section(f"I don't know `{clip(escape(unknown), 40)}`. Here is what I can do:"))
    blocks.append(section("\n".join(line.format(cmd=SLASH_COMMAND) for line in USAGE.values())))
    blocks.append(
        note("Searches and candidates arrive from ScaleUp through `scaleup import` or the ingest API.")
    )
    return blocks
