"""The `scaleup` command: parses arguments, configures logging, builds services and runs a subcommand."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from core.errors import ScaleUpError

#: Modules that each add one subcommand with `register(subparsers)`; a new command is one line here.
COMMAND_MODULES = (
    "bot.cli.db",
    "bot.cli.keygen",
    "bot.cli.ats",
    "bot.cli.status",
    "bot.cli.demo",
    "bot.cli.worker",
    "bot.cli.importer",
    "bot.cli.tokens",
    "bot.cli.serve",
    "bot.cli.bench",
)


class CommandError(ScaleUpError):
    """A command failed for a reason the operator can fix; printed without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    """Return the parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="scaleup", description="ScaleUp ATS Export for Slack: serve the app, run exports, manage data."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def configure_logging(verbose: bool, level: str = "INFO") -> None:
    """Configure logging for the CLI process (only here, never at import)."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # httpx logs every request URL at INFO; URLs can carry cursors and emails, so keep them at debug.
    logging.getLogger("httpx").setLevel(logging.DEBUG if verbose else logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.DEBUG if verbose else logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `scaleup` command; return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    try:
        return int(args.func(args) or 0)
    except ScaleUpError as exc:  # what an operator can fix: one line naming it, no traceback
        print(f"scaleup {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
