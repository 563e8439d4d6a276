"""Start the app exactly as `scaleup serve` does, next to an ATS emulator and a Slack Web API stand-in."""

from __future__ import annotations

import secrets as pysecrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ats.registry import spec_of
from bot.api import make_api
from bot.app import create_app
from bot.changes import changes_to
from bot.deps import Deps, build_deps
from bot.server import HttpServer, make_wsgi_app
from bot.settings import Settings
from bot.wiring import Services, build_services
from core.vocabulary import Vendor
from devkit.ats.base import Emulator
from devkit.ats.runner import start_emulator
from devkit.slack.driver import SlackDriver
from devkit.slack.emulator import DEFAULT_TOKEN, SlackEmulator
from storage.crypto import generate_key

TEAM = "T0DEMO001"
ADMIN = "U0RECRUIT"
ALERTS_CHANNEL = "C0ALERTS1"
SOURCING_CHANNEL = "C0SOURCE1"


@dataclass
class DemoStack:
    """Everything the demo started; `close()` stops it all."""

    vendor: Vendor
    ats: Emulator
    slack: SlackEmulator
    services: Services
    deps: Deps
    server: HttpServer
    driver: SlackDriver
    http: httpx.Client
    _closed: bool = field(default=False, repr=False)

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until the app's listeners and background work (ATS calls and what follows them) are done."""
        if not (self.deps.listeners.wait_idle(timeout=timeout) and self.deps.background.wait_idle(timeout)):
            raise RuntimeError("the app's background work did not finish in time")

    def close(self) -> None:
        """Stop the servers and release the database."""
        if self._closed:
            return
        self._closed = True
        self.server.close()
        self.deps.listeners.wait_idle(timeout=10)
        self.deps.background.wait_idle(timeout=10)
        self.deps.close()
        self.services.close()
        self.http.close()
        self.slack.stop()
        self.ats.stop()


def start_stack(vendor: Vendor, workdir: Path, *, rate_limit: int | None = None) -> DemoStack:
    """Start the ATS emulator, the Slack stand-in and the app on loopback, with a SQLite file in `workdir`."""
    ats = start_emulator(vendor, rate_limit=rate_limit)
    if spec_of(vendor).capabilities.delayed_visibility:
        # Show new records a second late, as these vendors may: the demo's records wait in "Processing".
        ats.visibility_delay = 1.0
    slack = SlackEmulator(team_id=TEAM).start()
    slack.add_user(ADMIN, admin=True)
    slack.add_channel(ALERTS_CHANNEL, "recruiting-alerts")
    slack.add_channel(SOURCING_CHANNEL, "sourcing")
    signing_secret = pysecrets.token_hex(16)
    values: dict[str, Any] = {
        "DATABASE_URL": f"sqlite:///{workdir / 'scaleup-demo.db'}",
        "SCALEUP_SECRET_KEY": generate_key(),
        "SCALEUP_ATS_PRIVATE_URLS": "1",  # the ATS emulators listen on loopback
        "SLACK_SIGNING_SECRET": signing_secret,
        "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
        "SLACK_API_URL": slack.api_url,
        "SCALEUP_LISTENER_THREADS": 8,
        **ats.install_settings,  # Merge: this install's API key, which the emulator accepts
    }
    settings = Settings(_env_file=None, **values)
    services = build_services(settings, auto_upgrade=True)
    deps = build_deps(services)
    app = create_app(services, deps)
    api = make_api(services, on_changed=changes_to(deps.exports, deps.background.submit))
    server = HttpServer(make_wsgi_app(app, services, api=api), threads=8).start()
    http = httpx.Client(timeout=30)
    driver = SlackDriver(
        server.url,
        signing_secret,
        TEAM,
        http,
        response_url=slack.webhook_url(),
        settle=deps.listeners.wait_idle,
    )
    return DemoStack(vendor, ats, slack, services, deps, server, driver, http)
