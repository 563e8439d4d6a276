"""Names shared by the code and `manifest.yml`: the slash command, shortcuts, events and bot scopes.

`tests/bot/test_manifest.py` checks the manifest against these, and the Web API methods the code calls
against `METHOD_SCOPES`, so a new command, shortcut or API call cannot ship without its manifest entry.
"""

from __future__ import annotations

from enum import StrEnum

SLASH_COMMAND = "/scaleup"


class Shortcut(StrEnum):
    """Callback ids of the app's shortcuts."""

    EXPORT_TO_ATS = "export-to-ats"


class BotEvent(StrEnum):
    """Events API subscriptions of the bot."""

    APP_HOME_OPENED = "app_home_opened"
    APP_UNINSTALLED = "app_uninstalled"
    TOKENS_REVOKED = "tokens_revoked"


#: The bot scopes each Web API method the app calls needs (https://docs.slack.dev/reference/methods).
#: conversations.info needs channels:read for public and groups:read for private channels.
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "auth.test": (),
    "chat.postMessage": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.getPermalink": (),
    "views.open": (),
    "views.update": (),
    "views.push": (),
    "views.publish": (),
    "users.info": ("users:read",),
    "conversations.info": ("channels:read", "groups:read"),
    "conversations.join": ("channels:join",),
}

#: Scopes needed without a Web API call: the slash command and the shortcuts.
BASE_SCOPES: tuple[str, ...] = ("commands",)

#: Every bot scope the app asks for at install; the manifest test checks it is exactly what the code calls.
BOT_SCOPES: tuple[str, ...] = (
    "channels:join",
    "channels:read",
    "chat:write",
    "commands",
    "groups:read",
    "users:read",
)
