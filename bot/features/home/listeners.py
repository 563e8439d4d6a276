"""App Home: publish the Home tab when a user opens it."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.deps import Deps
from bot.features.home.views import home_view
from bot.ids import BotEvent


def register(app: App, deps: Deps) -> None:
    """Register the Home tab listener."""
    app.event(BotEvent.APP_HOME_OPENED.value)(publish_home)


def publish_home(event: dict[str, Any], client: WebClient) -> None:
    """Publish the Home tab for the user who opened it (the Messages tab needs nothing)."""
    if event.get("tab") == "home":
        client.views_publish(user_id=event["user"], view=home_view())
