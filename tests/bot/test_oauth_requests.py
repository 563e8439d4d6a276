"""OAuth installs: what stands before a request's acknowledgement besides the request itself.

Bolt authorizes each request of an OAuth-installed workspace with its stored token and, by default, an
`auth.test` call to Slack (hundreds of milliseconds in production). The app remembers that call's answer
per token (`bot.app.create_app`), so only the first request of a workspace makes it, while the stored
token is still read on every request, so a workspace that uninstalled the app is refused at once.
"""

from __future__ import annotations

import re

import pytest
from slack_rig import AppServer, json_body

OAUTH = {"SLACK_BOT_TOKEN": None, "SLACK_CLIENT_ID": "1111.2222", "SLACK_CLIENT_SECRET": "client-secret"}


def install(app_server: AppServer) -> None:
    """Install the app through Slack's OAuth flow, as the installing browser would."""
    page = app_server.http.get(app_server.url + "/slack/install")
    link = re.search(r'href="(https://slack.com/oauth/v2/authorize[^"]+)"', page.text)
    assert link is not None
    state = re.search(r"state=([^&]+)", link.group(1).replace("&amp;", "&"))
    assert state is not None
    cookie = "; ".join(f"{name}={value}" for name, value in page.cookies.items())
    done = app_server.http.get(
        app_server.url + "/slack/oauth_redirect",
        params={"code": "code-1", "state": state.group(1)},
        headers={"Cookie": cookie},
    )
    assert done.status_code == 200, done.text


@pytest.mark.parametrize("app_server", [OAUTH], indirect=True)
def test_only_a_workspaces_first_request_waits_for_auth_test(app_server: AppServer) -> None:
    install(app_server)
    before = len(app_server.slack.calls("auth.test"))
    for _ in range(3):
        assert json_body(app_server.command("connect")) == {}
    assert len(app_server.slack.calls("views.open")) == 3
    assert len(app_server.slack.calls("auth.test")) == before + 1


@pytest.mark.parametrize("app_server", [OAUTH], indirect=True)
def test_a_workspace_that_uninstalled_is_refused_on_its_next_request(app_server: AppServer) -> None:
    install(app_server)
    assert json_body(app_server.command("connect")) == {}
    with app_server.services.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM slack_bots")  # as the app_uninstalled listener does
    app_server.command("connect")
    assert len(app_server.slack.calls("views.open")) == 1  # no listener ran for the second request
