"""The App Home tab: the connection's health, every search with its ⚡ export settings, linked searches'
counts and options, recent failures with Retry, alerts that could not be posted (pure functions).

Counts are `exports.report.LinkReport`s, the numbers `/scaleup status` and `scaleup status --json` show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.features.alerts.views import add_to_job_button, fix_for, retry_button
from bot.features.connect.ids import ConnectIds
from bot.features.export.ids import CandidateRef
from bot.features.home.ids import HomeIds
from bot.features.router.views import usage_blocks
from bot.features.status.views import counts_line, funnel_line, moves_line, report_title, run_lines
from bot.ids import SLASH_COMMAND
from bot.views import SECTION_TEXT_MAX, ago, clip, escape, note, section
from core.redaction import redact
from exports.report import LinkReport

#: Slack's limit on blocks in a Home tab (https://docs.slack.dev/reference/block-kit/blocks).
HOME_BLOCKS_MAX = 100
#: Failures, held-back candidates and undeliverable alerts the tab lists (the rest are counted).
MAX_FAILURES = 5
MAX_HELD_BACK = 5
MAX_UNDELIVERED = 5


@dataclass(frozen=True)
class ConnectionHealth:
    """The workspace's ATS connection as the tab shows it."""

    vendor: str
    healthy: bool
    last_error: str | None = None
    last_checked_at: datetime | None = None


@dataclass(frozen=True)
class SearchRow:
    """One search of the workspace; `report` is its link's status when it is linked."""

    search_id: int
    name: str
    report: LinkReport | None = None


@dataclass(frozen=True)
class FailureRow:
    """A failed export, with what the recruiter needs to retry it (never an email address)."""

    export_id: int
    name: str
    search: str
    reason: str | None


@dataclass(frozen=True)
class HeldBackRow:
    """A candidate a link held back because the ATS has them already (never an email address)."""

    candidate_id: int
    link_id: int
    name: str
    search: str
    ats_url: str | None


@dataclass(frozen=True)
class UndeliveredRow:
    """An alert Slack would not take; kept until someone fixes the channel and posts it again."""

    alert_id: int
    kind: str
    search: str | None
    channel: str | None
    error: str | None
    raised_at: datetime | None = None


@dataclass(frozen=True)
class HomeData:
    """Everything the Home tab shows (collected by the listener from the database)."""

    now: datetime
    connection: ConnectionHealth | None
    searches: list[SearchRow] = field(default_factory=list)
    search_count: int = 0
    failures: list[FailureRow] = field(default_factory=list)
    failure_count: int = 0
    held_back: list[HeldBackRow] = field(default_factory=list)
    held_back_count: int = 0
    vendor_takes_exports: bool = True
    undelivered: list[UndeliveredRow] = field(default_factory=list)
    undelivered_count: int = 0
    notice: str | None = None


def _button_section(text: str, button: ButtonElement | None) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip(text, SECTION_TEXT_MAX)), accessory=button)


def connection_blocks(data: HomeData) -> list[Block]:
    """Return the connection's health and the buttons that act on it."""
    health = data.connection
    if health is None:
        return [
            _button_section(
                ":electric_plug: *No ATS is connected yet.* A workspace admin connects one first.",
                ButtonElement(text="Connect your ATS", action_id=ConnectIds.OPEN_BUTTON, style="primary"),
            )
        ]
    checked = f" (checked {ago(health.last_checked_at, data.now)})" if health.last_checked_at else ""
    if health.healthy:
        text = f":large_green_circle: *{escape(health.vendor)} is connected and working*{checked}."
        button = None
    else:
        error = escape(clip(redact(health.last_error) or "it refused the last request", 500))
        text = (
            f":red_circle: *The {escape(health.vendor)} connection is broken*{checked}: {error}\n"
            "Exports are on hold until an admin reconnects."
        )
        button = ButtonElement(text="Reconnect", action_id=ConnectIds.OPEN_BUTTON, style="danger")
    return [
        _button_section(text, button),
        ActionsBlock(
            elements=[
                ButtonElement(text="Export now", action_id=HomeIds.EXPORT_NOW, style="primary", value="all"),
                ButtonElement(text="Refresh", action_id=HomeIds.REFRESH, value="refresh"),
            ]
        ),
        note(
            "Export now runs a pass of every linked search that is not paused; alerts follow in their channels."
        ),
    ]


def undelivered_blocks(data: HomeData) -> list[Block]:
    """Return the alerts that could not be posted, each with its fix and a Post again button."""
    if not data.undelivered:
        return []
    blocks: list[Block] = [
        section(f"*:mailbox_with_no_mail: Alerts that could not be posted ({data.undelivered_count})*")
    ]
    for row in data.undelivered:
        where = f"<#{row.channel}>" if row.channel else "no channel"
        about = f" of “{escape(row.search)}”" if row.search else ""
        text = (
            f"*{escape(row.kind.replace('_', ' ').capitalize())}*{about} → {where}: `{escape(row.error or 'error')}`\n"
            f"{escape(fix_for(row.error))}"
        )
        blocks.append(
            _button_section(
                text, ButtonElement(text="Post again", action_id=HomeIds.REDELIVER, value=str(row.alert_id))
            )
        )
    if data.undelivered_count > len(data.undelivered):
        blocks.append(note(f"…and {data.undelivered_count - len(data.undelivered)} more."))
    return blocks


def failure_blocks(data: HomeData) -> list[Block]:
    """Return the most recent failed exports with a Retry button each."""
    if not data.failures:
        return []
    blocks: list[Block] = [section(f"*:x: Recent failures ({data.failure_count})*")]
    for row in data.failures:
        reason = escape(clip(redact(row.reason) or "no reason given", 300))
        text = f"*{escape(redact(row.name))}* ({escape(row.search)}) — {reason}"
        blocks.append(_button_section(text, retry_button(row.export_id)))
    if data.failure_count > len(data.failures):
        blocks.append(
            note(
                f"…and {data.failure_count - len(data.failures)} more: "
                f"`{SLASH_COMMAND} status <search>` lists them per link."
            )
        )
    return blocks


def held_back_blocks(data: HomeData) -> list[Block]:
    """Return the candidates most recently held back as already in the ATS, each with "Add to this job"."""
    if not data.held_back or not data.vendor_takes_exports:
        return []
    vendor = escape(data.connection.vendor) if data.connection else "the ATS"
    blocks: list[Block] = [
        section(f"*:raised_hand: Held back: already in {vendor} ({data.held_back_count})*")
    ]
    for row in data.held_back:
        record = (
            f" — <{row.ats_url}|View record>" if row.ats_url and row.ats_url.startswith("https://") else ""
        )
        text = f"*{escape(redact(row.name))}* ({escape(row.search)}){record}"
        button = add_to_job_button(CandidateRef(candidate_id=row.candidate_id, link_id=row.link_id))
        blocks.append(_button_section(text, button))
    if data.held_back_count > len(data.held_back):
        blocks.append(note(f"…and {data.held_back_count - len(data.held_back)} more."))
    return blocks


def search_blocks(row: SearchRow) -> list[Block]:
    """Return one search: its name (and link status when linked) with the ⚡ export settings button."""
    button = ButtonElement(text="⚡ Export settings", action_id=HomeIds.OPEN_LINK, value=str(row.search_id))
    report = row.report
    if report is None:
        return [_button_section(f"*{escape(row.name)}* — not linked to the ATS", button)]
    lines = [report_title(report), counts_line(report)]
    if funnel := funnel_line(report):
        lines.append(funnel)
    if moves := moves_line(report):
        lines.append(moves)
    if report.paused and report.paused_reason:
        lines.append(f":double_vertical_bar: Paused: {escape(redact(report.paused_reason))}")
    details = run_lines(report)
    options = [f"alerts in <#{report.alert_channel}>" if report.alert_channel else "no alert channel"]
    if report.interval_minutes:
        options.append(f"every {report.interval_minutes} min")
    details.append("Options: " + ", ".join(options))
    if report.last_error and report.last_error != report.paused_reason:
        details.append(f"Last error: {escape(clip(redact(report.last_error), 300))}")
    return [_button_section("\n".join(lines), button), note("\n".join(details))]


def home_view(data: HomeData | None = None) -> View:
    """Return the Home tab (without data: what the app does and how to start)."""
    blocks: list[Block] = [HeaderBlock(text="ScaleUp ATS Export")]
    if data is None:
        return View(type="home", blocks=[*blocks, *usage_blocks()])
    if data.notice:
        blocks.append(note(data.notice))
    blocks.extend(connection_blocks(data))
    top = [*undelivered_blocks(data), *failure_blocks(data), *held_back_blocks(data)]
    if top:
        blocks.append(DividerBlock())
        blocks.extend(top)
    blocks.append(DividerBlock())
    blocks.append(section(f"*Searches ({data.search_count})*"))
    if not data.searches:
        blocks.append(
            note("No searches yet: they arrive from ScaleUp through `scaleup import` or the ingest API.")
        )
    shown = 0
    for row in data.searches:
        more = search_blocks(row)
        if len(blocks) + len(more) > HOME_BLOCKS_MAX - 2:
            break
        blocks.extend(more)
        shown += 1
    if data.search_count > shown:
        blocks.append(
            note(
                f"…and {data.search_count - shown} more searches: `{SLASH_COMMAND} link <search>` opens any of them."
            )
        )
    return View(type="home", blocks=blocks)
