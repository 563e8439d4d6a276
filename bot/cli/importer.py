"""`scaleup import candidates|responses FILE --team T`: load a CSV or JSON Lines file into a workspace.

Exit codes: 0 when every row was imported, 1 when some rows were bad (each is listed with its line number
and reason; the good rows are imported all the same), 2 when the import could not run at all.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import select

from bot import wiring
from bot.changes import changes_to
from bot.cli import CommandError
from bot.settings import load_settings
from ingest.csv_rows import DELIMITERS
from ingest.files import (
    DEFAULT_BATCH_SIZE,
    BadRow,
    Encoding,
    FileFormat,
    FileImport,
    ImportSummary,
    import_candidates,
    import_responses,
)
from ingest.files import Progress as ReadProgress
from ingest.results import OnChanged
from storage.db import unit_of_work
from storage.models import Workspace

#: `--delimiter` choices: the separator's name → the character.
DELIMITER_NAMES = {name: char for char, name in DELIMITERS.items()}

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `import` command."""
    parser = subparsers.add_parser("import", help="import candidates or campaign responses from a file")
    kinds = parser.add_subparsers(dest="import_kind", metavar="KIND", required=True)
    cand = kinds.add_parser(
        "candidates",
        help="import candidates (CSV or JSON Lines) into a search; see README 'Importing candidates'",
    )
    cand.add_argument("--search", required=True, help="name of the search to put them in (created when new)")
    cand.set_defaults(func=run_candidates)
    resp = kinds.add_parser("responses", help="import campaign responses (CSV or JSON Lines)")
    resp.add_argument("--search", help="search of the rows that name none (search or search_id column)")
    resp.set_defaults(func=run_responses)
    for sub in (cand, resp):
        sub.add_argument("file", type=Path, metavar="FILE")
        sub.add_argument("--team", required=True, help="Slack team id of the workspace (T…)")
        sub.add_argument(
            "--format",
            choices=[f.value for f in FileFormat],
            help="file format (default: from the extension)",
        )
        sub.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="rows per commit")
        sub.add_argument(
            "--encoding",
            choices=[e.value for e in Encoding],
            default=Encoding.UTF8.value,
            help="text encoding of the file (default utf-8, with or without a BOM; cp1252 for Excel on Windows)",
        )
        sub.add_argument(
            "--delimiter",
            choices=sorted(DELIMITER_NAMES),
            help="CSV column separator (default: read from the header line: comma, semicolon, tab or pipe)",
        )
        sub.add_argument(
            "--new-team",
            action="store_true",
            help="create the workspace named by --team if the database does not know it yet",
        )


def run_candidates(args: argparse.Namespace) -> int:
    """Import the candidates file."""
    return _run(args, lambda run, fmt: import_candidates(run, args.file, args.search, fmt), "candidates")


def run_responses(args: argparse.Namespace) -> int:
    """Import the responses file."""
    return _run(args, lambda run, fmt: import_responses(run, args.file, args.search, fmt), "responses")


def _run(
    args: argparse.Namespace, body: Callable[[FileImport, FileFormat | None], ImportSummary], what: str
) -> int:
    path: Path = args.file
    if not path.is_file():
        raise CommandError(f"{path} is not a file")
    if not args.team.strip():
        raise CommandError("--team is empty; give the Slack team id of the workspace (T…)")
    if args.batch_size < 1:
        raise CommandError("--batch-size must be at least 1")
    fmt = FileFormat(args.format) if args.format else None
    if fmt is None:
        try:
            FileFormat.of(path)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
    console = Console(soft_wrap=True)
    services = wiring.build_services(load_settings(), auto_upgrade=True)
    not_utf8: list[BadRow] = []
    try:
        _check_team(services, args.team, create=args.new_team)
        with _progress(console, path.name) as (on_progress, print_line):

            def on_bad_row(row: BadRow) -> None:
                print_line(_bad_row_line(row))
                if any("UTF-8" in problem.message for problem in row.problems):
                    not_utf8.append(row)

            run = FileImport(
                services.sessions,
                args.team,
                batch_size=args.batch_size,
                on_changed=_export_hook(services),
                on_bad_row=on_bad_row,
                on_progress=on_progress,
                encoding=Encoding(args.encoding),
                delimiter=DELIMITER_NAMES[args.delimiter] if args.delimiter else None,
            )
            summary = body(run, fmt)
    finally:
        services.close()
    _print_summary(console, summary, what, args)
    if not_utf8 and args.encoding == Encoding.UTF8:
        print(
            "Some rows are not UTF-8 text: if the file was saved by Excel on Windows, import it again with "
            "--encoding cp1252 (or latin-1).",
            file=sys.stderr,
        )
    return 1 if summary.bad else 0


def _check_team(services: wiring.Services, team_id: str, *, create: bool) -> None:
    """Refuse a workspace the database has never seen, unless `create` (a typo must not make a new one)."""
    with unit_of_work(services.sessions) as session:
        if session.get(Workspace, team_id) is not None or create:
            return
        known = list(session.scalars(select(Workspace.team_id).order_by(Workspace.team_id).limit(6)))
    listed = ", ".join(known[:5]) + (", …" if len(known) > 5 else "") if known else "none yet"
    raise CommandError(
        f"the database has no workspace {team_id!r} (it knows: {listed}); check --team, or pass --new-team "
        "to create it"
    )


def _export_hook(services: wiring.Services) -> OnChanged | None:
    """Return the hook that hands changed candidates to the engine after each commit, as the ingest API does
    (`exports.changes`): a new email puts a Reachout-on-LinkedIn candidate back in line, a small change is
    exported at once. Run here in the import's own thread, so the import ends when its exports do.

    The engine needs the encryption key to reach the ATS connection; without it the import still runs and
    `scaleup worker` picks the candidates up on its next pass.
    """
    if services.settings.secret_key_value is None:
        log.info("SCALEUP_SECRET_KEY is not set: imported candidates wait for the next `scaleup worker` pass")
        return None
    return changes_to(services.export_engine(), lambda fn, *args: fn(*args))


@contextmanager
def _progress(
    console: Console, name: str
) -> Iterator[tuple[Callable[[ReadProgress], None], Callable[[str], None]]]:
    """Yield (on_progress, print_line): a rich progress bar on a terminal, plain lines otherwise."""
    if not console.is_terminal:
        yield (lambda progress: None), (lambda text: console.print(text, highlight=False))
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[rows]:,} rows"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(f"Importing {escape(name)}", total=None, rows=0)

        def on_progress(progress: ReadProgress) -> None:
            bar.update(task, completed=progress.bytes_read, total=progress.total_bytes, rows=progress.rows)

        yield on_progress, (lambda text: bar.console.print(text, highlight=False))


def _bad_row_line(row: BadRow) -> str:
    return f"[red]bad row[/red] {escape(str(row))}"


def _print_summary(console: Console, summary: ImportSummary, what: str, args: argparse.Namespace) -> None:
    where = f"search {args.search!r} of {args.team}" if what == "candidates" else f"workspace {args.team}"
    if summary.ignored_columns:
        console.print(
            f"Ignored unknown column(s): {escape(', '.join(summary.ignored_columns))}", highlight=False
        )
    console.print(
        f"Imported {what} from {escape(str(args.file))} into {escape(where)}: "
        f"{summary.created:,} created, {summary.updated:,} updated, {summary.unchanged:,} unchanged, "
        f"{summary.bad:,} bad.",
        highlight=False,
    )
    lines = summary.lines
    console.print(
        f"Read {lines.lines:,} lines: {lines.header} header, {lines.blank:,} blank, {lines.row_lines:,} in "
        f"{summary.rows:,} rows.",
        highlight=False,
    )
    if lines.accounted != lines.lines:  # never expected: say so rather than let a line go unnoticed
        print(
            f"{lines.lines - lines.accounted:,} line(s) of the file are not accounted for.", file=sys.stderr
        )
    if summary.bad:
        print(
            f"{summary.bad:,} row(s) were not imported (listed above with their line numbers); exit code 1.",
            file=sys.stderr,
        )
