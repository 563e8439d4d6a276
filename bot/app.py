"""Build the Bolt app from the settings and its collaborators: no global app, client or token.

The install mode is chosen explicitly (`bot.slack_clients.install_mode`). Bolt would otherwise switch to
OAuth by itself whenever SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are in the environment (ignoring
SLACK_BOT_TOKEN, with file-based stores); `install_mode` refuses the ambiguous case instead.

Slack's answer leaves as soon as a listener calls `ack()` (Bolt's `process_before_response=False`): Bolt
runs the listener on `deps.listeners` while the request's thread waits for the acknowledgement, and what
the listener does after it (opening a modal, posting a confirmation) never stands between Slack and its
answer. The acknowledgement can still carry real results (field errors, options), and the request's
unit of work commits before it leaves (`bot.middleware.scoped`), so Slack is never told of a write that a
rollback could undo. ATS calls go further, to `deps.background`, a separate bounded pool, so a slow ATS can
never starve the listeners. Both pools and the HTTP server's threads are sized from
`SCALEUP_LISTENER_THREADS`.
"""

from __future__ import annotations

import logging
import os
import re

from slack_bolt import App
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.error import BoltError
from slack_bolt.oauth.oauth_settings import OAuthSettings

from bot.deps import Deps
from bot.errors import handle_error
from bot.features import FEATURES
from bot.ids import BOT_SCOPES
from bot.installation import DatabaseOAuthStateStore, EncryptedInstallationStore
from bot.middleware import drop_slack_retries, provide_deps
from bot.response_urls import ResponseUrls, guard_response_urls
from bot.settings import SettingsError
from bot.slack_clients import InstallMode, install_mode, web_client
from bot.wiring import Services

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
EVENTS_PATH = "/slack/events"


def create_app(
    services: Services, deps: Deps, *, socket_mode: bool = False, verify_token: bool = True
) -> App:
    """Return the Bolt app with every feature's listeners registered.

    Args:
        services: settings and database.
        deps: the listeners' collaborators (background pool, adapters, job cache, export engine).
        socket_mode: requests arrive over Socket Mode (no signing secret needed, none is checked).
        verify_token: in single-workspace mode, call `auth.test` at start so a bad token fails at once.

    Raises:
        SettingsError: the Slack settings are missing or contradictory.
    """
    settings = services.settings
    mode = install_mode(settings)
    signing_secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    )
    if not signing_secret and not socket_mode:
        raise SettingsError(
            "SLACK_SIGNING_SECRET is not set; Slack's requests cannot be verified without it."
        )
    if (
        mode is InstallMode.SINGLE
        and os.environ.get("SLACK_CLIENT_ID")
        and os.environ.get("SLACK_CLIENT_SECRET")
    ):
        # Bolt reads these two from the environment by itself and would silently switch to OAuth.
        raise SettingsError("SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are in the environment; unset them.")

    token = settings.slack_bot_token.get_secret_value() if mode is InstallMode.SINGLE else None
    client = web_client(token, settings.slack_api_url)
    oauth_settings = authorize = None
    if mode is InstallMode.OAUTH:
        store = EncryptedInstallationStore(
            client_id=settings.slack_client_id or "", engine=services.engine, box=services.secret_box
        )
        # Bolt's default authorize calls auth.test with the workspace's token before every request's
        # listener, so before every acknowledgement: "300-500 milliseconds in average" (bolt-python#122,
        # https://github.com/slackapi/bolt-python/pull/122, which added `cache_enabled`). Its answer for a
        # token never changes, so it is remembered by token; the token itself is still looked up in the
        # store on each request, so an uninstalled workspace is refused at once.
        authorize = InstallationStoreAuthorize(
            logger=log,
            installation_store=store,
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret.get_secret_value(),  # type: ignore[union-attr]
            bot_only=True,
            cache_enabled=True,
            client=client,
        )
        oauth_settings = OAuthSettings(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret.get_secret_value(),  # type: ignore[union-attr]
            scopes=list(BOT_SCOPES),
            installation_store=store,
            installation_store_bot_only=True,
            state_store=DatabaseOAuthStateStore(services.engine),
            install_path=INSTALL_PATH,
            redirect_uri_path=REDIRECT_PATH,
        )
    try:
        # In a single-workspace install Bolt checks the token with auth.test here, before serving.
        app = App(
            name="scaleup",
            client=client,
            signing_secret=signing_secret or "socket-mode",
            token_verification_enabled=verify_token and mode is InstallMode.SINGLE,
            request_verification_enabled=not socket_mode,
            oauth_settings=oauth_settings,
            authorize=authorize,
            process_before_response=False,
            listener_executor=deps.listeners,
        )
    except BoltError as exc:
        refused = re.search(r"'error': '(\w+)'", str(exc))
        raise SettingsError(
            f"Slack refused SLACK_BOT_TOKEN ({refused.group(1) if refused else 'auth.test failed'}); copy the "
            "Bot User OAuth Token (xoxb-…) again from the app's OAuth & Permissions page."
        ) from None
    except OSError as exc:  # urllib's URLError, a refused or unresolvable host
        reason = getattr(exc, "reason", exc)
        raise SettingsError(
            f"Slack's Web API at {settings.slack_api_url} did not answer ({reason}); check this machine's "
            "network access to Slack (or SLACK_API_URL)."
        ) from None
    if mode is InstallMode.OAUTH:
        app.enable_token_revocation_listeners()
    app.use(services.metrics.request_kinds.middleware)  # for the answer's metric (`bot.server`)
    app.use(guard_response_urls(ResponseUrls.for_api(settings.slack_api_url)))  # before anything can reply
    app.use(drop_slack_retries())
    app.use(provide_deps(deps))
    for feature in FEATURES:
        feature.register(app, deps)
    app.error(handle_error)
    log.info("Slack app ready (%s install, %s)", mode, "Socket Mode" if socket_mode else "HTTP")
    return app
