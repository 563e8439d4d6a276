"""Texts of `/scaleup admins`."""

from __future__ import annotations

from bot.ids import SLASH_COMMAND

REFUSAL = (
    f"Only workspace admins and owners, and people they added with `{SLASH_COMMAND} admins add @user`, can connect the "
    "ATS or change links. Ask one of them."
)


def added_text(user_ids: list[str]) -> str:
    """Return the confirmation of added admins."""
    who = ", ".join(f"<@{u}>" for u in user_ids)
    return f"{who} can now connect the ATS and change links."


def list_text(user_ids: list[str]) -> str:
    """Return who was added as an app admin."""
    if not user_ids:
        return (
            "Only workspace admins and owners can connect the ATS and change links. "
            f"Add someone with `{SLASH_COMMAND} admins add @user`."
        )
    return "Besides workspace admins and owners: " + ", ".join(f"<@{u}>" for u in user_ids) + "."


def usage_text() -> str:
    """Return how to use the subcommand."""
    return f"Usage: `{SLASH_COMMAND} admins add @user [@user…]` or `{SLASH_COMMAND} admins list`."
