"""Install modes: the choice is explicit, and OAuth installs keep their Slack tokens encrypted at rest."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from slack_rig import TEAM, AppServer, json_body
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import text

from bot.ids import BOT_SCOPES
from bot.installation import DatabaseOAuthStateStore, EncryptedInstallationStore
from bot.settings import Settings, SettingsError
from bot.slack_clients import InstallMode, install_mode

OAUTH = {"SLACK_BOT_TOKEN": None, "SLACK_CLIENT_ID": "1111.2222", "SLACK_CLIENT_SECRET": "client-secret"}


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_install_mode_is_explicit() -> None:
    assert install_mode(settings(SLACK_BOT_TOKEN="xoxb-1")) is InstallMode.SINGLE
    assert install_mode(settings(SLACK_CLIENT_ID="1.2", SLACK_CLIENT_SECRET="s")) is InstallMode.OAUTH
    with pytest.raises(SettingsError, match="Both SLACK_BOT_TOKEN"):
        install_mode(settings(SLACK_BOT_TOKEN="xoxb-1", SLACK_CLIENT_ID="1.2", SLACK_CLIENT_SECRET="s"))
    with pytest.raises(SettingsError, match="No Slack credentials"):
        install_mode(settings())
    with pytest.raises(SettingsError, match="both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET"):
        install_mode(settings(SLACK_CLIENT_ID="1.2"))


def test_installation_store_encrypts_tokens_and_finds_the_newest(db_engine, sessions, secret_box) -> None:
    store = EncryptedInstallationStore(client_id="1111.2222", engine=db_engine, box=secret_box)
    old = Installation(
        app_id="A1",
        team_id=TEAM,
        user_id="U1",
        bot_token="xoxb-old-token",
        bot_id="B1",
        bot_user_id="UB",
        bot_scopes="commands",
        installed_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    new = Installation(
        app_id="A1",
        team_id=TEAM,
        user_id="U2",
        bot_token="xoxb-new-token",
        bot_id="B1",
        bot_user_id="UB",
        bot_scopes=list(BOT_SCOPES),
        user_token="xoxp-user-token",
        installed_at=datetime(2026, 2, 1, tzinfo=UTC),
    )
    store.save(old)
    store.save(new)
    with db_engine.connect() as conn:
        raw = " ".join(str(r) for r in conn.execute(text("SELECT * FROM slack_installations")).all())
        raw += " ".join(str(r) for r in conn.execute(text("SELECT * FROM slack_bots")).all())
    for token in ("xoxb-old-token", "xoxb-new-token", "xoxp-user-token"):
        assert token not in raw
    found = store.find_installation(enterprise_id=None, team_id=TEAM)
    assert found is not None and (found.bot_token, found.user_token, found.user_id) == (
        "xoxb-new-token",
        "xoxp-user-token",
        "U2",
    )
    first_user = store.find_installation(enterprise_id=None, team_id=TEAM, user_id="U1")
    assert first_user is not None and first_user.bot_token == "xoxb-new-token", (
        "users get the newest bot token"
    )
    bot = store.find_bot(enterprise_id=None, team_id=TEAM)
    assert bot is not None and bot.bot_token == "xoxb-new-token" and bot.bot_scopes == list(BOT_SCOPES)
    assert store.find_bot(enterprise_id=None, team_id="T-other") is None
    store.delete_bot(enterprise_id=None, team_id=TEAM)
    store.delete_installation(enterprise_id=None, team_id=TEAM)
    assert store.find_bot(enterprise_id=None, team_id=TEAM) is None
    assert store.find_installation(enterprise_id=None, team_id=TEAM) is None


def test_oauth_state_is_good_once(db_engine, sessions) -> None:
    store = DatabaseOAuthStateStore(db_engine)
    state = store.issue()
    assert store.consume(state) is True
    assert store.consume(state) is False
    assert store.consume("never-issued") is False


@pytest.mark.parametrize("app_server", [OAUTH], indirect=True)
def test_oauth_install_stores_an_encrypted_token_that_then_serves_the_workspace(
    app_server: AppServer,
) -> None:
    install = app_server.http.get(app_server.url + "/slack/install")
    assert install.status_code == 200
    url = re.search(r'href="(https://slack.com/oauth/v2/authorize[^"]+)"', install.text)
    assert url is not None
    link = url.group(1).replace("&amp;", "&")
    assert "client_id=1111.2222" in link and "scope=" + "%2C".join(BOT_SCOPES) in link.replace(",", "%2C")
    state = re.search(r"state=([^&]+)", link).group(1)

    # The client sends back the state cookie /slack/install set, as the installing browser would.
    cookie = "; ".join(f"{name}={value}" for name, value in install.cookies.items())
    done = app_server.http.get(
        app_server.url + "/slack/oauth_redirect",
        params={"code": "code-1", "state": state},
        headers={"Cookie": cookie},
    )
    assert done.status_code == 200, done.text
    (exchange,) = app_server.slack.calls("oauth.v2.access")
    assert exchange.payload["code"] == "code-1"
    with app_server.services.engine.connect() as conn:
        stored = conn.execute(text("SELECT bot_token FROM slack_bots")).scalar_one()
    installed = [t for t in app_server.slack.tokens if t.startswith("xoxb-installed-")]
    assert installed and installed[0] not in stored

    assert json_body(app_server.command("connect")) == {}
    (opened,) = app_server.slack.calls("views.open")
    assert opened.token == installed[0], "requests of the workspace use its decrypted installed token"
    assert [c.token for c in app_server.slack.calls("users.info")] == [installed[0]]
