"""`scaleup ats connect|check|emulate`: set up and verify an ATS connection without Slack."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ats import registry
from ats.base import ConnectionConfig
from ats.budgets import NullBudget
from ats.errors import AtsError
from ats.registry import spec_of
from ats.spec import CredentialsIncomplete
from bot.cli import CommandError
from bot.settings import load_settings
from bot.wiring import Services, build_services
from core.vocabulary import Vendor
from exports.adapters import AdapterFactory
from storage.base import utcnow
from storage.db import unit_of_work
from storage.repositories import WEBHOOK_SECRET, ConnectionRepository, ensure_workspace
from sync import setup as sync_setup


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `ats` command."""
    parser = subparsers.add_parser("ats", help="connect, check or emulate an ATS")
    actions = parser.add_subparsers(dest="ats_command", metavar="ACTION", required=True)

    connect = actions.add_parser(
        "connect", help="check credentials against the ATS, then store them encrypted"
    )
    connect.add_argument("--team", required=True, help="Slack team id (T…)")
    connect.add_argument("--vendor", required=True, choices=[v.value for v in Vendor])
    connect.add_argument("--api-key", help="the vendor's main secret; '-' reads it from standard input")
    connect.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a vendor field")
    connect.add_argument("--base-url", help="override the vendor's API base URL (emulators, sandboxes)")
    connect.set_defaults(func=run_connect)

    check = actions.add_parser("check", help="list open jobs and their stages through the stored connection")
    check.add_argument("--team", required=True)
    check.set_defaults(func=run_check)

    webhooks = actions.add_parser(
        "webhooks",
        help="show (and register) where the ATS sends stage and status changes",
        description="Print the address the ATS should send its webhooks to (SCALEUP_PUBLIC_URL + the "
        "connection's token) and the secret they are signed with, and register it where the vendor's API "
        "allows (--register); otherwise print where in the ATS to paste them. Without webhooks, the worker's "
        "poll still brings changes back every SCALEUP_SYNC_POLL_MINUTES.",
    )
    webhooks.add_argument("--team", required=True)
    webhooks.add_argument("--register", action="store_true", help="ask the ATS to send them (where it can)")
    webhooks.add_argument(
        "--secret",
        metavar="TOKEN",
        help="use the ATS's own signing secret(s) instead ('-' reads them from standard input): Lever makes a "
        "signature token per webhook; give them all, separated by commas",
    )
    webhooks.set_defaults(func=run_webhooks)

    emulate = actions.add_parser("emulate", help="run a loopback emulator of a vendor's API")
    emulate.add_argument("vendor", choices=[v.value for v in Vendor])
    emulate.add_argument("--port", type=int, default=8001)
    emulate.add_argument("--host", default="127.0.0.1")
    emulate.add_argument("--seed", type=Path, help="JSON seed file (default: the packaged demo seed)")
    emulate.add_argument("--rate-limit", type=int, help="requests allowed per the vendor's window")
    emulate.set_defaults(func=run_emulate)


def _parse_values(vendor: Vendor, api_key: str | None, pairs: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise CommandError(f"--set takes NAME=VALUE, got {pair.split('=')[0]!r}")
        values[name.strip()] = value
    if api_key is not None:
        values[spec_of(vendor).primary_secret] = sys.stdin.readline().strip() if api_key == "-" else api_key
    return values


def run_connect(args: argparse.Namespace) -> int:
    """Check the credentials against the ATS, then store the connection encrypted."""
    vendor = Vendor(args.vendor)
    services = build_services(load_settings(), auto_upgrade=True)
    try:
        box = services.secret_box  # fail before touching the ATS when no key is configured
        try:
            secrets, fields = spec_of(vendor).split_credentials(_parse_values(vendor, args.api_key, args.set))
        except CredentialsIncomplete as exc:
            names = ", ".join(f.name for f in spec_of(vendor).credentials)
            raise CommandError(f"{exc} (vendor fields for {spec_of(vendor).label}: {names})") from None
        config = ConnectionConfig(vendor=vendor, secrets=secrets, fields=fields, base_url=args.base_url)
        # One request with credentials not saved yet: no connection budget to share.
        adapter = registry.create_adapter(config, budget=NullBudget(), http_options=services.http_options())
        try:
            account = adapter.check()
        except AtsError as exc:
            raise CommandError(exc.user_message()) from None
        finally:
            adapter.close()
        with unit_of_work(services.sessions) as session:
            ensure_workspace(session, args.team)
            ConnectionRepository(session, args.team).save(
                box, vendor=vendor, secrets=secrets, fields=fields, base_url=args.base_url, connected_by="cli"
            )
        who = f" as {account.acting_user}" if account.acting_user else ""
        print(f"Connected {spec_of(vendor).label}{who} for team {args.team}; credentials stored encrypted.")
        return 0
    finally:
        services.close()


def run_check(args: argparse.Namespace) -> int:
    """Check the stored connection as connecting does, then list open jobs and their stages; non-zero exit
    on failure."""
    services = build_services(load_settings(), auto_upgrade=True)
    console = Console()
    try:
        # The stored connection's shared budget: a worker or the server may be calling the same ATS now.
        adapters = AdapterFactory(
            services.secret_box, budget_for=services.budget_for, http_options=services.http_options()
        )
        services.on_close(adapters.close)
        with unit_of_work(services.sessions) as session:
            connection = ConnectionRepository(session, args.team).get_current()
            if connection is None:
                raise CommandError(f"team {args.team} has no ATS connection; run `scaleup ats connect` first")
            adapter = adapters.for_connection(connection)
        table = Table(title=f"{adapter.spec.label}: open jobs")
        table.add_column("job id")
        table.add_column("job")
        table.add_column("stages")
        try:
            # The same check as connecting: the key still works, and an acting user is still active.
            account = adapter.check()
            jobs = list(adapter.iter_jobs())
            for job in jobs:
                stages = adapter.list_stages(job.id)
                table.add_row(job.id, job.name, ", ".join(s.name for s in stages) or "—")
        except AtsError as exc:
            _record_health(services, args.team, exc.user_message())
            raise CommandError(exc.user_message()) from None
        _record_health(services, args.team, None)
        console.print(
            f"Connected to {adapter.spec.label}"
            + (f" ({account.account_name})" if account.account_name else "")
            + "."
        )
        console.print(table)
        console.print(f"{len(jobs)} open job(s).")
        return 0
    finally:
        services.close()


def run_webhooks(args: argparse.Namespace) -> int:
    """Print the connection's webhook address and secret; with --register, set it up in the ATS."""
    services = build_services(load_settings(), auto_upgrade=True)
    try:
        public_url = services.settings.public_url
        if public_url is None:
            raise CommandError(
                "SCALEUP_PUBLIC_URL is not set: set it to the https:// address the ATS reaches `scaleup serve` "
                "at, then run this again (until then the worker's poll brings changes back)"
            )
        adapters = AdapterFactory(
            services.secret_box, budget_for=services.budget_for, http_options=services.http_options()
        )
        services.on_close(adapters.close)
        with unit_of_work(services.sessions) as session:
            repo = ConnectionRepository(session, args.team)
            connection = repo.get_current()
            if connection is None:
                raise CommandError(f"team {args.team} has no ATS connection; run `scaleup ats connect` first")
            adapter = adapters.for_connection(connection)
            if not adapter.capabilities.webhooks:
                print(
                    f"{adapter.spec.label} sends no webhooks ScaleUp can verify; the worker's poll brings changes."
                )
                return 0
            stored = repo.secrets_of(services.secret_box, connection)
            if args.secret:
                given = sys.stdin.readline().strip() if args.secret == "-" else args.secret.strip()
                stored[WEBHOOK_SECRET] = given
                connection.credentials_encrypted = services.secret_box.encrypt(stored)
            secret = stored.get(WEBHOOK_SECRET, "")
            token, connection_id = connection.webhook_token or "", connection.id
        if args.register:
            outcome = sync_setup.register(token, adapter, public_url)
            with unit_of_work(services.sessions) as session:
                stored = ConnectionRepository(session, args.team).get_current()
                if stored is not None and stored.id == connection_id:
                    sync_setup.remember(stored, outcome)
        else:
            outcome = sync_setup.WebhookOutcome(sync_setup.webhook_url(public_url, token))
        print(f"Webhook address: {outcome.url}")
        print(f"Signing secret:  {secret}  (keep it secret; paste it only into {adapter.spec.label})")
        if outcome.error:
            raise CommandError(outcome.error)
        if outcome.setup is None:
            print("Run again with --register to set it up in the ATS (or see what to paste where).")
        elif outcome.setup.registered:
            print(f"Registered with {adapter.spec.label}: {outcome.setup.instructions}")
        else:
            print(outcome.setup.instructions)
        return 0
    finally:
        services.close()


def _record_health(services: Services, team_id: str, error: str | None) -> None:
    with unit_of_work(services.sessions) as session:
        connection = ConnectionRepository(session, team_id).get_current()
        if connection is not None:
            connection.healthy = error is None
            connection.last_error = error
            connection.last_checked_at = utcnow()


def run_emulate(args: argparse.Namespace) -> int:
    """Run a vendor emulator in the foreground until Ctrl-C."""
    from devkit.ats.runner import run_emulator  # the dev kit loads only for the commands that use it

    try:
        run_emulator(Vendor(args.vendor), args.port, args.seed, args.rate_limit, host=args.host)
    except FileNotFoundError as exc:
        raise CommandError(str(exc)) from None
    return 0
