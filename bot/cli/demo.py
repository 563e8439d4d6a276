"""`scaleup demo`: run the whole product on loopback with emulated Slack and ATS, no accounts needed."""

from __future__ import annotations

import argparse
import logging
import tempfile
from pathlib import Path

from rich.console import Console

from ats.registry import spec_of
from core.vocabulary import Vendor


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
    if not args.verbose:
        # The demo prints its own story; the app's info logs would drown it.
        logging.getLogger().setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="scaleup-demo-") as tmp:
        workdir = args.dir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        previous = sorted(workdir.glob("scaleup-demo.db*"))  # the file, its WAL and the rate limiter's
        for leftover in previous:
            leftover.unlink()  # each demo tells its story from the start, with a key of its own
        vendor = Vendor(args.vendor)
        if previous:
            console.print(f"Starting over: removed the previous demo database in {workdir}.")
        console.print(
            f"[bold]ScaleUp ATS Export demo[/bold] — {spec_of(vendor).label} emulator, Slack stand-in, "
            f"SQLite at {workdir / 'scaleup-demo.db'}"
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
                    f"Servers kept running: app {stack.server.url}, {spec_of(vendor).label} emulator "
                    f"{stack.ats.url}, Slack stand-in {stack.slack.url}. Ctrl-C stops them."
                )
                try:
                    stack.ats.wait()
                except KeyboardInterrupt:
                    pass
            return 0 if outcome.ok else 1
        finally:
            stack.close()
