"""`/scaleup admins add @user` and `/scaleup admins list`."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.deps import Deps
from bot.features.admins.ids import AdminsAction, mentioned_users
from bot.features.admins.views import REFUSAL, added_text, list_text, usage_text
from bot.features.router.ids import Subcommand, split_command, subcommand_is
from bot.ids import SLASH_COMMAND
from bot.middleware import AdminCheck, scoped
from storage.models import AppAdmin
from storage.repositories import AdminRepository


def register(app: App, deps: Deps) -> None:
    """Register `/scaleup admins`."""
    app.command(SLASH_COMMAND, matchers=[subcommand_is(Subcommand.ADMINS)])(manage_admins)


@scoped
def manage_admins(ack: Ack, body: dict[str, Any], session, workspace, is_admin: AdminCheck) -> None:
    """Add app admins (admins only) or list them."""
    _, _, rest = split_command(body.get("text"))
    action, _, targets = rest.partition(" ")
    repo = AdminRepository(session, workspace.team_id)
    if action.lower() == AdminsAction.LIST:
        ack(text=list_text([a.user_id for a in repo.list(order_by=AppAdmin.id)]))
        return
    users = mentioned_users(targets)
    if action.lower() != AdminsAction.ADD or not users:
        ack(text=usage_text())
        return
    if not is_admin():
        ack(text=REFUSAL)
        return
    for user_id in users:
        repo.add_admin(user_id, added_by=body.get("user_id"))
    ack(text=added_text(users))
