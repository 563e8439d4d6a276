"""The README's reverse proxy works as shown: nginx with `deploy/nginx/` in front of a real `scaleup serve`
passes Slack's signed requests and the health check, and refuses oversized bodies itself (skipped where
nginx is not installed: `apt-get install nginx-light`)."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from reliability_rig import report
from serve_rig import ServeProcess, serve_process
from slack_rig import ADMIN, SIGNING_SECRET, TEAM

from devkit.slack.emulator import SlackEmulator
from devkit.slack.signing import command_body, signed_headers

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "nginx"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)

pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def nginx_config(tmp: Path, app_port: int, port: int) -> str:
    """Return deploy/nginx/scaleup.conf made runnable here: plain HTTP on `port`, the app on `app_port`."""
    site = (DEPLOY / "scaleup.conf").read_text()
    site = site.replace("server 127.0.0.1:3000;", f"server 127.0.0.1:{app_port};")
    site = site.replace("listen 443 ssl;", f"listen 127.0.0.1:{port};")
    site = re.sub(r"^\s*ssl_certificate.*$", "", site, flags=re.MULTILINE)
    site = site.replace(
        "include conf.d/scaleup-locations.inc;", f"include {DEPLOY / 'scaleup-locations.inc'};"
    )
    temp = " ".join(
        f"{kind}_temp_path {tmp / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"daemon off; master_process off; pid {tmp / 'nginx.pid'}; error_log {tmp / 'error.log'};\n"
        f"events {{}}\nhttp {{ access_log off; {temp}\n{site}\n}}\n"
    )


@pytest.fixture
def proxied(tmp_path: Path, slack: SlackEmulator, secret_key: str) -> Iterator[tuple[str, ServeProcess]]:
    with serve_process(tmp_path, slack, secret_key) as served:
        port = free_port()
        config = tmp_path / "nginx.conf"
        config.write_text(nginx_config(tmp_path, served.host_port[1], port))
        proxy = subprocess.Popen(
            [NGINX, "-c", str(config), "-p", str(tmp_path)], stderr=subprocess.PIPE, text=True
        )
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    httpx.get(url + "/healthz", timeout=1)
                    break
                except httpx.TransportError:
                    assert proxy.poll() is None, proxy.stderr.read()  # type: ignore[union-attr]
                    time.sleep(0.05)
            yield url, served
        finally:
            proxy.terminate()
            proxy.wait(timeout=10)


def test_nginx_from_the_readme_passes_slack_and_refuses_what_the_app_would(
    proxied: tuple[str, ServeProcess], slack: SlackEmulator
) -> None:
    url, served = proxied
    assert httpx.get(url + "/healthz").json() == {"ok": True}
    body = command_body(
        text="help", team_id=TEAM, user_id=ADMIN, trigger_id="1.2.3", response_url=slack.webhook_url()
    )
    answer = httpx.post(url + "/slack/events", content=body, headers=signed_headers(SIGNING_SECRET, body))
    assert answer.status_code == 200 and "/scaleup link" in answer.text

    too_big = httpx.post(url + "/slack/events", content=b"x" * (1024 * 1024 + 1))
    assert too_big.status_code == 413  # nginx's own answer: the app never saw it
    assert "without a valid signature" not in served.log_text()
    assert httpx.get(url + "/nothing-here").status_code == 404
    report("reverse proxy (deploy/nginx)", healthz=200, signed_command=200, oversized=413)
