"""`scaleup runs`: the passes and manual exports that created records in the ATS, and what each created.

Every run has the id its alerts carry; `--run ID` lists the records that run created (what undoing it will
take back: never people the ATS had already, who are linked or held back, not created).
"""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.cli import CommandError
from bot.cli.teams import add_team_option, workspace_services
from exports.history import Actor
from storage.db import unit_of_work
from storage.models import ExportRun
from storage.runs import RunRepository


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `runs` command."""
    parser = subparsers.add_parser(
        "runs",
        help="list the passes and manual exports that created ATS records, or what one run created",
        description="The passes and manual exports that created records in the ATS, newest first; with "
        "--run, the records that run created.",
    )
    add_team_option(parser)
    parser.add_argument("--search", help="only this search's runs")
    parser.add_argument("--run", metavar="ID", help="list the records this run created")
    parser.add_argument("--limit", type=int, default=50, help="runs to list at most (default 50)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the runs, or one run's records; exit 2 for a run the workspace does not have."""
    with workspace_services(args.team) as (services, team), unit_of_work(services.read_sessions) as session:
        runs = RunRepository(session, team)
        if args.run:
            found = runs.get(args.run)
            if found is None:
                raise CommandError(f"{team} has no run {args.run!r}; `scaleup runs` lists them.")
            answer = {
                "run": _run_json(found, None),
                "created": [
                    {
                        "candidate": candidate.source_id,
                        "name": candidate.full_name,
                        "state": export.state.value,
                        "ats_record_id": export.ats_candidate_id,
                        "ats_record_url": export.ats_profile_url,
                    }
                    for export, candidate in runs.created_by(args.run)
                ],
            }
        else:
            recent = runs.recent(limit=args.limit, search=args.search)
            answer = {"runs": [_run_json(r, name) for r, name in recent]}
    if args.json:
        print(json.dumps(answer, indent=2))
    else:
        _render(answer, Console())
    return 0


def _run_json(found: ExportRun, search: str | None) -> dict[str, object]:
    return {
        "id": found.id,
        "search": search,
        "link_id": found.link_id,
        "by": found.actor,
        "by_words": Actor.of(found.actor).words(),
        "started_at": found.started_at.isoformat(),
        "created": found.created,
    }


def _render(answer: dict, console: Console) -> None:
    if "created" in answer:
        one = answer["run"]
        console.print(
            f"Run {one['id']} by {escape(one['by_words'])}, {one['started_at']}: {one['created']} created"
        )
        table = Table()
        for column in ("candidate", "name", "state now", "ATS record"):
            table.add_column(column)
        for row in answer["created"]:
            record = row["ats_record_url"] or row["ats_record_id"] or "—"
            table.add_row(row["candidate"] or "—", row["name"], row["state"], record)
        console.print(table)
        return
    if not answer["runs"]:
        console.print("No run has created a record in the ATS yet.")
        return
    table = Table(title="Runs that created ATS records, newest first")
    for column in ("run", "search", "by", "started", "created"):
        table.add_column(column)
    for one in answer["runs"]:
        table.add_row(
            one["id"], one["search"] or "—", one["by_words"], one["started_at"][:19], str(one["created"])
        )
    console.print(table)
