"""Helpers of the manual-export tests: an app whose ATS budget is sized for a 500-candidate test, links,
candidates, and the payloads Slack sends for the shortcut and for buttons on messages."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from slack_rig import (
    MEMBER,
    PUBLIC_CHANNEL,
    SIGNING_SECRET,
    TEAM,
    AppServer,
    connect_ats,
    make_settings,
    new_trigger,
    serving,
    user_of,
)
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session, sessionmaker

from bot.deps import build_deps
from bot.features.export.ids import ExportIds
from bot.ids import Shortcut
from bot.wiring import Services
from core.vocabulary import EmailType, Vendor
from devkit.ats.registry import create_emulator, load_seed
from devkit.slack.emulator import SlackEmulator
from devkit.slack.signing import interaction_body, signed_headers
from storage.db import unit_of_work
from storage.enums import Audience, ExportAs, LinkMode
from storage.models import Candidate, CandidateEmail, Export, Link, SearchCandidate
from storage.repositories import SearchRepository
from storage.states import ExportState

BACKEND = "4001"  # Greenhouse seed: Senior Backend Engineer, stage 40011 Phone Screen
#: Requests per 30 s the emulator allows and the app budgets for: enough for 500 exports in seconds.
RATE_LIMIT = 20_000


@pytest.fixture
def fast_greenhouse() -> Iterator[Any]:
    """Return a started Greenhouse emulator with its seed and a rate limit sized for bulk tests."""
    emulator = create_emulator(
        Vendor.GREENHOUSE, seed=load_seed(Vendor.GREENHOUSE), rate_limit=RATE_LIMIT, rate_window=30.0
    )
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def export_server(
    sessions: sessionmaker[Session],
    db_engine: Engine,
    database_url: str,
    slack: SlackEmulator,
    secret_key: str,
) -> Iterator[AppServer]:
    """Serve the app like `app_server`, with the export engine's ATS budget matching the emulator's limit."""
    limits = {"SCALEUP_ATS_RATE_LIMITS": {Vendor.GREENHOUSE.value: f"{RATE_LIMIT}/30"}}
    services = Services(
        settings=make_settings(database_url, slack, secret_key, **limits), engine=db_engine, sessions=sessions
    )
    with serving(services, build_deps(services, background_threads=4), slack, timeout=30, idle=60) as server:
        yield server


def linked_search(
    server: AppServer,
    emulator: Any,
    name: str = "Backend hires",
    *,
    export_as: ExportAs = ExportAs.APPLICANT,
    mode: LinkMode = LinkMode.AUTOMATIC,
    include_ats: bool = False,
) -> tuple[int, int]:
    """Connect Greenhouse (once), create a search linked to the backend job; return (search id, link id)."""
    with unit_of_work(server.sessions) as session:
        connected = session.scalar(select(Link.connection_id).where(Link.team_id == TEAM).limit(1))
    connection_id = connected or connect_ats(server, emulator, jobs_loaded=False)
    with unit_of_work(server.sessions) as session:
        search = SearchRepository(session, TEAM).get_or_create(name)
        link = Link(
            team_id=TEAM,
            search_id=search.id,
            connection_id=connection_id,
            job_id=BACKEND,
            job_name="Senior Backend Engineer",
            export_as=export_as,
            stage_id="40011" if export_as is ExportAs.APPLICANT else None,
            stage_name="Phone Screen" if export_as is ExportAs.APPLICANT else None,
            mode=mode,
            audience=Audience.ALL,
            email_types=[],
            include_ats_candidates=include_ats,
            created_by="UADMIN01",
        )
        session.add(link)
        session.flush()
        return search.id, link.id


def add_people(
    server: AppServer, search_id: int, count: int, *, without_email: int = 0, prefix: str = "p"
) -> list[int]:
    """Add `count` candidates to the search in bulk, the last `without_email` of them with no email."""
    with unit_of_work(server.sessions) as session:
        rows = [
            {
                "team_id": TEAM,
                "first_name": f"Person{n}",
                "last_name": "Bulk",
                "source_id": f"{prefix}-{n}",
                "linkedin_url": f"https://www.linkedin.com/in/{prefix}-person-{n}",
            }
            for n in range(count)
        ]
        session.execute(insert(Candidate), rows)
        ids = list(
            session.scalars(
                select(Candidate.id).where(Candidate.source_id.like(f"{prefix}-%")).order_by(Candidate.id)
            )
        )
        with_email = ids[: count - without_email]
        if with_email:
            session.execute(
                insert(CandidateEmail),
                [
                    {
                        "team_id": TEAM,
                        "candidate_id": cid,
                        "address": f"{prefix}{cid}@example.com",
                        "type": EmailType.WORK,
                        "valid": True,
                    }
                    for cid in with_email
                ],
            )
        session.execute(
            insert(SearchCandidate),
            [{"team_id": TEAM, "search_id": search_id, "candidate_id": cid} for cid in ids],
        )
        return ids


def export_states(server: AppServer, link_id: int) -> dict[int, ExportState]:
    """Return candidate id → export state of a link."""
    with unit_of_work(server.sessions) as session:
        return dict(
            session.execute(select(Export.candidate_id, Export.state).where(Export.link_id == link_id)).all()
        )


def wait_until(check: Callable[[], Any], *, timeout: float = 60.0, what: str = "condition") -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds (a bound, not a measure)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def settle(server: AppServer, timeout: float = 90.0) -> None:
    """Wait until the background pool (engine calls and their answers) is idle."""
    assert server.deps.background.wait_idle(timeout=timeout), "background work did not finish"


def message(text: str = "", *, ts: str | None = None, **extra: Any) -> dict[str, Any]:
    """Return a channel message as a shortcut payload carries it."""
    return {"type": "message", "text": text, "ts": ts or f"{time.time():.6f}", **extra}


def shortcut(msg: dict[str, Any], *, user: str = MEMBER, channel: str = PUBLIC_CHANNEL) -> dict[str, Any]:
    """Return the "Export to ATS" message shortcut payload on `msg`."""
    return {
        "type": "message_action",
        "callback_id": Shortcut.EXPORT_TO_ATS.value,
        "trigger_id": new_trigger(),
        "action_ts": f"{time.time():.6f}",
        "team": {"id": TEAM, "domain": "acme"},
        "user": user_of(user),
        "channel": {"id": channel, "name": "recruiting"},
        "message_ts": msg["ts"],
        "message": msg,
        "response_url": "http://127.0.0.1:9/unused",
    }


def click(
    action_id: str,
    value: str,
    *,
    message_ts: str,
    thread_ts: str | None = None,
    user: str = MEMBER,
    channel: str = PUBLIC_CHANNEL,
    response_url: str = "http://127.0.0.1:9/unused",
) -> dict[str, Any]:
    """Return a block_actions payload for a button on a channel message (a fresh action_ts per click)."""
    return {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "acme"},
        "user": user_of(user),
        "api_app_id": "A0001",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": False,
            **({"thread_ts": thread_ts} if thread_ts else {}),
        },
        "trigger_id": new_trigger(),
        "channel": {"id": channel, "name": "recruiting"},
        "message": {"type": "message", "ts": message_ts, **({"thread_ts": thread_ts} if thread_ts else {})},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": ExportIds.ACTIONS,
                "type": "button",
                "value": value,
                "action_ts": f"{time.time():.6f}{uuid.uuid4().int % 1000}",
            }
        ],
    }


def slack_retry(server: AppServer, payload: dict[str, Any], number: int = 1) -> httpx.Response:
    """Send `payload` again as Slack retries a request it got no answer to in time (same body)."""
    body = interaction_body(payload)
    headers = signed_headers(SIGNING_SECRET, body) | {
        "X-Slack-Retry-Num": str(number),
        "X-Slack-Retry-Reason": "http_timeout",
    }
    return server.http.post(server.url + "/slack/events", content=body.encode(), headers=headers)


def thread_answers(server: AppServer, thread_ts: str) -> list[dict[str, Any]]:
    """Return the payloads of the app's messages in a thread."""
    return [
        c.payload for c in server.slack.calls("chat.postMessage") if c.payload.get("thread_ts") == thread_ts
    ]


def channel_texts(server: AppServer) -> str:
    """Return everything the app posted or updated in messages, as one string (to look for leaks)."""
    calls = (
        server.slack.calls("chat.postMessage")
        + server.slack.calls("chat.update")
        + server.slack.calls("response_url")
    )
    return json.dumps([c.payload for c in calls])


def button(payload: dict[str, Any], action_id: str) -> dict[str, Any]:
    """Return the button `action_id` of a posted message's blocks."""
    for block in payload.get("blocks") or ():
        for element in block.get("elements") or ():
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return element
    raise KeyError(f"no {action_id} button in {payload.get('blocks')}")
