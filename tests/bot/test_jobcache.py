"""The job cache refreshes off the request path, once at a time, and not on every keystroke when the ATS fails."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from ats.errors import VendorUnavailable
from ats.registry import spec_of
from ats.types import Job, Stage
from bot.background import Background
from bot.jobcache import JobCache
from core.vocabulary import Vendor
from storage.db import unit_of_work
from storage.models import Link
from storage.repositories import (
    ConnectionRepository,
    JobCacheRepository,
    LinkRepository,
    SearchRepository,
    ensure_workspace,
)

TEAM = "T0001"


class FakeAdapter:
    """An ATS whose job listing can be held open or made to fail."""

    capabilities = spec_of(Vendor.LEVER).capabilities  # what each refresh records about the connection

    def __init__(self) -> None:
        self.jobs = [Job("1", "Backend Engineer", "open", True), Job("2", "Designer", "open", True)]
        self.listings = 0
        self.gate = threading.Event()
        self.gate.set()
        self.fail = False

    def iter_jobs(self):
        self.listings += 1
        assert self.gate.wait(timeout=10)
        if self.fail:
            raise VendorUnavailable("Lever", "The ATS did not answer.")
        return iter(self.jobs)

    def list_stages(self, job_id: str) -> list[Stage]:
        return [Stage("s2", "Screen", 2), Stage("s1", "New", 1)]


def setup(sessions, secret_box) -> int:
    with unit_of_work(sessions) as session:
        ensure_workspace(session, TEAM)
        return (
            ConnectionRepository(session, TEAM)
            .save(secret_box, vendor=Vendor.LEVER, secrets={"api_key": "k"}, fields={}, base_url=None)
            .id
        )


def test_refresh_keeps_vanished_jobs_as_closed_and_loads_stages(sessions, secret_box) -> None:
    connection_id = setup(sessions, secret_box)
    adapter = FakeAdapter()
    background = Background(2)
    cache = JobCache(sessions, lambda c: adapter, background)
    assert cache.refresh(TEAM) == 2
    adapter.jobs = adapter.jobs[:1]
    assert cache.refresh(TEAM) == 1
    assert cache.load_stages(TEAM, "1") == [
        {"id": "s2", "name": "Screen", "order": 2, "prospects": True, "applicants": True},
        {"id": "s1", "name": "New", "order": 1, "prospects": True, "applicants": True},
    ]
    with unit_of_work(sessions) as session:
        repo = JobCacheRepository(session, TEAM)
        assert [j.name for j in repo.search(connection_id, "")] == ["Backend Engineer"]
        assert repo.get_by_job_id(connection_id, "2").is_open is False
        assert ConnectionRepository(session, TEAM).get_current().jobs_refreshed_at is not None
    background.shutdown()


def test_one_refresh_at_a_time_and_no_retry_storm_after_a_failure(sessions, secret_box) -> None:
    setup(sessions, secret_box)
    adapter = FakeAdapter()
    adapter.gate.clear()
    background = Background(2)
    now = [datetime(2026, 11, 25, 12, 0, tzinfo=UTC)]
    cache = JobCache(
        sessions, lambda c: adapter, background, retry_after=timedelta(minutes=1), now=lambda: now[0]
    )
    outcomes: list[Exception | None] = []
    assert cache.refresh_soon(TEAM, then=outcomes.append) is True
    assert cache.is_refreshing(TEAM)
    assert cache.refresh_soon(TEAM, then=outcomes.append) is False, "joins the running refresh"
    adapter.fail = True
    adapter.gate.set()
    assert background.wait_idle(10)
    assert len(outcomes) == 2 and all(isinstance(o, VendorUnavailable) for o in outcomes)
    assert adapter.listings == 1

    assert cache.refresh_soon(TEAM) is False, "a failing ATS is not asked again at once"
    assert cache.refresh_soon(TEAM, force=True) is True, "unless a recruiter asks"
    assert background.wait_idle(10)
    now[0] += timedelta(minutes=2)
    adapter.fail = False
    assert cache.refresh_soon(TEAM) is True
    assert background.wait_idle(10)
    assert adapter.listings == 3
    background.shutdown()


def test_a_refresh_prefetches_stages_linked_jobs_first(sessions, secret_box) -> None:
    connection_id = setup(sessions, secret_box)
    adapter = FakeAdapter()
    background = Background(2)
    cache = JobCache(sessions, lambda c: adapter, background, prefetch_stages=1)
    with unit_of_work(sessions) as session:
        search = SearchRepository(session, TEAM).get_or_create("Designers")
        LinkRepository(session, TEAM).add(Link(search_id=search.id, connection_id=connection_id, job_id="2"))
    cache.refresh(TEAM)
    with unit_of_work(sessions) as session:
        repo = JobCacheRepository(session, TEAM)
        assert repo.get_by_job_id(connection_id, "2").stages is not None, "the linked job first"
        assert repo.get_by_job_id(connection_id, "1").stages is None, "at most prefetch_stages jobs"
    background.shutdown()
