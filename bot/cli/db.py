"""`scaleup db upgrade|status`: migrate the database and say where it stands."""

from __future__ import annotations

import argparse

from bot.settings import load_settings
from storage import migrate
from storage.db import make_engine
from storage.reachability import check_reachable


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `db` command."""
    parser = subparsers.add_parser("db", help="migrate the database")
    actions = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = actions.add_parser("upgrade", help="bring the schema to the newest revision (idempotent)")
    up.set_defaults(func=run_upgrade)
    st = actions.add_parser("status", help="print the schema revision and whether it is current")
    st.set_defaults(func=run_status)


def run_upgrade(args: argparse.Namespace) -> int:
    """Upgrade the configured database to head."""
    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        check_reachable(engine)
        before = migrate.current_revision(engine)
        migrate.upgrade(engine)
        after = migrate.current_revision(engine)
    finally:
        engine.dispose()
    where = engine.url.render_as_string(hide_password=True)
    if before == after:
        print(f"Database {where} is already at revision {after}.")
    else:
        print(f"Database {where} upgraded from {before or 'empty'} to {after}.")
    return 0


def run_status(args: argparse.Namespace) -> int:
    """Print the database's revision; exit 1 when it needs `scaleup db upgrade`."""
    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        check_reachable(engine)
        current, head = migrate.current_revision(engine), migrate.head_revision()
    finally:
        engine.dispose()
    print(f"Database revision: {current or 'empty'}; newest: {head}.")
    if current != head:
        print("Run `scaleup db upgrade` to bring it up to date.")
        return 1
    return 0
