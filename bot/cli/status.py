"""`scaleup status`: per-link counts for each export state, as `/scaleup status` shows them."""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from bot.settings import load_settings
from bot.wiring import build_services
from exports.report import LinkReport, link_reports
from storage.db import unit_of_work
from storage.models import Workspace


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `status` command."""
    parser = subparsers.add_parser("status", help="show export counts per link")
    parser.add_argument("--team", help="Slack team id (default: every workspace)")
    parser.add_argument("--search", help="only this search")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the status of every link (of one team, or all)."""
    services = build_services(load_settings(), auto_upgrade=True)
    try:
        with unit_of_work(services.sessions) as session:
            teams = [args.team] if args.team else list(session.scalars(select(Workspace.team_id)))
            reports = [r for team in teams for r in link_reports(session, team, search_name=args.search)]
    finally:
        services.close()
    if args.json:
        print(json.dumps([r.to_json() for r in reports], indent=2))
    else:
        render(reports, Console())
    return 0


def render(reports: list[LinkReport], console: Console) -> None:
    """Print the reports as a table, one row per link, one column per state."""
    if not reports:
        console.print("No linked searches yet. Link one in Slack with /scaleup link.")
        return
    table = Table(title="Exports per link")
    table.add_column("team")
    table.add_column("search")
    table.add_column("job")
    table.add_column("mode")
    table.add_column("candidates by state, or why not recorded")
    table.add_column("in the search", justify="right")
    table.add_column("last pass")
    for report in reports:
        mode = "paused" if report.paused else report.mode
        if report.pass_running:
            last = "running now"
        elif report.last_pass_finished_at:
            cut = " (cut short)" if report.last_pass_cut_short else ""
            last = report.last_pass_finished_at.strftime("%Y-%m-%d %H:%M UTC") + cut
        else:
            last = "never"
        parts = [f"{state.label}: {n}" for state, n in report.counts.items() if n]
        parts += [f"{reason.label}: {n}" for reason, n in report.not_recorded.items() if n]
        by_state = "\n".join(parts) or "none yet"
        table.add_row(
            report.team_id,
            report.search_name,
            report.job_name or "—",
            mode,
            by_state,
            str(report.candidates),
            last,
        )
    console.print(table)
    for report in reports:
        if report.paused_reason or report.last_error:
            console.print(f"[bold]{report.search_name}[/bold]: {report.paused_reason or report.last_error}")
