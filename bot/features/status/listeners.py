"""`/scaleup status [search]`: per link, counts per export state, last and next run, the last error.

The answer is ephemeral (only the person who asked sees it) and reads the database only, so it is
acknowledged at once. Its numbers come from `exports.report.link_reports`, as App Home's and
`scaleup status --json`'s do.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.features.router.ids import Subcommand, split_command, subcommand_is
from bot.features.status.views import status_message
from bot.ids import SLASH_COMMAND
from bot.middleware import scoped
from exports.report import link_reports
from storage.models import Workspace
from storage.repositories import SearchRepository


def register(app: App, deps: Deps) -> None:
    """Register `/scaleup status` (before the router's fallback)."""
    app.command(SLASH_COMMAND, matchers=[subcommand_is(Subcommand.STATUS)])(show_status)


@scoped
def show_status(ack: Ack, body: dict[str, Any], session: Session, workspace: Workspace) -> None:
    """Answer with the status of every link, or of the named search's link."""
    _, _, name = split_command(body.get("text"))
    reports = link_reports(session, workspace.team_id, search_name=name or None)
    exists = (
        bool(name)
        and not reports
        and SearchRepository(session, workspace.team_id).get_by_name(name) is not None
    )
    text, blocks = status_message(reports, search=name or None, search_exists=exists)
    ack(text=text, blocks=blocks)
