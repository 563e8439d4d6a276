"""Print the demo readably: each step as it happens, then what Slack and the ATS received, then the counts."""

from __future__ import annotations

import html
import re

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from devkit.demo.flow import DemoOutcome, Step
from storage.states import ExportState

_LINK = re.compile(r"<([^<>|]+)\|([^<>]+)>")  # <url|label>
_BARE = re.compile(r"<([@#!]?)([^<>|]+)>")  # <url>, <@U123>, <#C123>, <!here>
_EMPHASIS = re.compile(r"(?<![\w*_~])([*_~])(?=\S)(.+?)(?<=\S)\1(?![\w*_~])")


def plain(mrkdwn: str) -> str:
    """Return Slack `mrkdwn` as the plain text a reader sees: links by their label, mentions with their sigil,
    no bold, italic or strike marks, entities decoded; emoji codes stay for the terminal to draw."""
    text = _LINK.sub(lambda m: m.group(2), mrkdwn)
    text = _BARE.sub(lambda m: {"!": "@"}.get(m.group(1), m.group(1)) + m.group(2), text)
    text = _EMPHASIS.sub(lambda m: m.group(2), text)
    return html.unescape(text).strip()


def print_step(console: Console, step: Step) -> None:
    """Print one step as it finishes."""
    mark = "[green]✔[/green]" if step.ok else "[red]✘[/red]"
    console.print(f"{mark} [bold]{step.title}[/bold] — {step.detail}")


def print_summary(console: Console, outcome: DemoOutcome) -> None:
    """Print the Slack messages, the ATS records and the final counts against the expected ones."""
    posts = Table(title="What the app posted in Slack", show_lines=False)
    posts.add_column("method")
    posts.add_column("channel")
    posts.add_column("text", overflow="fold")  # never cut: a line too long for the cell goes on the next
    for post in outcome.slack_posts:
        # Whole messages, wrapped at words by the table; what Slack would render, as plain text.
        posts.add_row(
            post["method"], str(post["channel"]), Text.from_markup(escape(plain(str(post["text"]))))
        )
    console.print(posts)

    records = Table(title="What the ATS emulator received (records created through its API)")
    records.add_column("kind")
    records.add_column("ATS id")
    records.add_column("emails")
    for record in outcome.ats_records:
        records.add_row(record["kind"], record["id"], record["emails"])
    console.print(records)

    counts = Table(title="Final status of the link (the same numbers as /scaleup status)")
    counts.add_column("state")
    counts.add_column("candidates", justify="right")
    counts.add_column("expected", justify="right")
    report = outcome.report
    for state in ExportState:
        got = report.counts[state] if report else 0
        want = outcome.expected.get(state)
        style = "" if want is None or want == got else "[red]"
        counts.add_row(state.label, f"{style}{got}", "" if want is None else str(want))
    for reason, got in report.not_recorded.items() if report else ():
        counts.add_row(f"{reason.label} (no record)", str(got), "")
    counts.add_row("[bold]in the search", f"[bold]{report.candidates if report else 0}", "")
    console.print(counts)
    if outcome.ok:
        console.print("[bold green]Demo finished: every step did what it should.[/bold green]")
    else:
        console.print(
            "[bold red]Demo failed: the outcome differs from what the flow should produce.[/bold red]"
        )
