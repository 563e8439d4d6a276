"""A rig for scheduled-export tests: a Lever emulator over loopback HTTP and linked searches to export.

Used by tests/exports/test_scheduling.py (jobs in process) and tests/bot/test_worker.py (worker processes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.vocabulary import EmailType, Vendor
from devkit.ats.base import Emulator
from devkit.ats.registry import create_emulator, load_seed
from storage.base import utcnow
from storage.crypto import SecretBox
from storage.db import unit_of_work
from storage.enums import Audience, ExportAs, LinkMode
from storage.models import Candidate, CandidateEmail, Export, Link, Search, SearchCandidate
from storage.repositories import ConnectionRepository, ensure_workspace
from storage.states import ExportState

TEAM = "T0SCHED"
# Lever creates a person with their application in one request and shows it at once, so a lost outcome
# is settled by one look-up (no visibility grace).
VENDOR = Vendor.LEVER
JOB_ID = "a1b2c3d4-0000-4000-8000-000000000001"  # an open posting of the packaged seed
CREATE_PATH = "/v1/opportunities"
RECORD_KIND = "opportunity"  # what the emulator counts per created person
#: Generous on both sides: the tests are about claiming, not about waiting for the vendor's window.
RATE_LIMIT, RATE_WINDOW = 100_000, 1.0  # short windows keep the shared bucket small
SCALEUP = str(Path(sys.executable).with_name("scaleup"))


@contextmanager
def running_emulator(**kwargs: Any) -> Iterator[Emulator]:
    """Run a Lever emulator with the packaged seed and a generous rate limit for the block."""
    kwargs.setdefault("rate_limit", RATE_LIMIT)
    kwargs.setdefault("rate_window", RATE_WINDOW)
    emulator = create_emulator(VENDOR, seed=load_seed(VENDOR), **kwargs)
    with emulator:
        yield emulator


def connect(sessions: sessionmaker[Session], box: SecretBox, emulator: Emulator, team_id: str = TEAM) -> int:
    """Create the workspace and its ATS connection to `emulator`; return the connection id."""
    config = emulator.connection_config()
    with unit_of_work(sessions) as session:
        ensure_workspace(session, team_id)
        connection = ConnectionRepository(session, team_id).save(
            box, vendor=VENDOR, secrets=config.secrets, fields=config.fields, base_url=config.base_url
        )
        return connection.id


def email_of(link_name: str, index: int) -> str:
    """Return the address of candidate `index` of the search `link_name`."""
    return f"{link_name}.c{index}@example.org"


def add_link(
    sessions: sessionmaker[Session],
    connection_id: int,
    name: str,
    candidates: int,
    *,
    mode: LinkMode = LinkMode.AUTOMATIC,
    team_id: str = TEAM,
) -> int:
    """Create a search of `candidates` candidates (each with an email) linked to the job; return the link id."""
    with unit_of_work(sessions) as session:
        search = Search(team_id=team_id, name=name)
        session.add(search)
        session.flush()
        link = Link(
            team_id=team_id,
            search_id=search.id,
            connection_id=connection_id,
            job_id=JOB_ID,
            job_name="Senior Backend Engineer",
            stage_id=None,
            export_as=ExportAs.APPLICANT,
            mode=mode,
            audience=Audience.ALL,
            response_types=[],
            email_types=[],
        )
        session.add(link)
        session.flush()
        add_candidates(session, search.id, [email_of(name, i) for i in range(candidates)], team_id=team_id)
        return link.id


def add_links(
    sessions: sessionmaker[Session], connection_id: int, prefix: str, links: int, per_link: int
) -> set[str]:
    """Create `links` automatic links of `per_link` candidates each; return every candidate's email."""
    names = [f"{prefix}{index:02d}" for index in range(links)]
    for name in names:
        add_link(sessions, connection_id, name, per_link)
    return {email_of(name, i) for name in names for i in range(per_link)}


def add_candidates(
    session: Session, search_id: int, emails: list[str | None], *, team_id: str = TEAM
) -> list[int]:
    """Insert candidates (with the given email, or none) into a search in bulk; return their ids."""
    now = utcnow()
    ids = list(
        session.scalars(
            insert(Candidate).returning(Candidate.id, sort_by_parameter_order=True),
            [
                {
                    "team_id": team_id,
                    "first_name": "Cand",
                    "last_name": f"{search_id}-{i}",
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(len(emails))
            ],
        )
    )
    session.execute(
        insert(SearchCandidate),
        [{"team_id": team_id, "search_id": search_id, "candidate_id": cid, "added_at": now} for cid in ids],
    )
    rows = [(cid, email) for cid, email in zip(ids, emails, strict=True) if email]
    if rows:
        session.execute(
            insert(CandidateEmail),
            [
                {
                    "team_id": team_id,
                    "candidate_id": cid,
                    "address": email,
                    "type": EmailType.WORK,
                    "valid": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for cid, email in rows
            ],
        )
    return ids


def search_of(session: Session, link_id: int) -> int:
    """Return the search id of a link."""
    return session.scalar(select(Link.search_id).where(Link.id == link_id))


def make_all_due(sessions: sessionmaker[Session]) -> None:
    """Let time pass: every link's next pass is due now (as when its interval has gone by)."""
    with unit_of_work(sessions) as session:
        session.execute(update(Link).values(next_pass_at=None))


def states(sessions: sessionmaker[Session], link_id: int | None = None) -> Counter[ExportState]:
    """Return how many export records are in each state (of one link, or all)."""
    with unit_of_work(sessions) as session:
        stmt = select(Export.state, func.count()).group_by(Export.state)
        if link_id is not None:
            stmt = stmt.where(Export.link_id == link_id)
        return Counter({ExportState(state): count for state, count in session.execute(stmt)})


def created_per_email(emulator: Emulator, kind: str = RECORD_KIND) -> Counter[str]:
    """Return how many `kind` records the ATS created per email, read from the emulator's control API."""
    created = httpx.get(emulator.url + "/_emulator/state", timeout=10).json()["created"]
    return Counter({email: kinds.get(kind, 0) for email, kinds in created.items() if kinds.get(kind)})


def worker_env(database_url: str, secret_key: str, **overrides: str) -> dict[str, str]:
    """Return the environment of a `scaleup worker` process for the tests."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SCALEUP_SECRET_KEY": secret_key,
        "SCALEUP_ATS_PRIVATE_URLS": "1",  # the ATS emulators listen on loopback
        "SCALEUP_ATS_RATE_LIMITS": json.dumps({VENDOR.value: f"{RATE_LIMIT}/{RATE_WINDOW:g}"}),
        "SCALEUP_WORKER_TICK_SECONDS": "0.5",
        # Whole links in one pass each (per-pass overhead is the engine's job check and mirror refresh);
        # a short lease so a killed worker's claims are taken over within the test.
        "SCALEUP_WORKER_LINK_BATCH": "100",
        "SCALEUP_WORKER_LINK_SECONDS": "8",
        "SCALEUP_WORKER_LEASE_SECONDS": "20",
        "SCALEUP_WORKER_HEARTBEAT_SECONDS": "1",
    }
    env.pop("LOG_LEVEL", None)
    return env | overrides


def start_worker(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[str]:
    """Start `scaleup worker ARGS` in its own process, its output going to the file `log`."""
    with log.open("a") as out:  # a file, not a pipe: a pipe nobody reads would block a chatty worker
        return subprocess.Popen(
            [SCALEUP, "worker", *args], env=env, stdout=out, stderr=subprocess.STDOUT, text=True
        )


@contextmanager
def reaped(*processes: subprocess.Popen[str]) -> Iterator[None]:
    """Kill whichever of `processes` still runs when the block ends (a failed test leaves none behind)."""
    try:
        yield
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()


def run_worker_once(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `scaleup worker --once` to the end and return its outcome."""
    return subprocess.run(
        [SCALEUP, "worker", "--once"], check=False, env=env, capture_output=True, text=True, timeout=120
    )
