"""`scaleup tokens create|list|revoke --team T`: the ingest API's per-workspace bearer tokens.

A token is printed once, when it is created; only its SHA-256 hash is stored, so a lost token is revoked
and replaced, never recovered.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from rich.console import Console
from rich.table import Table

from bot.cli import CommandError
from bot.settings import load_settings
from bot.wiring import build_services
from storage.db import unit_of_work
from storage.models import ApiToken
from storage.repositories import ApiTokenRepository, ensure_workspace


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `tokens` command."""
    parser = subparsers.add_parser("tokens", help="create, list and revoke ingest API tokens")
    actions = parser.add_subparsers(dest="tokens_command", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="create a token and print it (once)")
    create.add_argument("--name", default="ingest", help="what the token is for (shown by `list`)")
    create.set_defaults(func=run_create)
    listing = actions.add_parser("list", help="list the workspace's tokens (never the tokens themselves)")
    listing.set_defaults(func=run_list)
    revoke = actions.add_parser("revoke", help="revoke a token by its id (from `list`)")
    revoke.add_argument("token_id", type=int, metavar="ID")
    revoke.set_defaults(func=run_revoke)
    for action in (create, listing, revoke):
        action.add_argument("--team", required=True, help="Slack team id of the workspace (T…)")


def run_create(args: argparse.Namespace) -> int:
    """Create a token for the workspace and print it."""
    services = build_services(load_settings(), auto_upgrade=True)
    try:
        with unit_of_work(services.sessions) as session:
            ensure_workspace(session, args.team)
            row, clear = ApiTokenRepository(session, args.team).issue(args.name)
            token_id = row.id
    finally:
        services.close()
    print(clear)
    print(
        f"Token {token_id} ({args.name!r}) for {args.team}. It is shown only now: store it where the sourcing "
        "platform keeps secrets and send it as `Authorization: Bearer <token>`.",
        file=sys.stderr,
    )
    return 0


def run_list(args: argparse.Namespace) -> int:
    """Print the workspace's tokens: id, name, prefix, created, last used, revoked."""
    services = build_services(load_settings(), auto_upgrade=True)
    try:
        with unit_of_work(services.sessions) as session:
            rows = ApiTokenRepository(session, args.team).list(order_by=ApiToken.id)
            table = Table(title=f"API tokens of {args.team}")
            for column in ("id", "name", "prefix", "created", "last used", "revoked"):
                table.add_column(column)
            for row in rows:
                table.add_row(
                    str(row.id),
                    row.name,
                    row.prefix + "…",
                    _when(row.created_at),
                    _when(row.last_used_at),
                    _when(row.revoked_at) or "",
                )
    finally:
        services.close()
    if not rows:
        print(f"No API tokens for {args.team}. Create one with `scaleup tokens create --team {args.team}`.")
    else:
        Console().print(table)
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    """Revoke one token; requests bearing it get 401 from then on."""
    services = build_services(load_settings(), auto_upgrade=True)
    try:
        with unit_of_work(services.sessions) as session:
            tokens = ApiTokenRepository(session, args.team)
            row = tokens.get(args.token_id)
            already = row is not None and row.revoked_at is not None
            revoked = already or tokens.revoke(args.token_id)
    finally:
        services.close()
    if not revoked:
        raise CommandError(
            f"{args.team} has no token {args.token_id} (see `scaleup tokens list --team {args.team}`)"
        )
    print(f"Token {args.token_id} of {args.team} {'was already' if already else 'is now'} revoked.")
    return 0


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"
