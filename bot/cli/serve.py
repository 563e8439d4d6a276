"""`scaleup serve`: run the Slack app over HTTP (with OAuth, the ingest API and /healthz) or Socket Mode."""

from __future__ import annotations

import argparse
import logging
import signal

from bot.api import make_api
from bot.app import create_app
from bot.changes import changes_to
from bot.cli import CommandError
from bot.deps import build_deps
from bot.http_limits import limits_of
from bot.server import HttpServer, make_wsgi_app
from bot.settings import load_settings
from bot.webhooks import make_webhook_app
from bot.wiring import build_services
from bot.worker import WorkerRefused
from bot.worker import start_worker_in_background as start_worker

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `serve` command."""
    parser = subparsers.add_parser("serve", help="serve the Slack app (HTTP or Socket Mode)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=3000, help="port to listen on (default 3000)")
    parser.add_argument(
        "--socket", action="store_true", help="use Socket Mode with SLACK_APP_TOKEN instead of HTTP"
    )
    parser.add_argument(
        "--with-worker",
        action="store_true",
        help="also run the scheduled exports in this process (small installs; see `scaleup worker`)",
    )
    parser.set_defaults(func=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    """Build everything in order, then serve until interrupted."""
    settings = load_settings()
    if args.socket and settings.slack_app_token is None:
        raise CommandError("Socket Mode needs SLACK_APP_TOKEN (an xapp- token with connections:write).")
    services = build_services(settings, auto_upgrade=True)
    deps = build_deps(services)
    worker = None
    # SIGTERM (what `docker stop`, systemd and Kubernetes send) stops like Ctrl-C: the server closes, then
    # the `finally` below lets the worker finish the candidate in flight and release its SQLite lock.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        if args.with_worker:
            try:
                worker = start_worker(services)
            except WorkerRefused as exc:
                raise CommandError(str(exc)) from None
        app = create_app(services, deps, socket_mode=args.socket)
        if args.socket:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            handler = SocketModeHandler(app, settings.slack_app_token.get_secret_value())  # type: ignore[union-attr]
            print("Serving Slack over Socket Mode. Ctrl-C or SIGTERM stops.", flush=True)
            try:
                handler.start()
            except KeyboardInterrupt:
                handler.close()
            return 0
        wsgi = make_wsgi_app(
            app,
            services,
            api=make_api(services, on_changed=changes_to(deps.exports, deps.background.submit)),
            webhooks=make_webhook_app(deps),
        )
        server = HttpServer(
            wsgi,
            host=args.host,
            port=args.port,
            threads=settings.listener_threads,
            limits=limits_of(settings),
        )
        print(
            f"Serving Slack at {server.url}/slack/events (health: {server.url}/healthz). Ctrl-C or SIGTERM stops.",
            flush=True,
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.close()
        return 0
    finally:
        if worker is not None:
            log.info("stopping the export worker: finishing the candidate in flight")
            worker.stop()  # finishes or releases what it claimed, and releases the SQLite worker lock
        deps.close()
        services.close()


def _interrupt(signum: int, _frame: object) -> None:
    log.info("received %s; stopping", signal.Signals(signum).name)
    # A second SIGTERM must not cut the worker's graceful stop short (SIGKILL is the way to insist).
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt
