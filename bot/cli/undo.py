"""`scaleup undo --run ID [--dry-run]`: take back in the ATS exactly what one run created (`exports.undo`)."""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.cli.teams import add_team_option, workspace_services
from exports.undo import UndoOutcome, UndoResult, undo_run


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `undo` command."""
    parser = subparsers.add_parser(
        "undo",
        help="take back in the ATS what one run created (see `scaleup runs`)",
        description="Take back in the ATS exactly the records one pass or manual export created: each is "
        "rejected, archived or disqualified as the vendor allows (never an email to the candidate) and "
        "becomes 'undone', which no pass exports again. Records a person changed in the ATS since are left "
        "as they are. Running it again finishes an interrupted undo.",
    )
    parser.add_argument(
        "--run", required=True, metavar="ID", help="the run to undo (`scaleup runs` lists them)"
    )
    add_team_option(parser)
    parser.add_argument("--dry-run", action="store_true", help="say what would be taken back; change nothing")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Undo the run; exit 1 when some records could not be taken back now (run it again later)."""
    with workspace_services(args.team) as (services, team):
        result = undo_run(services.export_engine(), team, args.run, actor="cli", dry_run=args.dry_run)
    if args.json:
        print(json.dumps(_json(result), indent=2))
    else:
        _render(result, Console())
    return 1 if UndoOutcome.FAILED in result.counts() else 0


def _json(result: UndoResult) -> dict[str, object]:
    return {
        "run": result.run_id,
        "dry_run": result.dry_run,
        "counts": {outcome.value: n for outcome, n in result.counts().items()},
        "records": [
            {"candidate": i.candidate, "name": i.name, "outcome": i.outcome.value, "detail": i.detail}
            for i in result.items
        ],
    }


def _render(result: UndoResult, console: Console) -> None:
    verb = "Would undo" if result.dry_run else "Undo of"
    counts = ", ".join(f"{outcome.value.replace('_', ' ')}: {n}" for outcome, n in result.counts().items())
    console.print(f"{verb} run {result.run_id}: {counts or 'nothing it created'}")
    table = Table()
    for column in ("candidate", "name", "outcome", "detail"):
        table.add_column(column)
    for item in result.items:
        table.add_row(item.candidate or "—", escape(item.name), item.outcome.value, escape(item.detail))
    console.print(table)
