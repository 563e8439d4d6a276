"""Replies go only to Slack's response URLs (issue 18): a signed request whose `response_url` points
elsewhere is handled but answered nowhere, over a real `scaleup serve` process; Slack's own URL still works."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from export_rig import click
from reliability_rig import report
from serve_rig import serve_process
from test_ats_urls import Capture

from bot.features.export.ids import ExportIds
from bot.response_urls import ResponseUrls
from devkit.slack.emulator import SlackEmulator


@pytest.fixture
def capture() -> Iterator[Capture]:
    server = Capture()
    yield server
    server.close()


def test_a_reply_to_a_foreign_response_url_is_dropped(
    tmp_path: Path, slack: SlackEmulator, secret_key: str, capture: Capture
) -> None:
    foreign = f"http://127.0.0.1:{capture.port}/hooks"
    with serve_process(tmp_path, slack, secret_key) as served:
        cancel = click(ExportIds.BULK_CANCEL, "x", message_ts="1.1", response_url=foreign)
        assert served.interact(cancel).status_code == 200
        own = click(ExportIds.BULK_CANCEL, "x", message_ts="1.2", response_url=slack.webhook_url())
        assert served.interact(own).status_code == 200
        slack.wait_for("response_url", 1)
        log = served.log_text()
    assert capture.requests == []
    assert "Dropped a response_url that is not Slack's (host 127.0.0.1)" in log
    assert [c.payload.get("delete_original") for c in slack.calls("response_url")] == [True]
    report("foreign response URLs", requests_sent=0, slacks_own="answered")


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://hooks.slack.com/commands/T1/1/abc", True),
        ("https://HOOKS.slack.com:443/actions/T1/1/abc", True),
        ("https://hooks.slack-gov.com/commands/T1/1/abc", True),
        ("http://hooks.slack.com/commands/T1/1/abc", False),
        ("https://hooks.slack.com.evil.example/x", False),
        ("https://hooks.slack.com@evil.example/x", False),
        ("https://user:pw@hooks.slack.com/x", False),
        ("https://hooks.slack.com:8443/x", False),
        ("https://evil.example/hooks.slack.com/", False),
        ("javascript:alert(1)", False),
        ("https://hooks.slack.com:99999/x", False),
        ("https://127.0.0.1:8080/webhook/response", True),  # the SLACK_API_URL host, here the stand-in's
        ("https://127.0.0.1:8081/webhook/response", False),
    ],
)
def test_only_slacks_origins_and_the_api_urls_are_allowed(url: str, allowed: bool) -> None:
    assert ResponseUrls.for_api("https://127.0.0.1:8080/api/").allows(url) is allowed
