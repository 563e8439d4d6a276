"""Print the demo readably: each step as it happens, then what Slack and the ATS received, then the counts."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from devkit.demo.flow import DemoOutcome, Step
from storage.states import ExportState

_TEXT_LIMIT = 110


def print_step(console: Console, step: Step) -> None:
    """Print one step as it finishes."""
    mark = "[green]✔[/green]" if step.ok else "[red]✘[/red]"
    console.print(f"{mark} [bold]{step.title}[/bold] — {step.detail}")


def print_summary(console: Console, outcome: DemoOutcome) -> None:
    """Print the Slack messages, the ATS records and the final counts against the expected ones."""
    posts = Table(title="What the app posted in Slack", show_lines=False)
    posts.add_column("method")
    posts.add_column("channel")
    posts.add_column("text")
    for post in outcome.slack_posts:
        text = " ".join(str(post["text"]).split())
        posts.add_row(
            post["method"],
            str(post["channel"]),
            text[:_TEXT_LIMIT] + ("…" if len(text) > _TEXT_LIMIT else ""),
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
