"""Which workspace a CLI command acts on: the one named with --team, else the database's only one; and the
services a workspace command runs with (`workspace_services`)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cli import CommandError
from bot.settings import load_settings
from bot.wiring import Services, build_services
from storage.db import unit_of_work
from storage.models import Workspace


def only_team(session: Session, team: str | None) -> str:
    """Return `team`, or the database's only workspace.

    Raises:
        CommandError: no workspace yet, or several and none named.
    """
    if team:
        return team
    teams = list(session.scalars(select(Workspace.team_id)))
    if len(teams) == 1:
        return teams[0]
    if not teams:
        raise CommandError("the database has no workspace yet.")
    raise CommandError(
        f"the database holds {len(teams)} workspaces; say which with --team ({', '.join(teams)})."
    )


def add_team_option(parser: argparse.ArgumentParser) -> None:
    """Add `--team`, which `only_team` reads (optional while the database holds one workspace)."""
    parser.add_argument("--team", help="Slack team id (needed when the database holds several workspaces)")


@contextmanager
def workspace_services(team: str | None) -> Iterator[tuple[Services, str]]:
    """Yield the services and the workspace (`only_team`) a command acts on; close the services after.

    Raises:
        CommandError: no workspace yet, or several and none named.
    """
    services = build_services(load_settings(), auto_upgrade=True)
    try:
        with unit_of_work(services.read_sessions) as session:
            chosen = only_team(session, team)
        yield services, chosen
    finally:
        services.close()
