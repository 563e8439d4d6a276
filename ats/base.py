"""The one interface every ATS adapter implements, and what an adapter is built from.

Adding a vendor is:

1. `ats/<vendor>.py`: `SPEC = VendorSpec(...)` at the top (label, credential fields, primary secret, rate
   limit, capabilities, each with the vendor documentation page it comes from), then the adapter class
   implementing `AtsAdapter` with `spec = SPEC` and `create(config, *, budget, options)`;
2. a member of `core.vocabulary.Vendor` and its one line in `ats.registry.ADAPTERS`;
3. its emulator in the dev kit, `devkit/ats/<vendor>.py`, speaking the vendor's documented API, with a demo
   seed in `devkit/ats/seeds/<vendor>.json`;
4. tests: a profile in `tests/ats/ats_rig.py` runs the contract suite against the emulator, and
   `tests/ats/test_<vendor>.py` covers the vendor's own quirks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from ats.spec import VendorSpec
from ats.types import (
    AccountInfo,
    AtsCandidate,
    CandidatePage,
    Capabilities,
    ContactDetails,
    ContactPatch,
    CreatedApplication,
    CreatedRecord,
    Job,
    NewCandidate,
    RecordStatus,
    Stage,
    StatusPage,
    WebhookEvent,
    WebhookSetup,
    Withdrawn,
)
from core.vocabulary import Vendor


@dataclass(frozen=True)
class ConnectionConfig:
    """What an adapter needs to reach one customer's ATS.

    `secrets` holds decrypted credentials (API key, client secret …) and `fields` the non-secret vendor
    fields (acting user, subdomain, source id). Neither is ever logged: `repr` hides both.
    """

    vendor: Vendor
    secrets: Mapping[str, str] = field(repr=False)
    fields: Mapping[str, str] = field(default_factory=dict, repr=False)
    base_url: str | None = None


class RateBudget(Protocol):
    """A request budget shared by everything that calls one ATS connection."""

    def acquire(self) -> None:
        """Block until one more request may be sent."""

    def penalize(self, retry_after: float) -> None:
        """Tell every user of the budget to hold off for `retry_after` seconds (after a 429)."""


@runtime_checkable
class AtsAdapter(Protocol):
    """One ATS vendor behind one interface; all methods raise `ats.errors.AtsError` subclasses.

    `spec` is the vendor's; `capabilities` starts as the spec's and may be refined per connection (Workable
    adds existing candidates to jobs only when the connection names a member to act as).
    """

    spec: VendorSpec
    capabilities: Capabilities

    def check(self) -> AccountInfo:
        """Verify the credentials with a cheap authenticated call."""
        ...

    def iter_jobs(self) -> Iterator[Job]:
        """Yield every open job, following the vendor's pagination to the end."""
        ...

    def get_job(self, job_id: str) -> Job:
        """Return one job whatever its status; raise `NotFound` when it is gone."""
        ...

    def list_stages(self, job_id: str) -> list[Stage]:
        """Return the stages a candidate can be placed in for `job_id`, in pipeline order."""
        ...

    def find_candidates(
        self, *, email: str | None = None, linkedin_url: str | None = None
    ) -> list[AtsCandidate]:
        """Return candidates matching the email (case-insensitive, trimmed) or the LinkedIn URL."""
        ...

    def iter_candidate_pages(self, since: str | None) -> Iterator[CandidatePage]:
        """Yield candidates changed since the cursor `since` (all when None); the last page's cursor is next."""
        ...

    def create_prospect(
        self, person: NewCandidate, *, job_id: str | None, stage_id: str | None = None
    ) -> CreatedApplication:
        """Create a prospect (lead), attached to `job_id` where the vendor allows it, at `stage_id` where it
        has prospect stages (`capabilities.prospect_stages`; ignored elsewhere)."""
        ...

    def create_applicant(
        self, person: NewCandidate, *, job_id: str, stage_id: str | None
    ) -> CreatedApplication:
        """Create a candidate with an application on `job_id` at `stage_id` (the first stage when None)."""
        ...

    def add_to_job(
        self, candidate_id: str, *, job_id: str, stage_id: str | None, prospect: bool
    ) -> CreatedApplication:
        """Add an existing ATS candidate to `job_id` (used when an export finds a duplicate)."""
        ...

    def get_candidate(self, candidate_id: str) -> AtsCandidate | None:
        """Return the candidate, or None while it is not (yet) visible."""
        ...

    def visible_candidates(self, candidate_ids: Sequence[str]) -> set[str]:
        """Return those of these candidate ids the ATS shows now (one request per batch where it can)."""
        ...

    def withdraw(self, record: CreatedRecord, *, reason: str) -> Withdrawn:
        """Take back a record this app created (undoing an export): reject or archive its application with
        `reason`, or delete it where the vendor lets an integration, as the vendor's documentation allows.

        Raises:
            ChangedSince: a person changed the record since (another stage, already rejected or archived).
            NotFound: the record is gone.
            NotSupported: the vendor's API offers no way to take it back (`capabilities.withdraw` False).
        """
        ...

    def record_status(self, record: CreatedRecord) -> RecordStatus:
        """Return where `record` (created or found by this app) stands now: stage, status, last activity.

        Raises:
            NotFound: the record is gone. NotSupported: `capabilities.status_sync` is False.
        """
        ...

    def iter_status_pages(self, since: str | None) -> Iterator[StatusPage]:
        """Yield applications (and prospects) changed since the cursor `since` (all when None), following the
        vendor's paging; the last page's cursor is the next poll's start. The poll that catches what webhooks
        missed. Raises `NotSupported` where `capabilities.status_sync` is False."""
        ...

    def read_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        """Verify a delivery with the vendor's documented signature scheme and the connection's webhook secret
        (`config.secrets["webhook_secret"]`), then return the changes it announces (empty for events the app
        does not use, e.g. pings).

        Raises:
            WebhookRejected: missing or wrong signature, stale timestamp, unparseable body.
            NotSupported: `capabilities.webhooks` is False.
        """
        ...

    def register_webhooks(self, url: str) -> WebhookSetup:
        """Ask the vendor to deliver application and candidate changes to `url`, signed with the connection's
        webhook secret, where its API allows (`capabilities.webhook_registration`); otherwise return what an
        admin must paste where. Idempotent: an existing registration for `url` is kept."""
        ...

    def read_contact(self, candidate_id: str) -> ContactDetails:
        """Return the person's contact details as the ATS holds them now.

        Raises:
            NotFound: the record was deleted (or merged away, where the vendor answers so).
            NotSupported: `capabilities.contact_update` is False.
        """
        ...

    def update_contact(self, candidate_id: str, patch: ContactPatch, *, current: ContactDetails) -> None:
        """Write `patch` to the person, `current` being what `read_contact` just returned (vendors whose API
        replaces a whole list are sent `current`'s list with the patch applied). Fields outside
        `capabilities.contact_fields` are ignored. Raises `NotFound` for a deleted record, `NotSupported` where
        `capabilities.contact_update` is False."""
        ...

    def close(self) -> None:
        """Release the HTTP connections."""
        ...


def visible_one_by_one(adapter: AtsAdapter, candidate_ids: Sequence[str]) -> set[str]:
    """`visible_candidates` for a vendor without a batch look-up: `get_candidate` for each id."""
    return {candidate_id for candidate_id in candidate_ids if adapter.get_candidate(candidate_id) is not None}


def list_jobs(adapter: AtsAdapter) -> list[Job]:
    """Return every open job of `adapter` as a list."""
    return list(adapter.iter_jobs())
