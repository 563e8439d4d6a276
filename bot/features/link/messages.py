"""Messages around the link modal: no ATS yet, no searches yet, and the confirmation of a saved link."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from ats.registry import spec_of
from bot.features.connect.ids import ConnectIds
from bot.ids import SLASH_COMMAND
from bot.views import clip, escape, note, section
from core.vocabulary import Vendor
from storage.enums import ExportAs, LinkMode


def no_ats_blocks(*, can_connect: bool) -> list[Block]:
    """Return the answer to `/scaleup link` when no ATS is connected (with a Connect button for admins)."""
    blocks: list[Block] = [section("No ATS is connected yet, so there is nothing to link a search to.")]
    if can_connect:
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(action_id=ConnectIds.OPEN_BUTTON, text="Connect your ATS", style="primary")
                ]
            )
        )
    else:
        blocks.append(note(f"Ask a workspace admin to run `{SLASH_COMMAND} connect`."))
    return blocks


NO_ATS_TEXT = "No ATS is connected yet."

NO_SEARCHES_TEXT = (
    "There are no searches yet. Searches arrive from ScaleUp: the sourcing platform sends them to the "
    "ingest API (`PUT /api/v1/searches/{id}`, with a workspace token from `scaleup tokens create`), or an "
    "operator runs `scaleup import candidates FILE --team <team id> --search <name>`. Then run "
    f"`{SLASH_COMMAND} link` again."
)


@dataclass(frozen=True)
class LinkSummary:
    """What a saved link does, for the confirmation message."""

    search: str
    vendor: Vendor
    job: str | None
    stage: str | None
    export_as: ExportAs
    mode: LinkMode
    interval_minutes: int
    channel: str | None


@dataclass(frozen=True)
class PreflightCounts:
    """The export engine's preflight of a link, as the confirmation shows it."""

    total: int
    will_export: int
    missing_email: int
    already_in_ats: int
    already_done: int


def confirmation_text(summary: LinkSummary, preflight: PreflightCounts | None) -> str:
    """Return the confirmation posted to the recruiter after a link is saved."""
    search = escape(clip(summary.search, 200))
    if summary.job is None:
        lines = [
            f":white_check_mark: *{search}* now leaves out candidates {spec_of(summary.vendor).label} already has."
        ]
    else:
        where = f" at *{escape(clip(summary.stage, 100))}*" if summary.stage else ""
        kind = "applicants" if summary.export_as is ExportAs.APPLICANT else "prospects"
        lines = [
            (
                f":white_check_mark: *{search}* is linked to *{escape(clip(summary.job, 200))}* in "
                f"{spec_of(summary.vendor).label}, exporting {kind}{where}."
            )
        ]
    if summary.mode is LinkMode.AUTOMATIC:
        lines.append(f"Exports run automatically every {summary.interval_minutes} minutes.")
    else:
        lines.append(f"Exports run only when someone asks (`{SLASH_COMMAND} export`).")
    if preflight is not None:
        first = "The first automatic pass" if summary.mode is LinkMode.AUTOMATIC else "An export now"
        lines.append(
            f"{first} would export *{preflight.will_export}* of {preflight.total} candidates; "
            f"{preflight.missing_email} have no email of the chosen kinds (Reachout on LinkedIn), "
            f"{preflight.already_in_ats} are already in {spec_of(summary.vendor).label}, "
            f"{preflight.already_done} were handled before."
        )
    if summary.channel:
        lines.append(f"Alerts go to <#{summary.channel}>.")
    return "\n".join(lines)
