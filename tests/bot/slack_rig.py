"""Helpers for driving the Slack app served on loopback with real signed HTTP requests, Slack's Web API emulated.

`app_server` builds the app exactly as `scaleup serve` does (settings → services → deps → create_app →
WSGI → waitress on port 0) with SLACK_API_URL pointed at `devkit.slack.emulator.SlackEmulator`. Tests send
what Slack sends (form-encoded commands, `payload=` interactions, JSON events) with valid v0 signatures,
and assert the HTTP answers and the Web API calls the emulator recorded. Background work is awaited with
`deps.background.wait_idle()`, never with sleeps.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.api import make_api
from bot.app import create_app
from bot.changes import changes_to
from bot.deps import Deps, build_deps
from bot.server import HttpServer, make_wsgi_app
from bot.settings import Settings
from bot.webhooks import make_webhook_app
from bot.wiring import Services
from core.vocabulary import Vendor
from devkit.ats.registry import create_emulator, load_seed
from devkit.slack.driver import checked, find_block, new_trigger, selected, typed, view_payload  # noqa: F401 - the tests import these from here
from devkit.slack.emulator import DEFAULT_TOKEN, SlackEmulator
from devkit.slack.signing import command_body, event_body, interaction_body, signed_headers
from storage.db import unit_of_work
from storage.models import AtsConnection
from storage.repositories import ConnectionRepository, ensure_workspace

SIGNING_SECRET = "test-signing-secret"
TEAM = "T0001"
ADMIN = "UADMIN01"
MEMBER = "UMEMBER1"
PUBLIC_CHANNEL = "CPUBLIC1"
PRIVATE_CHANNEL = "GPRIVATE"
CLOCK = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    """Return a started Slack Web API emulator with an admin, a member and two channels."""
    emulator = SlackEmulator(team_id=TEAM).start()
    emulator.add_user(ADMIN, admin=True)
    emulator.add_user(MEMBER)
    emulator.add_channel(PUBLIC_CHANNEL, "recruiting-alerts")
    emulator.add_channel(PRIVATE_CHANNEL, "secret-hiring", private=True)
    yield emulator
    emulator.stop()


def seeded_emulator(vendor: Vendor) -> Iterator[Any]:
    """Yield a started emulator of `vendor` with its demo seed; stop it afterwards."""
    emulator = create_emulator(vendor, seed=load_seed(vendor))
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def greenhouse() -> Iterator[Any]:
    """Return a started Greenhouse emulator with its demo seed (3 open jobs, 1 closed, 16 stages)."""
    yield from seeded_emulator(Vendor.GREENHOUSE)


@pytest.fixture
def ashby() -> Iterator[Any]:
    """Return a started Ashby emulator with its demo seed (interview plans with a Lead stage)."""
    yield from seeded_emulator(Vendor.ASHBY)


def make_settings(database_url: str, slack: SlackEmulator, secret_key: str, **extra: Any) -> Settings:
    """Return settings for the app under test (no environment, no .env file)."""
    values: dict[str, Any] = {
        "DATABASE_URL": database_url,
        "SCALEUP_SECRET_KEY": secret_key,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "SCALEUP_LISTENER_THREADS": 4,
        "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
        "SCALEUP_ATS_PRIVATE_URLS": True,  # the ATS emulators listen on loopback
        # The test database (and its budget file) lives for the whole run and token ids restart after each
        # wipe, so one token's budget would be shared by every API test; tests/reliability/test_api_limits.py
        # measures the real default.
        "SCALEUP_API_RATE_LIMIT": "100000/60",
    }
    values.update(extra)
    return Settings(_env_file=None, **{k: v for k, v in values.items() if v is not None})


@dataclass
class AppServer:
    """The app under test and ways to talk to it like Slack does."""

    url: str
    slack: SlackEmulator
    deps: Deps
    services: Services
    http: httpx.Client

    @property
    def sessions(self) -> sessionmaker[Session]:
        """Return the database session factory."""
        return self.services.sessions

    def post(
        self,
        body: str,
        *,
        content_type: str = "application/x-www-form-urlencoded",
        timestamp: int | None = None,
        secret: str = SIGNING_SECRET,
        wait: bool = True,
    ) -> httpx.Response:
        """POST a signed body to /slack/events.

        The answer leaves at ack(); with `wait`, what the listener does after it is awaited too, so the
        test sees its effects.
        """
        headers = signed_headers(secret, body, timestamp=timestamp, content_type=content_type)
        response = self.http.post(self.url + "/slack/events", content=body.encode(), headers=headers)
        if wait:
            assert self.deps.listeners.wait_idle(timeout=20), "a listener did not finish"
        return response

    def command(self, text: str, *, user: str = ADMIN, team: str = TEAM, wait: bool = True) -> httpx.Response:
        """Send `/scaleup <text>` as `user` (`wait`: see `post`)."""
        body = command_body(
            text=text,
            team_id=team,
            user_id=user,
            trigger_id=new_trigger(),
            response_url=self.slack.webhook_url(),
        )
        return self.post(body, wait=wait)

    def interact(self, payload: dict[str, Any]) -> httpx.Response:
        """Send an interaction payload (block actions, suggestions, submissions, shortcuts)."""
        return self.post(interaction_body(payload))

    def event(self, event: dict[str, Any]) -> httpx.Response:
        """Send an Events API callback."""
        body = {
            "type": "event_callback",
            "team_id": TEAM,
            "api_app_id": "A0001",
            "event": event,
            "event_id": "Ev" + uuid.uuid4().hex[:8],
            "event_time": 1,
        }
        return self.post(event_body(body), content_type="application/json")

    def settle(self) -> None:
        """Wait until listeners and background work (ATS calls and what follows them) are done."""
        assert self.deps.listeners.wait_idle(timeout=20), "a listener did not finish"
        assert self.deps.background.wait_idle(timeout=20), "background work did not finish"


def user_of(user: str) -> dict[str, Any]:
    """Return the `user` object of an interaction payload."""
    return {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM}


def block_actions(
    view: dict[str, Any], action: dict[str, Any], values: dict[str, Any] | None = None, *, user: str = ADMIN
) -> dict[str, Any]:
    """Return a block_actions payload for an action in an open modal."""
    return {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "acme"},
        "user": user_of(user),
        "api_app_id": "A0001",
        "container": {"type": "view", "view_id": view["id"]},
        "trigger_id": new_trigger(),
        "view": view_payload(view, values),
        "actions": [{**action, "action_ts": "1700000000.000001"}],
    }


def suggestion(
    view: dict[str, Any], action_id: str, block_id: str, value: str, *, user: str = ADMIN
) -> dict[str, Any]:
    """Return a block_suggestion payload (the user typed `value` into an external select)."""
    return {
        "type": "block_suggestion",
        "user": user_of(user),
        "container": {"type": "view", "view_id": view["id"]},
        "api_app_id": "A0001",
        "action_id": action_id,
        "block_id": block_id,
        "value": value,
        "team": {"id": TEAM, "domain": "acme"},
        "view": view_payload(view),
    }


def submission(view: dict[str, Any], values: dict[str, Any], *, user: str = ADMIN) -> dict[str, Any]:
    """Return a view_submission payload with the given state values."""
    return {
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "acme"},
        "user": user_of(user),
        "api_app_id": "A0001",
        "trigger_id": new_trigger(),
        "view": view_payload(view, values),
        "response_urls": [],
    }


def block_ids(view: dict[str, Any]) -> list[str]:
    """Return the block ids of a view, in order."""
    return [b.get("block_id") for b in view["blocks"]]


def json_body(response: httpx.Response) -> dict[str, Any]:
    """Return the JSON answer of the app (Bolt answers acks with JSON bodies)."""
    assert response.status_code == 200, (response.status_code, response.text)
    if not response.text:
        return {}
    if response.headers.get("content-type", "").startswith("application/json"):
        return json.loads(response.text)
    return {"text": response.text}  # Bolt answers a text-only ack as plain text


@pytest.fixture
def app_server(
    sessions: sessionmaker[Session],
    db_engine: Engine,
    database_url: str,
    slack: SlackEmulator,
    secret_key: str,
    request: pytest.FixtureRequest,
) -> Iterator[AppServer]:
    """Serve the app on loopback (single-workspace install) against the Slack emulator."""
    extra = getattr(request, "param", {}) or {}
    settings = make_settings(database_url, slack, secret_key, **extra)
    services = Services(settings=settings, engine=db_engine, sessions=sessions)
    # A fixed clock: "refreshed just now" and staleness never depend on how fast the machine is.
    deps = build_deps(services, background_threads=4, now=lambda: CLOCK)
    with serving(services, deps, slack) as server:
        yield server


@contextmanager
def serving(
    services: Services,
    deps: Deps,
    slack: SlackEmulator,
    *,
    on_changed: bool = False,
    timeout: float = 15.0,
    idle: float = 20.0,
) -> Iterator[AppServer]:
    """Serve the app on loopback (Slack, the ingest API, ATS webhooks); then wait for its work and close it.

    `on_changed`: the ingest API hands changed candidates to the engine and out to their ATS records, as
    `scaleup serve` wires it (`bot.changes.changes_to`); `timeout` is the HTTP client's, `idle` how long the
    listeners and background work may take to finish.
    """
    changes = changes_to(deps.exports, deps.background.submit) if on_changed else None
    wsgi = make_wsgi_app(
        create_app(services, deps),
        services,
        api=make_api(services, on_changed=changes),
        webhooks=make_webhook_app(deps),
    )
    server = HttpServer(wsgi, threads=4).start()
    with httpx.Client(timeout=timeout) as http:
        yield AppServer(server.url, slack, deps, services, http)
    server.close()
    deps.listeners.wait_idle(timeout=idle)
    deps.background.wait_idle(timeout=idle)
    deps.close()
    services.close()  # the ATS budgets' threads and files (the shared engine only loses its pooled connections)


def connect_ats(server: AppServer, emulator: Any, *, jobs_loaded: bool = True) -> int:
    """Store a connection to the ATS `emulator` stands for (and load its jobs); return the connection id."""
    config = emulator.connection_config()
    with unit_of_work(server.sessions) as session:
        ensure_workspace(session, TEAM)
        connection = ConnectionRepository(session, TEAM).save(
            server.services.secret_box,
            vendor=config.vendor,
            secrets=dict(config.secrets),
            fields=dict(config.fields),
            base_url=config.base_url,
            connected_by=ADMIN,
        )
        connection_id = connection.id
    if jobs_loaded:
        server.deps.job_cache.refresh(TEAM)
    return connection_id


def connection_row(server: AppServer) -> AtsConnection | None:
    """Return the stored connection of the test workspace."""
    with unit_of_work(server.sessions) as session:
        row = ConnectionRepository(session, TEAM).get_current()
        if row is not None:
            session.expunge(row)
        return row
