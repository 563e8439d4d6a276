"""Slack Web API clients: the one place a `WebClient` is built, and the one decision on the install mode.

- `install_mode`: one workspace (SLACK_BOT_TOKEN) or any workspace that installs the app (OAuth).
- `web_client`: a client on `SLACK_API_URL` with a token; every other client here is one of these.
- `clients_by_team`: each workspace's client, for work outside a request (posting alerts).
- `waiting_client`: a copy that waits out 429s, for background work only; request-path clients never sleep
  on a 429, which would hold up an acknowledgement.
- `unpaced_client`: a copy without Slack's own 429 sleeping, for the alert poster, which paces itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from bot.installation import EncryptedInstallationStore
from bot.settings import Settings, SettingsError
from bot.wiring import Services

log = logging.getLogger(__name__)

#: Seconds a Web API call may take (slack_sdk's default is 30: too long for anything a user waits on).
TIMEOUT = 10


class InstallMode(StrEnum):
    """How the app gets its bot token."""

    SINGLE = "single"  # one workspace, SLACK_BOT_TOKEN
    OAUTH = "oauth"  # any workspace that installs it, tokens stored encrypted in the database


def install_mode(settings: Settings) -> InstallMode:
    """Return the install mode the settings ask for; raise SettingsError when they ask for both or neither."""
    oauth = bool(settings.slack_client_id and settings.slack_client_secret)
    single = settings.slack_bot_token is not None
    if oauth and single:
        raise SettingsError(
            "Both SLACK_BOT_TOKEN and SLACK_CLIENT_ID/SLACK_CLIENT_SECRET are set: unset SLACK_BOT_TOKEN for "
            "multi-workspace OAuth installs, or the client id and secret for a single workspace."
        )
    if bool(settings.slack_client_id) != bool(settings.slack_client_secret):
        raise SettingsError("OAuth installs need both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET.")
    if not (oauth or single):
        raise SettingsError(
            "No Slack credentials: set SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and "
            "SLACK_CLIENT_SECRET (OAuth installs)."
        )
    return InstallMode.OAUTH if oauth else InstallMode.SINGLE


def web_client(token: str | None, base_url: str, **options: object) -> WebClient:
    """Return a Web API client; `options` go to `WebClient` (headers, retry handlers)."""
    return WebClient(token=token, base_url=base_url, timeout=TIMEOUT, **options)  # type: ignore[arg-type]


def clients_by_team(services: Services) -> Callable[[str], WebClient | None]:
    """Return the Slack client of each workspace: the bot token (one workspace) or its stored install."""
    settings = services.settings
    try:
        mode = install_mode(settings)
    except SettingsError as exc:
        log.warning("alerts stay pending: %s", exc)
        return lambda _team: None
    if mode is InstallMode.SINGLE:
        token = settings.slack_bot_token.get_secret_value()  # type: ignore[union-attr]
        return lambda _team: web_client(token, settings.slack_api_url)
    store = EncryptedInstallationStore(
        client_id=settings.slack_client_id or "", engine=services.engine, box=services.secret_box
    )

    def for_team(team_id: str) -> WebClient | None:
        bot = store.find_bot(enterprise_id=None, team_id=team_id)
        return web_client(bot.bot_token, settings.slack_api_url) if bot is not None else None

    return for_team


def waiting_client(client: WebClient, *, rate_limit_retries: int = 2) -> WebClient:
    """Return a copy of a request's client that waits out 429s (Retry-After), for background work only.

    Background work (confirmations, redraws after an ATS call) can afford to wait and should not lose its
    message.
    """
    return web_client(
        client.token,
        client.base_url,
        headers=dict(client.headers),
        retry_handlers=[
            ConnectionErrorRetryHandler(),
            RateLimitErrorRetryHandler(max_retry_count=rate_limit_retries),
        ],
    )


def unpaced_client(client: WebClient) -> WebClient:
    """Return a copy of a request's client that never sleeps on a 429 itself: the alert poster paces."""
    return web_client(client.token, client.base_url)
