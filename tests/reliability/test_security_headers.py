"""The pages `scaleup serve` shows in a browser (the OAuth install page) cannot be framed or sniffed and
leak no Referer (issue 18); every other answer carries the same headers."""

from __future__ import annotations

from pathlib import Path

import httpx
from reliability_rig import report
from serve_rig import serve_process

from bot.server import SECURITY_HEADERS
from devkit.slack.emulator import SlackEmulator


def test_the_install_page_and_every_answer_carry_the_security_headers(
    tmp_path: Path, slack: SlackEmulator, secret_key: str
) -> None:
    oauth = {"SLACK_BOT_TOKEN": None, "SLACK_CLIENT_ID": "1111.2222", "SLACK_CLIENT_SECRET": "client-secret"}
    with serve_process(tmp_path, slack, secret_key, **oauth) as served:
        install = httpx.get(served.url + "/slack/install")
        others = [httpx.get(served.url + "/healthz"), httpx.get(served.url + "/nowhere")]
    assert install.status_code == 200 and "text/html" in install.headers["content-type"]
    for answer in (install, *others):
        for name, value in SECURITY_HEADERS:
            assert answer.headers.get(name) == value, (answer.url, name)
    report("security headers", install_page="X-Frame-Options, CSP frame-ancestors, nosniff, no-referrer")
