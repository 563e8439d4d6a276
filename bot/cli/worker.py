"""`scaleup worker [--once]`: run the scheduled exports (forever, or one pass for cron and tests)."""

from __future__ import annotations

import argparse
import logging
import threading

from bot.cli import CommandError
from bot.settings import load_settings
from bot.wiring import build_services
from bot.worker import WorkerRefused, build_worker, install_signal_handlers, run_forever, run_once


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `worker` command."""
    parser = subparsers.add_parser(
        "worker",
        help="run the scheduled exports of automatic links",
        description="Export automatic links on a schedule. Several workers may share one PostgreSQL database; "
        "SQLite allows one. SIGTERM stops gracefully.",
    )
    parser.add_argument("--once", action="store_true", help="run one pass of every job, then exit")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the worker until SIGTERM (or one pass with --once)."""
    # APScheduler logs every run at INFO and, at WARNING, each tick skipped while a long pass still runs
    # (by design: one instance per job); the passes log what they did themselves.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    services = build_services(load_settings(), auto_upgrade=True)
    stop = threading.Event()
    install_signal_handlers(stop)
    try:
        try:
            worker = build_worker(services, stop=stop)
        except WorkerRefused as exc:
            raise CommandError(str(exc)) from None
        try:
            if args.once:
                summary = run_once(worker)
                print(summary.describe())
            else:
                run_forever(worker)
        finally:
            worker.close()
        return 0
    finally:
        services.close()
