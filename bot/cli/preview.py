"""`scaleup preview --search S`: what the next pass over a linked search would do, candidate by candidate.

It writes nothing and calls no ATS (`exports.preview`): the same decision the pass makes, from the
database and the mirror of the ATS the last pass brought up to date.
"""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from bot.cli import CommandError
from bot.cli.teams import add_team_option
from bot.settings import load_settings
from bot.wiring import build_services
from exports.preview import Outcome, Preview
from storage.db import unit_of_work
from storage.models import Link, Search, Workspace


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `preview` command."""
    parser = subparsers.add_parser(
        "preview",
        help="show what exporting a linked search now would do (changes nothing)",
        description="What the next pass over a linked search would do to each of its candidates: exported, "
        "waiting for an email, already in the ATS (added, linked or held back), not matching the link, left "
        "out by an exclusion-only ATS, or already handled. Writes nothing and calls no ATS.",
    )
    parser.add_argument("--search", required=True, help="the linked search's name")
    add_team_option(parser)
    parser.add_argument("--json", action="store_true", help="print JSON: counts and every candidate")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the preview of the search's link; exit 2 when the search is not linked."""
    services = build_services(load_settings(), auto_upgrade=True)
    try:
        with unit_of_work(services.read_sessions) as session:
            teams = [args.team] if args.team else list(session.scalars(select(Workspace.team_id)))
            found = session.execute(
                select(Link.team_id, Link.id)
                .join(Search, Search.id == Link.search_id)
                .where(Link.team_id.in_(teams), Search.name == args.search)
            ).all()
        if not found:
            raise CommandError(
                f"no linked search is called {args.search!r}; link it in Slack with /scaleup link."
            )
        if len(found) > 1:
            raise CommandError(f"several workspaces have a search {args.search!r}; say which with --team.")
        ((team_id, link_id),) = found
        preview = services.export_engine().preview(team_id, link_id)
    finally:
        services.close()
    if args.json:
        print(json.dumps(preview.to_json(), indent=2))
    else:
        render(preview, Console())
    return 0


def render(preview: Preview, console: Console) -> None:
    """Print the counts per outcome, then every candidate with theirs."""
    console.print(
        f"[bold]{preview.search}[/bold] → {preview.job or 'no job'} ({preview.vendor}), "
        f"{len(preview.rows)} candidates. Nothing was changed."
    )
    counts = Table(title="What the next pass would do")
    counts.add_column("outcome")
    counts.add_column("candidates", justify="right")
    for outcome, count in preview.counts().items():
        if count:
            counts.add_row(outcome.label, str(count))
    console.print(counts)
    people = Table(title="Candidate by candidate")
    for column in ("id", "name", "outcome", "record now"):
        people.add_column(column)
    for row in preview.rows:
        outcome = row.outcome.label + (f" (matched by {row.matched_by})" if row.matched_by else "")
        if row.outcome is Outcome.EXPORT and preview.manual:
            outcome += ", when someone exports them (manual link)"
        people.add_row(row.source_id or "—", row.name, outcome, row.state.label if row.state else "none")
    console.print(people)
