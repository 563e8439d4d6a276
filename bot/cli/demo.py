"""`scaleup demo`: run the whole product on loopback with emulated Slack and ATS, no accounts needed."""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from ats.registry import spec_of
from core.vocabulary import Vendor

if TYPE_CHECKING:
    from devkit.demo.stack import DemoStack

DATABASE_FILE = "scaleup-demo.db"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `demo` command."""
    parser = subparsers.add_parser("demo", help="run the whole flow on loopback (no Slack or ATS account)")
    parser.add_argument(
        "--vendor",
        choices=[v.value for v in Vendor],
        default=Vendor.GREENHOUSE.value,
        help="which ATS emulator to export to (default greenhouse)",
    )
    parser.add_argument(
        "--dir", type=Path, help="folder for the demo's SQLite database (default: a temp folder)"
    )
    parser.add_argument("--keep", action="store_true", help="leave the servers running until Ctrl-C")
    parser.add_argument("--fast", action="store_true", help="print only the steps and the verdict")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start everything, walk the story, print it; exit 0 only when the outcome is the expected one."""
    # The dev kit loads only for the commands that use it.
    from devkit.demo.flow import DemoFailed, run_story
    from devkit.demo.render import print_step, print_summary
    from devkit.demo.stack import start_stack

    console = Console()
    if not (args.verbose or args.log_level or os.environ.get("LOG_LEVEL")):
        # The demo prints its own story; the app's info logs would drown it.
        logging.getLogger().setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="scaleup-demo-") as tmp:
        workdir = args.dir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        previous = sorted(workdir.glob(f"{DATABASE_FILE}*"))  # the file, its WAL and the rate limiter's
        for leftover in previous:
            leftover.unlink()  # each demo tells its story from the start, with a key of its own
        vendor = Vendor(args.vendor)
        if previous:
            console.print(f"Starting over: removed the previous demo database in {workdir}.")
        console.print(
            f"[bold]ScaleUp ATS Export demo[/bold] — {spec_of(vendor).label} emulator, Slack stand-in, "
            f"SQLite at {workdir / DATABASE_FILE}"
        )
        stack = start_stack(vendor, workdir)
        try:
            try:
                outcome = run_story(stack, workdir, lambda step: print_step(console, step))
            except DemoFailed as exc:
                console.print(f"[bold red]Demo failed:[/bold red] {exc}")
                return 1
            if args.fast:
                console.print("Demo finished." if outcome.ok else "Demo failed: unexpected final counts.")
            else:
                print_summary(console, outcome)
            if args.keep:
                console.print(
                    keep_hints(stack, workdir / DATABASE_FILE, temporary=args.dir is None),
                    highlight=False,
                    markup=False,
                    soft_wrap=True,  # the export line is copied whole: never wrapped at the terminal width
                )
                try:
                    stack.ats.wait()
                except KeyboardInterrupt:
                    pass
            return 0 if outcome.ok else 1
        finally:
            stack.close()


def keep_hints(stack: DemoStack, database: Path, *, temporary: bool) -> str:
    """Return how to use what `--keep` left running: the servers' URLs and the CLI on the demo's database."""
    from devkit.demo.stack import TEAM

    settings = stack.services.settings
    env = {
        "DATABASE_URL": settings.database_url,
        "SCALEUP_SECRET_KEY": settings.secret_key_value or "",  # the demo's own throwaway key
        "SCALEUP_ATS_PRIVATE_URLS": "1",  # its ATS emulator listens on loopback
    }
    where = "removed when the demo stops (--dir DIR keeps it)" if temporary else "kept when the demo stops"
    return "\n".join(
        [
            "",
            "The servers keep running until Ctrl-C:",
            f"  app: {stack.server.url} (health: {stack.server.url}/healthz, ingest API: {stack.server.url}/api/v1/)",
            f"  {spec_of(stack.vendor).label} emulator: {stack.ats.url}",
            f"  Slack stand-in: {stack.slack.url}",
            "",
            f"In another shell, point the CLI at the demo's database ({database}, {where}):",
            "  export " + " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items()),
            f"  scaleup status --team {TEAM}",
            f"  scaleup ats check --team {TEAM}",
            f"  scaleup tokens create --team {TEAM}",
        ]
    )
