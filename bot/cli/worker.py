"""`scaleup worker [--once] [--metrics-port N]`: run the scheduled exports (forever, or one pass for cron
and tests), serving the worker's own metrics on a port of its own when asked."""

from __future__ import annotations

import argparse
import threading

from bot.cli import CommandError
from bot.metrics import METRICS_PATH, metrics_only_app
from bot.server import HttpServer
from bot.settings import load_settings
from bot.wiring import Services, build_services
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
    parser.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        metavar="PORT",
        help="serve this worker's Prometheus metrics at http://HOST:PORT/metrics (0: a free port, printed); "
        "off by default",
    )
    parser.add_argument(
        "--metrics-host",
        default="127.0.0.1",
        metavar="HOST",
        help="address the metrics port listens on (default 127.0.0.1)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the worker until SIGTERM (or one pass with --once)."""
    if args.metrics_port is not None and not 0 <= args.metrics_port <= 65535:
        raise CommandError(
            f"--metrics-port: {args.metrics_port} is not a port (0 to 65535; 0 picks a free one)."
        )
    if args.once and args.metrics_port is not None:
        raise CommandError(
            "--metrics-port serves metrics while the worker runs; --once exits after one pass."
        )
    services = build_services(load_settings(), auto_upgrade=True)
    stop = threading.Event()
    install_signal_handlers(stop)
    try:
        try:
            worker = build_worker(services, stop=stop)
        except WorkerRefused as exc:
            raise CommandError(str(exc)) from None
        metrics_server = None
        try:
            if args.once:
                summary = run_once(worker)
                print(summary.describe())
            else:
                if args.metrics_port is not None:
                    metrics_server = serve_metrics(services, args.metrics_host, args.metrics_port)
                run_forever(worker)
        finally:
            if metrics_server is not None:
                metrics_server.close()
            worker.close()
        return 0
    finally:
        services.close()


def serve_metrics(services: Services, host: str, port: int) -> HttpServer:
    """Serve the worker's metrics on a background thread, on the same bounded server as `scaleup serve`."""
    try:
        server = HttpServer(metrics_only_app(services.metrics), host=host, port=port, threads=2).start()
    except OSError as exc:  # the port is taken, or the address is not this host's
        raise CommandError(
            f"--metrics-port: cannot listen on {host}:{port} ({exc.strerror or exc})"
        ) from None
    print(f"Serving the worker's metrics at {server.url}{METRICS_PATH}", flush=True)
    return server
