"""The `scaleup` command: parses arguments, configures logging, builds services and runs a subcommand."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from importlib import metadata

from bot.cli.logs import LEVELS, LogFormat, configure_logging
from bot.settings import LogSettings
from core.errors import ScaleUpError

#: Modules that each add one subcommand with `register(subparsers)`; a new command is one line here.
COMMAND_MODULES = (
    "bot.cli.db",
    "bot.cli.keygen",
    "bot.cli.ats",
    "bot.cli.status",
    "bot.cli.history",
    "bot.cli.preview",
    "bot.cli.runs",
    "bot.cli.undo",
    "bot.cli.demo",
    "bot.cli.worker",
    "bot.cli.importer",
    "bot.cli.tokens",
    "bot.cli.serve",
    "bot.cli.bench",
)


class CommandError(ScaleUpError):
    """A command failed for a reason the operator can fix; printed without a traceback."""


def _logging_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """Add the logging options to `parser`; on subcommands they default to "not given", so that
    `scaleup -v serve` and `scaleup serve -v` both work and the later one wins."""
    given = {} if defaults else {"default": argparse.SUPPRESS}
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="same as --log-level debug (emails and secrets stay hidden)",
        **given,
    )
    parser.add_argument(
        "--log-level",
        choices=LEVELS,
        type=str.lower,
        help="debug, info (default), warning or error; also LOG_LEVEL",
        **({"default": None} if defaults else given),
    )
    parser.add_argument(
        "--log-format",
        choices=[f.value for f in LogFormat],
        help="text (default) or json, one object per line; also LOG_FORMAT",
        **({"default": None} if defaults else given),
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="scaleup", description="ScaleUp ATS Export for Slack: serve the app, run exports, manage data."
    )
    parser.add_argument("--version", action="version", version=f"scaleup {app_version()}")
    _logging_options(parser, defaults=True)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    for command in _subcommands(parser):
        _logging_options(command, defaults=False)
    return parser


def _subcommands(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Return every subcommand's parser under `parser`, nested ones (`db upgrade`) included."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in dict.fromkeys(action.choices.values()):  # aliases share a parser
                found += [command, *_subcommands(command)]
    return found


def app_version() -> str:
    """Return the installed version of the app."""
    try:
        return metadata.version("scaleup-ats-export")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def _log_choices(args: argparse.Namespace) -> tuple[str, str]:
    """Return (level, format) from the command line, else LOG_LEVEL / LOG_FORMAT (environment or .env),
    else info and text.

    Raises:
        CommandError: LOG_LEVEL or LOG_FORMAT holds something else than the choices.
    """
    configured = LogSettings()
    level = "debug" if args.verbose else (args.log_level or configured.log_level.strip().lower())
    log_format = args.log_format or configured.log_format.strip().lower()
    if level not in LEVELS:
        raise CommandError(f"LOG_LEVEL={level!r} is not a level; use one of {', '.join(LEVELS)}.")
    if log_format not in {f.value for f in LogFormat}:
        raise CommandError(f"LOG_FORMAT={log_format!r} is not a format; use text or json.")
    return level, log_format


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `scaleup` command; return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        configure_logging(*_log_choices(args))
        return int(args.func(args) or 0)
    except ScaleUpError as exc:  # what an operator can fix: one line naming it, no traceback
        print(f"scaleup {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
