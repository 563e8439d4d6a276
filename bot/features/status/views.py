"""`/scaleup status` as Block Kit: per link, counts per export state, runs, last error (pure functions).

The counts are `exports.report.LinkReport`'s — the same numbers App Home and `scaleup status --json` show —
and account for every candidate of the search once.
"""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import Block

from ats.registry import spec_of
from bot.features.alerts.views import MESSAGE_BLOCKS_MAX
from bot.ids import SLASH_COMMAND
from bot.views import clip, escape, note, section
from core.redaction import redact
from core.vocabulary import Vendor
from exports.report import LinkReport
from storage.enums import LinkMode

#: Links one status message shows (two blocks each, within Slack's 50 blocks per message).
MAX_LINKS = (MESSAGE_BLOCKS_MAX - 2) // 2


def slack_date(when: datetime) -> str:
    """Return a timestamp Slack shows in each reader's own time zone (with a UTC fallback)."""
    fallback = when.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(when.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def counts_line(report: LinkReport) -> str:
    """Return "Exported: 3 · Failed: 1 · Not yet seen by a pass: 2 · In the search: 6".

    Every candidate of the search is counted once: by export state, or by why the link has no record of them;
    the parts add up to the search's size.
    """
    parts = [f"{state.label}: {n}" for state, n in report.counts.items() if n]
    parts += [f"{reason.label}: {n}" for reason, n in report.not_recorded.items() if n]
    return " · ".join([*parts, f"In the search: {report.candidates}"]) if parts else "No candidates yet"


#: How a status reads in the funnel line (active records are named by their stage).
STATUS_WORDS = {"rejected": "Rejected", "hired": "Hired", "archived": "Archived"}


def funnel_line(report: LinkReport) -> str | None:
    """Return where the link's records stand in the ATS now, e.g. "In Greenhouse now: Onsite 3 · Phone Screen 5 ·
    Rejected 2 · Prospect (no application, so no stage activity) 1"; None before anything was exported."""
    if not report.funnel:
        return None
    totals: dict[str, int] = {}
    for status, stage, count in report.funnel:
        label = where_now(stage, status)
        totals[label] = totals.get(label, 0) + count
    parts = [f"{label} {n}" for label, n in sorted(totals.items(), key=lambda item: -item[1])]
    vendor = spec_of(report.vendor).label if report.vendor in set(Vendor) else report.vendor
    return clip(f"In {escape(vendor)} now: " + " · ".join(parts), 1000)


def where_now(stage: str | None, status: str) -> str:
    """Return where a record stands in words: its stage while active, else "Rejected", "Hired" …"""
    if status == "active":
        return escape(stage) if stage else "Prospect (no application, so no stage activity)"
    return STATUS_WORDS.get(status, escape(status))


def moves_line(report: LinkReport) -> str | None:
    """Return the newest changes in the ATS, e.g. "Lately: Ada Lovelace → Onsite · Alan Turing → Rejected"."""
    if not report.recent_moves:
        return None
    moves = [
        f"{escape(redact(name) or 'Unnamed')} → {where_now(stage, status)}"
        for name, stage, status, _at in report.recent_moves
    ]
    return clip("Lately: " + " · ".join(moves), 1000)


def run_lines(report: LinkReport) -> list[str]:
    """Return the lines about passes: running now or the last one (cut short?), the next one."""
    lines = []
    if report.pass_running and report.last_pass_started_at:
        lines.append(
            f":arrows_counterclockwise: A pass is running now (started {slack_date(report.last_pass_started_at)}),"
            " so these numbers are moving."
        )
    elif report.last_pass_finished_at:
        cut = (
            " — cut short (too much to do at once); the rest follows in the next passes"
            if report.last_pass_cut_short
            else ""
        )
        lines.append(f"Last run: {slack_date(report.last_pass_finished_at)}{cut}")
    else:
        lines.append("Last run: never")
    if report.paused:
        lines.append("Next run: none while the link is paused")
    elif report.mode == LinkMode.MANUAL:
        lines.append("Next run: none, the link is manual (exports when someone asks)")
    elif report.next_pass_at is None:
        lines.append("Next run: at the scheduler's next round")
    else:
        lines.append(f"Next automatic run: {slack_date(report.next_pass_at)}")
    return lines


def report_title(report: LinkReport) -> str:
    """Return "*Search* → Job (Greenhouse, applicants, automatic)"."""
    job = f" → {escape(report.job_name or report.job_id)}" if (report.job_name or report.job_id) else ""
    stage = f" at {escape(report.stage_name)}" if report.stage_name else ""
    mode = "paused" if report.paused else report.mode
    return (
        f"*{escape(report.search_name)}*{job}{stage} ({escape(report.vendor)}, {report.export_as}s, {mode})"
    )


def report_blocks(report: LinkReport) -> list[Block]:
    """Return one link's status: title and counts, then runs and the last error."""
    lines = [report_title(report), counts_line(report)]
    if funnel := funnel_line(report):
        lines.append(funnel)
    if moves := moves_line(report):
        lines.append(moves)
    if report.paused and report.paused_reason:
        lines.append(f":double_vertical_bar: Paused: {escape(redact(report.paused_reason))}")
    details = run_lines(report)
    if report.last_error and report.last_error != report.paused_reason:
        details.append(f"Last error: {escape(clip(redact(report.last_error), 500))}")
    return [section("\n".join(lines)), note("\n".join(details))]


def status_message(
    reports: list[LinkReport], *, search: str | None = None, search_exists: bool = False
) -> tuple[str, list[Block]]:
    """Return the answer to `/scaleup status [search]`: its notification text and blocks."""
    if not reports:
        if search and search_exists:
            text = (
                f"“{escape(clip(search, 100))}” is not linked to the ATS yet. "
                f"Link it with `{SLASH_COMMAND} link {escape(clip(search, 100))}`."
            )
        elif search:
            text = f"No search is called “{escape(clip(search, 100))}”. Try `{SLASH_COMMAND} status` for every link."
        else:
            text = f"No search is linked to the ATS yet. Start with `{SLASH_COMMAND} link`."
        return text, [section(text)]
    shown = reports[:MAX_LINKS]
    blocks: list[Block] = []
    for report in shown:
        blocks.extend(report_blocks(report))
    if len(reports) > len(shown):
        blocks.append(
            note(
                f"…and {len(reports) - len(shown)} more links. Name one: `{SLASH_COMMAND} status <search>`, "
                "or open the app's Home tab."
            )
        )
    text = "; ".join(
        f"{r.search_name}: {r.candidates} candidates{' (pass running)' if r.pass_running else ''}"
        for r in shown
    )
    return clip(text, 300), blocks
