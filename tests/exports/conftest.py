"""Fixtures for the export engine: a workspace, a linked search and a started ATS emulator, on both databases."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from ats.budgets import NullBudget
from ats.http import HttpOptions
from ats.types import EmailAddress, NewCandidate
from core.vocabulary import EmailType, Vendor
from devkit.ats.base import Emulator
from devkit.ats.merge import DEMO_API_KEY
from devkit.ats.registry import emulator_class, load_seed
from exports import mirror
from exports.adapters import AdapterFactory
from exports.batch import Create, create_in_ats
from exports.engine import ExportEngine
from exports.types import EngineConfig, PassResult
from storage.base import utcnow
from storage.crypto import SecretBox
from storage.db import unit_of_work
from storage.enums import Audience, ExportAs, LinkMode, ResponseType
from storage.export_repository import ExportRepository
from storage.models import Alert, AtsConnection, Campaign, CampaignResponse, Candidate, CandidateEmail, Link
from storage.repositories import (
    AlertRepository,
    CandidateRepository,
    ConnectionRepository,
    SearchRepository,
    ensure_workspace,
)
from storage.states import ExportState

TEAM = "T0EXPORT"


@dataclass(frozen=True)
class VendorCase:
    """What the engine tests need to know about one vendor's emulator and demo seed.

    Attributes:
        job_id: an open job of the seed, which links point at.
        record_kind: the kind of created record that is "a person in the ATS" (emulator.created).
        create_path: the path of the create call, where faults are injected.
        jobs: the emulator collection holding jobs, and the field and value that close one.
    """

    vendor: Vendor
    job_id: str
    record_kind: str
    create_path: str
    jobs: tuple[str, str, str]

    def close_job(self, emulator: Emulator) -> None:
        """Close the linked job in the ATS, as a recruiter would."""
        collection, name, value = self.jobs
        with emulator.lock:
            emulator.table(collection)[self.job_id][name] = value


#: Vendors the engine exports to.
EXPORTING = {
    case.vendor: case
    for case in (
        VendorCase(Vendor.GREENHOUSE, "4001", "candidate", "/v3/candidates", ("jobs", "status", "closed")),
        VendorCase(
            Vendor.ASHBY,
            "fe44a7d3-3d51-5f03-9423-c02b9707a62b",
            "candidate",
            "/candidate.create",
            ("jobs", "status", "Closed"),
        ),
        VendorCase(
            Vendor.LEVER,
            "a1b2c3d4-0000-4000-8000-000000000001",
            "opportunity",
            "/v1/opportunities",
            ("postings", "state", "closed"),
        ),
        VendorCase(Vendor.WORKABLE, "A1B2C3D4E5", "candidate", "/spi/v3/jobs/", ("jobs", "state", "closed")),
    )
}

#: Vendors the engine exports to that only some tests cover (not in `world`'s parameters): Merge, through the
#: seed's Workday linked account (the emulator's default), which takes candidates and applications.
OTHER_EXPORTING = {
    Vendor.MERGE: VendorCase(
        Vendor.MERGE,
        "178cd950-dfd0-52f5-9361-36827572e88d",
        "candidate",
        "/api/ats/v1/candidates",
        ("jobs", "status", "CLOSED"),
    ),
}

#: Every vendor's test facts, by vendor.
CASES = EXPORTING | OTHER_EXPORTING


#: A candidate sent to the ATS: exported, or processing where the vendor shows new records late (Ashby, Merge,
#: Greenhouse) until the scheduled confirmation reads them back (tests/exports/test_late_visibility.py).
SENT = frozenset({ExportState.EXPORTED, ExportState.PROCESSING})


def sent(result: PassResult) -> int:
    """Return how many candidates a pass sent to the ATS (exported or processing)."""
    return result.exported + result.processing


def fast_http(page_size: int = 2) -> HttpOptions:
    """Return HTTP options with tiny pages and no real sleeping, so faults cost no time."""
    return HttpOptions(
        page_size=page_size,
        max_tries=2,
        timeout=3.0,
        backoff_base=0.001,
        backoff_cap=0.01,
        sleep=lambda s: None,
        app_credentials={Vendor.MERGE.value: {"api_key": DEMO_API_KEY}},  # this install's Merge API key
    )


class Clock:
    """A settable UTC clock for leases and back-off."""

    def __init__(self) -> None:
        self.at = utcnow()

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.at += timedelta(seconds=seconds)


def start_emulator(vendor: Vendor, **kwargs: Any) -> Emulator:
    """Start `vendor`'s emulator with its demo seed."""
    return emulator_class(vendor)(seed=load_seed(vendor), **kwargs).start()


@dataclass
class World:
    """One workspace connected to a running emulator, with helpers to add candidates and links."""

    sessions: sessionmaker[Session]
    box: SecretBox
    emulator: Emulator
    clock: Clock = field(default_factory=Clock)
    team_id: str = TEAM
    connection_id: int = 0
    search_id: int = 0
    page_size: int = 2
    _factory: AdapterFactory | None = None
    _people: int = 0

    @property
    def vendor(self) -> Vendor:
        """Return the emulated vendor."""
        return self.emulator.vendor

    @property
    def case(self) -> VendorCase:
        """Return the vendor's test facts."""
        return CASES[self.vendor]

    def connect(self) -> None:
        """Create the workspace, its connection to the emulator and a search."""
        config = self.emulator.connection_config()
        with unit_of_work(self.sessions) as session:
            ensure_workspace(session, self.team_id, "Export tests")
            connection = ConnectionRepository(session, self.team_id).save(
                self.box,
                vendor=self.vendor,
                secrets=config.secrets,
                fields=config.fields,
                base_url=config.base_url,
            )
            self.connection_id = connection.id
            self.search_id = SearchRepository(session, self.team_id).get_or_create("Backend engineers").id

    def new_search(self, name: str) -> int:
        """Make a fresh search the current one (later candidates and links go to it)."""
        with unit_of_work(self.sessions) as session:
            self.search_id = SearchRepository(session, self.team_id).get_or_create(name).id
        return self.search_id

    def link(self, **options: Any) -> int:
        """Link the search to the vendor's open job with these options (applicants, all candidates)."""
        values: dict[str, Any] = {
            "job_id": CASES[self.vendor].job_id if self.vendor in CASES else None,
            "job_name": "Senior Backend Engineer",
            "export_as": ExportAs.APPLICANT,
            "mode": LinkMode.AUTOMATIC,
            "audience": Audience.ALL,
            "email_types": [],
            "include_ats_candidates": False,
            "alert_channel": "C0ALERTS",
        }
        with unit_of_work(self.sessions) as session:
            link = Link(
                team_id=self.team_id,
                search_id=self.search_id,
                connection_id=self.connection_id,
                **(values | options),
            )
            session.add(link)
            session.flush()
            return link.id

    def add_candidate(
        self,
        emails: Sequence[tuple[str, EmailType | str, bool]] | Sequence[str] = (),
        *,
        last_name: str = "Tester",
        linkedin_url: str | None = None,
        responses: Sequence[ResponseType] = (),
    ) -> int:
        """Add a candidate to the search; `emails` are addresses (primary, valid) or (address, type, valid)."""
        self._people += 1
        with unit_of_work(self.sessions) as session:
            candidate = Candidate(
                team_id=self.team_id,
                first_name=f"Person{self._people}",
                last_name=last_name,
                linkedin_url=linkedin_url,
            )
            session.add(candidate)
            session.flush()
            for item in emails:
                address, type_, valid = (item, EmailType.PRIMARY, True) if isinstance(item, str) else item
                session.add(
                    CandidateEmail(
                        team_id=self.team_id,
                        candidate_id=candidate.id,
                        address=address,
                        type=EmailType(type_),
                        valid=valid,
                    )
                )
            CandidateRepository(session, self.team_id).add_to_search(self.search_id, candidate.id)
            for response in responses:
                campaign = (
                    session.query(Campaign).filter_by(team_id=self.team_id, search_id=self.search_id).first()
                )
                if campaign is None:
                    campaign = Campaign(
                        team_id=self.team_id, search_id=self.search_id, name="Autumn outreach"
                    )
                    session.add(campaign)
                    session.flush()
                session.add(
                    CampaignResponse(
                        team_id=self.team_id,
                        campaign_id=campaign.id,
                        candidate_id=candidate.id,
                        type=response,
                    )
                )
            return candidate.id

    def add_email(self, candidate_id: int, address: str, type_: EmailType = EmailType.PRIMARY) -> None:
        """Give a candidate one more (valid) email, as ingest would."""
        with unit_of_work(self.sessions) as session:
            session.add(
                CandidateEmail(
                    team_id=self.team_id, candidate_id=candidate_id, address=address, type=type_, valid=True
                )
            )

    def engine(
        self, worker_id: str = "worker-1", *, create: Create = create_in_ats, **config: Any
    ) -> ExportEngine:
        """Return an engine on this world: fast HTTP, the world's clock; `create` replaces the ATS create."""
        base = EngineConfig(now=self.clock, backoff_seconds=60.0, visibility_grace_seconds=120.0)
        return ExportEngine(
            self.sessions, self.adapters, worker_id=worker_id, config=replace(base, **config), create=create
        )

    @property
    def adapters(self) -> AdapterFactory:
        """Return the world's adapter factory, shared by its engines like a worker process shares one."""
        if self._factory is None:
            options = fast_http(self.page_size)
            self._factory = AdapterFactory(self.box, budget_for=lambda _c: NullBudget(), http_options=options)
        return self._factory

    def adapter(self):
        """Return an adapter on the emulator, for arranging and checking the ATS side."""
        with unit_of_work(self.sessions) as session:
            return self.adapters.for_connection(session.get(AtsConnection, self.connection_id))

    def refresh_mirror(self) -> None:
        """Bring the local copy of the ATS up to date, as a pass does before deciding."""
        mirror.refresh(
            self.sessions,
            self.adapter(),
            team_id=self.team_id,
            connection_id=self.connection_id,
            now=self.clock(),
        )

    def put_in_ats(self, email: str, *, last_name: str = "Existing", linkedin_url: str | None = None) -> str:
        """Create a person in the ATS directly (as a recruiter would), and return its ATS id."""
        person = NewCandidate(
            first_name="Already",
            last_name=last_name,
            emails=(EmailAddress(email, EmailType.PRIMARY),),
            external_id="outside",
            linkedin_url=linkedin_url,
        )
        return self.adapter().create_prospect(person, job_id=None).candidate_id

    def ats_records(self, email: str) -> int:
        """Return how many ATS candidates carry `email` (read over HTTP, like any client)."""
        return len({c.id for c in self.adapter().find_candidates(email=email)})

    def created(self, *emails: str) -> int:
        """Return how many people the ATS had created with any of `emails` through its API (by anyone)."""
        wanted = {email.strip().lower() for email in emails}
        with self.emulator.lock:
            created = [r for r in self.emulator.created if r.kind == self.case.record_kind]
            ids = {r.id for r in created if wanted.intersection(r.emails)}
            if self.vendor == Vendor.LEVER:
                # A Lever person is a contact; each job they are on is one more opportunity of it.
                ids = {self.emulator.table("opportunities")[i]["contact"] for i in ids}
            return len(ids)

    def fail_creates(self, count: int = 1, *, status: int = 500) -> None:
        """Make the next `count` create calls fail with `status`."""
        self.emulator.faults.fail_next(count, status=status, method="POST", path=self.case.create_path)

    def export_row(self, candidate_id: int, link_id: int):
        """Return the export record of a candidate for a link."""
        with unit_of_work(self.sessions) as session:
            return ExportRepository(session, self.team_id).get_by_link_and_candidate(link_id, candidate_id)

    def alerts(self, kind=None) -> list:
        """Return the alert outbox rows (of one kind)."""
        with unit_of_work(self.sessions) as session:
            rows = AlertRepository(session, self.team_id).list(order_by=Alert.id)
        return [a for a in rows if kind is None or a.kind == kind]

    def close(self) -> None:
        """Close every adapter the world opened."""
        if self._factory is not None:
            self._factory.close()


@pytest.fixture
def make_world(sessions: sessionmaker[Session], secret_box: SecretBox) -> Iterator[Callable[..., World]]:
    """Return a factory of connected worlds: `make_world(vendor, **emulator_kwargs)`."""
    opened: list[World] = []

    def make(vendor: Vendor, *, page_size: int = 2, **emulator_kwargs: Any) -> World:
        world = World(sessions, secret_box, start_emulator(vendor, **emulator_kwargs), page_size=page_size)
        opened.append(world)
        world.connect()
        return world

    yield make
    for world in opened:
        world.close()
        world.emulator.stop()


@pytest.fixture(params=list(EXPORTING), ids=lambda v: v.value)
def world(request: pytest.FixtureRequest, make_world: Callable[..., World]) -> World:
    """Return a connected world for each exporting vendor, on each database."""
    return make_world(request.param)
