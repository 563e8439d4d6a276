"""Rigs for the ATS adapter contract suite: one (emulator, adapter) pair per vendor over loopback HTTP.

A vendor joins the contract suite by adding a `VendorProfile` to `PROFILES` below: the demo seed's facts the
tests rely on, and how to make its credentials wrong. Vendors without a profile (or whose modules do not
exist yet) are skipped, never failed.
"""

from __future__ import annotations

import functools
import json
import ssl
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from ats import registry
from ats.base import AtsAdapter, RateBudget
from ats.budgets import NullBudget, SharedBudgets
from ats.http import HttpOptions
from ats.registry import spec_of
from ats.spec import VendorLimit
from ats.types import EmailAddress, NewCandidate, RecordStatus
from core.vocabulary import EmailType, Vendor
from devkit.ats.base import Emulator
from devkit.ats.merge import DEMO_API_KEY as MERGE_API_KEY
from devkit.ats.registry import emulator_class, load_seed


@dataclass(frozen=True)
class VendorProfile:
    """What the contract suite needs to know about one vendor's emulator and its demo seed.

    Attributes:
        open_job_ids: ids of the seed's open jobs (and only those).
        closed_job_id: a seeded job that is not open.
        missing_job_id: an id shaped like the vendor's that no job has.
        existing_email: an address a seeded candidate has (any case).
        bad_secrets: secrets that replace the demo ones to make auth fail.
        jobs_paginated: the vendor pages its job listing (BambooHR returns every opening at once).
        emulator_kwargs: extra `Emulator.__init__` arguments.
        reject_reason: a seeded rejection (or archive) reason's name, for `Emulator.move_application`'s
            `reason` in the two-way sync contract (None: the reason is not checked).
        webhook_key: the connection secret the vendor's webhooks are signed with (Workable signs with the
            access token; the others with the connection's `webhook_secret`).
    """

    vendor: Vendor
    open_job_ids: frozenset[str]
    closed_job_id: str
    missing_job_id: str
    existing_email: str
    bad_secrets: Mapping[str, str]
    jobs_paginated: bool = True
    emulator_kwargs: Mapping[str, Any] = field(default_factory=dict)
    reject_reason: str | None = None
    webhook_key: str = "webhook_secret"


PROFILES: dict[Vendor, VendorProfile] = {
    Vendor.GREENHOUSE: VendorProfile(
        vendor=Vendor.GREENHOUSE,
        open_job_ids=frozenset({"4001", "4002", "4003"}),
        closed_job_id="4004",
        missing_job_id="999999",
        existing_email="ada@example.com",
        bad_secrets={"client_secret": "wrong-secret-value"},
        reject_reason="Not in our hiring locations",
    ),
    Vendor.LEVER: VendorProfile(
        vendor=Vendor.LEVER,
        open_job_ids=frozenset(
            {
                "a1b2c3d4-0000-4000-8000-000000000001",
                "a1b2c3d4-0000-4000-8000-000000000002",
                "a1b2c3d4-0000-4000-8000-000000000003",
            }
        ),
        closed_job_id="a1b2c3d4-0000-4000-8000-000000000004",
        missing_job_id="a1b2c3d4-0000-4000-8000-00000000ffff",
        existing_email="ada@example.com",
        bad_secrets={"api_key": "wrong-lever-key-value"},
        reject_reason="Underqualified",
    ),
    Vendor.ASHBY: VendorProfile(
        vendor=Vendor.ASHBY,
        open_job_ids=frozenset(
            {
                "fe44a7d3-3d51-5f03-9423-c02b9707a62b",
                "f186ba2b-5ad4-5a79-8806-010119eae646",
                "1bccdc23-49c3-5ae1-92dc-cb17848cec9f",
                "32b77641-8cd8-5c51-a82a-ee117cea72cf",
                "f394e74c-4e4f-511d-836c-4aabd751fa13",
            }
        ),
        closed_job_id="9a39d87b-1a3b-5601-be6a-c22792afbb89",
        missing_job_id="00000000-0000-4000-8000-00000000ffff",
        existing_email="grace.hopper@example.com",
        bad_secrets={"api_key": "wrong-ashby-key-value"},
        reject_reason="Too inexperienced",  # a seeded archive reason of type RejectedByOrg
    ),
    Vendor.WORKABLE: VendorProfile(
        vendor=Vendor.WORKABLE,
        open_job_ids=frozenset({"A1B2C3D4E5", "B2C3D4E5F6", "C3D4E5F6A7", "D4E5F6A7B8"}),
        closed_job_id="E5F6A7B8C9",
        missing_job_id="FFFFFFFFFF",
        existing_email="grace.hopper@example.com",
        bad_secrets={"api_key": "wrong-workable-token-value"},
        webhook_key="api_key",
        reject_reason="Not a fit",  # a disqualification reason is free text
    ),
    Vendor.BAMBOOHR: VendorProfile(
        vendor=Vendor.BAMBOOHR,
        open_job_ids=frozenset({"18", "19"}),
        closed_job_id="20",
        missing_job_id="999999",
        existing_email="grace.hopper@example.com",
        bad_secrets={"api_key": "wrong-bamboohr-key-value"},
        # Job openings come in one unpaginated list; applications are paged server-side.
        jobs_paginated=False,
        emulator_kwargs={"page_size": 2},
    ),
    # The demo seed's Workday linked account (devkit/ats/seeds/merge.json).
    Vendor.MERGE: VendorProfile(
        vendor=Vendor.MERGE,
        open_job_ids=frozenset(
            {
                "178cd950-dfd0-52f5-9361-36827572e88d",
                "a21f4044-98c6-54e5-bd49-1df6eb8eed4d",
                "bc96676b-2087-5987-a41e-bd4421d60f20",
                "e437a13d-eef0-5e14-9b4c-85517417aeea",
            }
        ),
        closed_job_id="ae5b2a93-e1b0-537c-96a1-0b439177ebcc",
        missing_job_id="00000000-0000-4000-8000-00000000ffff",
        existing_email="grace.hopper@example.com",
        bad_secrets={"account_token": "wrong-merge-account-token"},
    ),
}

#: What an install holds for vendors besides each connection (`HttpOptions.app_credentials`): Merge's API key.
APP_CREDENTIALS = {Vendor.MERGE.value: {"api_key": MERGE_API_KEY}}


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """Return one TLS context for every test client (each new one costs ~0.1 s to load the CA bundle)."""
    return ssl.create_default_context()


def fast_options(**overrides: Any) -> HttpOptions:
    """Return options with a tiny page size and back-off, and no real sleeping between tries."""
    values: dict[str, Any] = {
        "ssl_context": shared_ssl_context(),
        "page_size": 2,
        "max_tries": 3,
        "timeout": 2.0,
        "backoff_base": 0.001,
        "backoff_cap": 0.01,
        "sleep": lambda seconds: None,
        "app_credentials": APP_CREDENTIALS,
    }
    return HttpOptions(**(values | overrides))


@dataclass
class VendorRig:
    """A started emulator, its profile, and a factory for adapters pointed at it."""

    profile: VendorProfile
    emulator: Emulator
    adapters: list[AtsAdapter] = field(default_factory=list)

    def adapter(
        self,
        *,
        options: HttpOptions | None = None,
        budget: RateBudget | None = None,
        secrets: Mapping[str, str] | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> AtsAdapter:
        """Return an adapter for the emulator (closed at teardown); `secrets`/`fields` override demo ones."""
        config = self.emulator.connection_config(secrets=secrets, fields=fields)
        adapter = registry.create_adapter(
            config, budget=budget or NullBudget(), http_options=options or fast_options()
        )
        self.adapters.append(adapter)
        return adapter


class HandClock:
    """A clock moved by hand (`clock.at += seconds`), for an emulator's `clock` and an adapter's `now`."""

    def __init__(self) -> None:
        self.at = time.time()

    def __call__(self) -> float:
        return self.at


def memory_budget(vendor: Vendor, limit: VendorLimit) -> RateBudget:
    """Return an in-process budget of `limit` for one connection of `vendor`, from the app's one budget factory."""
    return SharedBudgets(None, limits={vendor: limit}).for_connection(1, vendor)


def open_rig(vendor: Vendor, **emulator_kwargs: Any) -> Iterator[VendorRig]:
    """Yield a started rig for `vendor` (skip when it has no profile), stopping it afterwards."""
    profile = PROFILES.get(vendor)
    if profile is None:
        pytest.skip(f"{spec_of(vendor).label} has no contract profile in tests/ats/ats_rig.py yet")
    emulator = emulator_class(vendor)(
        seed=load_seed(vendor), **(dict(profile.emulator_kwargs) | emulator_kwargs)
    )
    rig = VendorRig(profile, emulator.start())
    try:
        yield rig
    finally:
        for adapter in rig.adapters:
            adapter.close()
        emulator.stop()


def person(email: str = "new.person@example.org", **overrides: Any) -> NewCandidate:
    """Return a candidate to export, with one primary email."""
    values: dict[str, Any] = {
        "first_name": "New",
        "last_name": "Person",
        "emails": (EmailAddress(email, EmailType.PRIMARY),),
        "external_id": "export-1",
        "linkedin_url": "https://www.linkedin.com/in/new-person",
        "title": "Engineer",
        "company": "Acme",
        "tags": ("ScaleUp",),
        "source": "ScaleUp",
    }
    return NewCandidate(**(values | overrides))


class Received(NamedTuple):
    """One POST the receiver got: its headers as sent (names in the sender's case) and its raw body.

    A tuple, so `adapter.read_webhook(*delivery)` reads it as the app's endpoint would.
    """

    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """Return the body's JSON (raises for a body that is not JSON)."""
        return json.loads(self.body)

    def has(self, **fields: Any) -> bool:
        """Return True when the body is a JSON object holding each of `fields` with that value."""
        try:
            payload = json.loads(self.body)
        except ValueError:
            return False
        return isinstance(payload, dict) and all(payload.get(k) == v for k, v in fields.items())


@dataclass
class WebhookReceiver:
    """A loopback endpoint standing in for the app's webhook URL: keeps every POST and answers the `statuses`
    given in turn, then 200 (a failing answer makes a vendor retry)."""

    url: str
    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    _arrived: threading.Condition = field(default_factory=threading.Condition, repr=False)

    def wait_for(self, count: int = 1, timeout: float = 10.0, **fields: Any) -> list[Received]:
        """Block until `count` deliveries arrived whose JSON body holds `fields` (any delivery when none are
        given); return them all (fail after `timeout`)."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.of(**fields)) >= count, timeout):
                pytest.fail(
                    f"{count} webhook deliveries {fields or ''} expected, {len(self.of(**fields))} arrived"
                )
            return self.of(**fields)

    def of(self, **fields: Any) -> list[Received]:
        """Return the deliveries so far whose JSON body holds `fields` (all of them when none are given)."""
        with self._arrived:
            return [r for r in self.received if r.has(**fields)] if fields else list(self.received)


@contextmanager
def webhook_receiver(statuses: Sequence[int] = ()) -> Iterator[WebhookReceiver]:
    """Serve a `WebhookReceiver` on 127.0.0.1 (a free port) while the block runs; it answers `statuses` in turn,
    then 200."""
    receiver: WebhookReceiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with receiver._arrived:
                receiver.received.append(Received(dict(self.headers.items()), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                receiver._arrived.notify_all()
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Keep the stdlib's request lines out of test output."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    url = f"http://127.0.0.1:{server.server_address[1]}/ats/webhooks"
    receiver = WebhookReceiver(url, list(statuses))
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def paste_webhook(rig: VendorRig, url: str, secret: str) -> None:
    """Do what an admin does in the vendor's settings where its API cannot register webhooks: paste the app's
    URL and secret (every event), through the emulator's `POST /_emulator/webhooks`."""
    pasted = {"url": url, "secret": secret}
    httpx.post(f"{rig.emulator.url}/_emulator/webhooks", json=pasted).raise_for_status()


def move(emulator: Emulator, record_id: str, **change: Any) -> dict[str, Any]:
    """Move an application (Workable: a candidate) as a recruiter would in the ATS, through the emulator's
    control endpoint over HTTP (`POST /_emulator/move`: `stage_id`, `status`, `reason`)."""
    response = httpx.post(f"{emulator.url}/_emulator/move", json={"application_id": record_id, **change})
    assert response.status_code == 200, response.text
    return response.json()


def all_statuses(adapter: AtsAdapter, since: str | None) -> tuple[list[RecordStatus], str | None]:
    """Return every status `iter_status_pages(since)` lists, and the cursor of its last page."""
    statuses: list[RecordStatus] = []
    cursor = since
    for page in adapter.iter_status_pages(since):
        statuses.extend(page.statuses)
        cursor = page.cursor
    return statuses, cursor


#: Settings and payloads for fuzzing what a signed delivery may carry: deterministic, at most 150 examples.
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
