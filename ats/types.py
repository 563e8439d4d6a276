"""Typed values exchanged with ATS adapters: capabilities, jobs, stages and candidates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from core.vocabulary import EmailType, Vendor


class ContactField(StrEnum):
    """A contact detail two-way sync can write to an ATS person."""

    NAME = "name"  # first and last name
    EMAILS = "emails"  # add an address
    REMOVE_EMAIL = "remove_email"  # take an address off (one this app added and a user marked wrong)
    PHONE = "phone"
    LINKEDIN = "linkedin"


@dataclass(frozen=True)
class Capabilities:
    """What a vendor's API lets the app do.

    Attributes:
        export_prospects: can create a candidate not (yet) applied to a job.
        prospect_stages: a prospect can be placed at one of the job's stages (`Stage.for_prospects`).
        export_applicants: can create an application on a job at a chosen stage.
        multiple_emails: a created candidate can carry several email addresses.
        linkedin_search: candidates can be looked up by LinkedIn URL.
        candidate_sync: the vendor has a changed-since listing the dedupe mirror can use.
        add_to_job: an existing candidate can be added to a job (used for duplicates).
        delayed_visibility: a new record may not be readable at once: the export stays `processing` until
            a read-back shows it.
        batch_visibility: `visible_candidates` asks about many records per request, so the batch that created
            them confirms them at its end; otherwise the scheduled confirmation reads each back later.
        withdraw: a record this app created can be taken back (`AtsAdapter.withdraw`: its application
            rejected or archived with a reason, or the record deleted, as the vendor's API allows).
        status_sync: where a record stands now can be read back (`record_status`, `iter_status_pages`).
        webhooks: the vendor delivers signed change notifications (`read_webhook`).
        webhook_registration: the app can register its webhook through the API (`register_webhooks`);
            otherwise an admin pastes the URL and secret in the vendor's settings.
        contact_fields: which of a created person's contact details can be corrected (`update_contact`);
            `ContactField.REMOVE_EMAIL` where an address can also be taken off the record.
    """

    export_prospects: bool
    export_applicants: bool
    prospect_stages: bool = False
    multiple_emails: bool = True
    linkedin_search: bool = False
    candidate_sync: bool = True
    add_to_job: bool = True
    delayed_visibility: bool = False
    batch_visibility: bool = False
    withdraw: bool = False
    status_sync: bool = False
    webhooks: bool = False
    webhook_registration: bool = False
    contact_fields: frozenset[ContactField] = frozenset()

    @property
    def contact_update(self) -> bool:
        """Return True when some contact detail of a created person can be corrected."""
        return bool(self.contact_fields)

    @property
    def exclusion_only(self) -> bool:
        """Return True when the vendor cannot take exports and only serves to exclude people it knows."""
        return not (self.export_prospects or self.export_applicants)


@dataclass(frozen=True)
class AccountInfo:
    """Who the credentials act as, returned by a successful credential check."""

    vendor: Vendor
    account_name: str | None = None
    acting_user: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class Job:
    """A job (Lever: posting) that candidates can be exported to."""

    id: str
    name: str
    status: str
    is_open: bool
    location: str | None = None
    department: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class Stage:
    """A pipeline stage; `job_id` is None where the vendor's stages are account-wide (Lever).

    `for_prospects` / `for_applicants`: whether a prospect (lead) / an applicant may be placed here (Ashby's
    "Lead" stages hold leads; Greenhouse's interview stages never hold prospects).
    """

    id: str
    name: str
    order: int
    job_id: str | None = None
    for_prospects: bool = True
    for_applicants: bool = True
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class AtsCandidate:
    """A person as the ATS knows them; emails are lower-cased and trimmed."""

    id: str
    name: str
    emails: tuple[str, ...] = ()
    linkedin_url: str | None = None
    profile_url: str | None = None
    updated_at: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class CandidatePage:
    """One page of the changed-since listing; `cursor` on the last page is what the next sync starts from."""

    candidates: tuple[AtsCandidate, ...]
    cursor: str | None


@dataclass(frozen=True)
class EmailAddress:
    """An address to send, with the type the candidate's record gives it."""

    address: str
    type: EmailType


@dataclass(frozen=True)
class NewCandidate:
    """Everything the app sends to create a person in the ATS.

    `emails` are already validated and ordered by preference; the first is the primary one sent.
    `external_id` is the export's idempotency key, sent where the vendor can store it.
    """

    first_name: str
    last_name: str
    emails: tuple[EmailAddress, ...]
    external_id: str
    linkedin_url: str | None = None
    title: str | None = None
    company: str | None = None
    location: str | None = None
    phone: str | None = None
    tags: tuple[str, ...] = ()
    note: str | None = None
    source: str | None = None

    @property
    def full_name(self) -> str:
        """Return first and last name joined, for vendors that take a single name field."""
        return " ".join(part for part in (self.first_name, self.last_name) if part).strip()


@dataclass(frozen=True)
class CreatedApplication:
    """The outcome of a create or add-to-job call.

    `visible` is False where the vendor accepted the record but may not show it yet (export stays
    `processing` until a later `get_candidate` finds it).
    """

    candidate_id: str
    application_id: str | None = None
    profile_url: str | None = None
    visible: bool = True
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class CreatedRecord:
    """A record this app created in the ATS, as taking it back (`AtsAdapter.withdraw`) needs it.

    `stage_id` is the stage the app placed it at (None: the job's first stage, or no stage): a record found
    elsewhere now, or already rejected or archived, was changed by a person since, and is left alone.
    """

    candidate_id: str
    application_id: str | None
    job_id: str | None
    prospect: bool
    stage_id: str | None = None


class WithdrawAction(StrEnum):
    """What the ATS did when a record was taken back."""

    REJECTED = "rejected"  # the application was rejected (with a reason saying it was exported by mistake)
    ARCHIVED = "archived"  # the application or opportunity was archived (with such a reason)
    DELETED = "deleted"  # the record was deleted (only where the vendor lets an integration do it)


@dataclass(frozen=True)
class Withdrawn:
    """The outcome of `AtsAdapter.withdraw`: what the ATS did, in words a recruiter reads."""

    action: WithdrawAction
    detail: str


class AtsStatus(StrEnum):
    """Where an application (or a prospect) stands in the ATS, across vendors."""

    ACTIVE = "active"  # in the pipeline (any stage)
    REJECTED = "rejected"  # rejected / disqualified, with the vendor's reason where it gives one
    HIRED = "hired"
    ARCHIVED = "archived"  # archived without a rejection (Lever's archived opportunity, Ashby's archived)


@dataclass(frozen=True)
class RecordStatus:
    """Where one record stands in the ATS now: what two-way sync keeps for each exported candidate.

    `application_id` is None for a prospect the vendor keeps no application for (Greenhouse's prospect without
    a job, Workable's sourced talent-pool candidate): such a record has no stage activity, and `stage` is None.
    `updated_at` is the vendor's last-activity stamp, ISO 8601 UTC. `record_url` is the page a recruiter opens.
    """

    candidate_id: str
    application_id: str | None
    job_id: str | None
    prospect: bool
    status: AtsStatus
    stage: str | None = None
    stage_id: str | None = None
    reason: str | None = None
    updated_at: str | None = None
    record_url: str | None = None


@dataclass(frozen=True)
class StatusPage:
    """One page of the application changes listing; the last page's `cursor` is where the next poll starts."""

    statuses: tuple[RecordStatus, ...]
    cursor: str | None


@dataclass(frozen=True)
class WebhookEvent:
    """One change a verified webhook delivery announced.

    `delivery_id` is stable across the vendor's redeliveries of the same notification (idempotency key).
    `status` is filled when the payload carries the whole picture; otherwise None, and the receiver reads the
    record (`record_status`) for `candidate_id` / `application_id`. `kind` is the vendor's event name.
    """

    delivery_id: str
    kind: str
    candidate_id: str | None
    application_id: str | None = None
    status: RecordStatus | None = None


@dataclass(frozen=True)
class WebhookSetup:
    """What connecting did about webhooks: registered through the API, or what an admin must paste where.

    `instructions` is recruiter/admin-readable text naming the vendor's settings page, the URL and which
    events to tick; the secret itself is never in it (the app shows it once, apart).
    `ids` are the vendor's ids of the registrations, for vendors whose API cannot list them (Ashby): the caller
    keeps them in the connection's `fields["webhook_ids"]` (comma-separated) so that registering again finds
    them instead of creating duplicates.
    """

    registered: bool
    instructions: str
    events: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContactDetails:
    """A person's contact details as the ATS holds them now, read before every correction: what the app
    compares with what it last sent to tell a correction from someone's edit in the ATS (the ATS wins).

    Attributes:
        emails: as the ATS holds them (compare case-insensitively).
        phones: as the ATS shows them (compare with `ats.values` phone digits).
        linkedin_url: the LinkedIn profile URL on the record, if any.
        merged_into: the id of the person this record was merged into, where the vendor says so.
    """

    first_name: str | None = None
    last_name: str | None = None
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    linkedin_url: str | None = None
    merged_into: str | None = None


@dataclass(frozen=True)
class ContactPatch:
    """One correction of an ATS person; a field left None (or empty) is not touched. The adapter writes only
    what is here: never removes an address not in `remove_emails`, never clears a field."""

    first_name: str | None = None
    last_name: str | None = None
    add_emails: tuple[EmailAddress, ...] = ()
    remove_emails: tuple[str, ...] = ()
    phone: str | None = None
    linkedin_url: str | None = None

    @property
    def empty(self) -> bool:
        """Return True when the patch changes nothing."""
        return not (
            self.first_name
            or self.last_name
            or self.add_emails
            or self.remove_emails
            or self.phone
            or self.linkedin_url
        )
