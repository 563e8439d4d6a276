"""Helpers for the alert, status and Home tests: a linked search of candidates on the Greenhouse emulator.

Candidates carry an email, a phone number and a LinkedIn profile, so the tests can check that channel
messages never show the first two.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from slack_rig import PUBLIC_CHANNEL, TEAM, AppServer, connect_ats
from slack_sdk import WebClient

from ats.budgets import NullBudget
from ats.http import HttpOptions
from bot.features.alerts.delivery import ChannelPacer, DeliveryReport, deliver_alerts
from core.vocabulary import EmailType
from devkit.slack.emulator import DEFAULT_TOKEN, SlackCall
from exports.adapters import AdapterFactory
from exports.engine import ExportEngine
from storage.db import unit_of_work
from storage.enums import Audience, ExportAs, LinkMode
from storage.models import Candidate, CandidateEmail, Export, Link
from storage.repositories import CandidateRepository, SearchRepository, ensure_workspace

JOB = "4001"  # Greenhouse seed: Senior Backend Engineer
CREATE_PATH = "/v3/candidates"


def email_of(name: str, n: int) -> str:
    """Return the address of candidate `n` of a search."""
    return f"{name.split()[0].lower()}{n}@example.com"


def phone_of(n: int) -> str:
    """Return the phone number of candidate `n`."""
    return f"+1 415 555 {n:04d}"


def linked_search(
    server: AppServer,
    connection_id: int,
    name: str,
    *,
    with_email: int = 0,
    without_email: int = 0,
    channel: str | None = PUBLIC_CHANNEL,
    mode: LinkMode = LinkMode.AUTOMATIC,
) -> tuple[int, int]:
    """Create a search with candidates (emails for the first `with_email`) linked to the job; return ids."""
    with unit_of_work(server.sessions) as session:
        ensure_workspace(session, TEAM)
        search = SearchRepository(session, TEAM).get_or_create(name)
        people = CandidateRepository(session, TEAM)
        for n in range(with_email + without_email):
            person = people.add(
                Candidate(
                    first_name=f"{name.split()[0]}{n}",
                    last_name="Tester",
                    phone=phone_of(n),
                    linkedin_url=f"https://www.linkedin.com/in/{name.split()[0].lower()}-{n}",
                )
            )
            if n < with_email:
                session.add(
                    CandidateEmail(
                        team_id=TEAM, candidate_id=person.id, address=email_of(name, n), type=EmailType.WORK
                    )
                )
            people.add_to_search(search.id, person.id)
        link = Link(
            team_id=TEAM,
            search_id=search.id,
            connection_id=connection_id,
            job_id=JOB,
            job_name="Senior Backend Engineer",
            export_as=ExportAs.APPLICANT,
            mode=mode,
            audience=Audience.ALL,
            email_types=[],
            alert_channel=channel,
        )
        session.add(link)
        session.flush()
        return search.id, link.id


def unthrottled_engine(server: AppServer) -> ExportEngine:
    """Return an export engine on the app's database without Greenhouse's real rate budget.

    The app's engine paces Greenhouse calls at the vendor's documented rate (50 per 10 s), which would
    make a 300-candidate pass take two minutes against the emulator; nor does it sleep between retries.
    """
    fast = HttpOptions(max_tries=2, timeout=5.0, backoff_base=0.001, backoff_cap=0.01, sleep=lambda _s: None)
    factory = AdapterFactory(
        server.services.secret_box, budget_for=lambda _c: NullBudget(), http_options=fast
    )
    engine = ExportEngine(server.sessions, factory, worker_id="tests")
    server.services.on_close(engine.close)
    return engine


def exported_by_pass(server: AppServer, emulator: Any, search: str, people: int) -> list[Export]:
    """Connect `emulator`, link a search of `people` candidates with email to its job, run a pass and the
    confirmation; return the link's exports (detached), in order."""
    connection_id = connect_ats(server, emulator)  # jobs and their stages cached, as connecting does
    _, link_id = linked_search(server, connection_id, search, with_email=people)
    engine = unthrottled_engine(server)
    engine.run_pass(TEAM, link_id)
    engine.confirm_processing(TEAM)
    with unit_of_work(server.sessions) as session:
        rows = list(session.query(Export).filter_by(link_id=link_id).order_by(Export.id))
        session.expunge_all()
        return rows


def slack_client(server: AppServer) -> Callable[[str], WebClient]:
    """Return the `client_for_team` of the tests: the bot token, on the Slack emulator."""
    return lambda _team: WebClient(token=DEFAULT_TOKEN, base_url=server.slack.api_url, timeout=10)


def deliver(server: AppServer, *, pacer: ChannelPacer | None = None) -> DeliveryReport:
    """Post the pending alerts as the worker does after a pass."""
    return deliver_alerts(server.services, slack_client(server), pacer=pacer)


def posts(server: AppServer, channel: str | None = None) -> list[SlackCall]:
    """Return the chat.postMessage calls (to `channel`)."""
    return [
        c
        for c in server.slack.calls("chat.postMessage")
        if channel is None or c.payload["channel"] == channel
    ]


def blocks_of(call: SlackCall) -> list[dict[str, Any]]:
    """Return a recorded call's blocks (the SDK sends them as JSON)."""
    return call.payload["blocks"]


def wait_until(predicate: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Poll `predicate` until it is truthy (bounded); return its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(0.05)
