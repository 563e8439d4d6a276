"""Lever adapter (https://hire.lever.co/developer/documentation).

A Lever "candidate" is a contact; each pipeline it is in is an opportunity. The adapter's candidate id is the
contact id, and a created application is an opportunity. Connection: secret `api_key` (Basic auth, empty
password); field `perform_as`, the active Lever user that writes act as (required on `POST /opportunities`).

Citations of the developer documentation name its sections (#pagination, #list-all-opportunities …). Our
stored copy of that page stops after its overview, so the sections' text is read where client code repeats it
word for word: corbaltcode/lever-data-api-go (opportunities.go, archive_reasons.go, model/posting.go,
model/user.go, model/archive_reason.go, model/archived.go) and a Lever OpenAPI typing in the code index
(parameter descriptions of GET /postings and GET /opportunities). The two-way sync's sections (#webhooks,
#contacts, the opportunity's `stage`, `archived`, `applications` and `updatedAt`) are read in a full text copy
of the same page in the code index; Lever's help centre pages are cited by URL.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Self

from ats.base import ConnectionConfig, RateBudget, visible_one_by_one
from ats.classify import odd_answers_are_errors
from ats.contact_patch import effective, email_key, is_linkedin
from ats.errors import (
    ChangedSince,
    NotFound,
    NotSupported,
    PermissionMissing,
    ValidationFailed,
    WebhookRejected,
)
from ats.http import AtsHttp, HttpOptions, StatusClassifier, build_http, error_details, json_or_none
from ats.pagination import CLOCK_SKEW_SECONDS, ChangesCursor, Page, body_token, iter_token_pages
from ats.spec import CredentialField, VendorLimit, VendorSpec
from ats.sync_refusals import NoSyncBack
from ats.types import (
    AccountInfo,
    AtsCandidate,
    AtsStatus,
    CandidatePage,
    Capabilities,
    ContactDetails,
    ContactField,
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
    WithdrawAction,
    Withdrawn,
)
from ats.values import phone_digits
from ats.webhook_checks import capped_body, hmac_sha256, json_object, signature_matches
from core.vocabulary import Vendor

log = logging.getLogger(__name__)

BASE_URL = "https://api.lever.co/v1"
# `limit`: "A limit on the number of objects to be returned. The limit can range between 1 and 100 items"
# (https://hire.lever.co/developer/documentation#pagination).
PAGE_SIZE = 100
ORIGIN = "sourced"  # origin is one of agency|applied|internal|referred|sourced|university
OPEN_STATE = "published"
# `confidentiality` on GET /opportunities: "If unspecified, defaults to non-confidential. To get both
# confidential and non-confidential opportunities you must specify all"
# (https://hire.lever.co/developer/documentation#list-all-opportunities). Only keys created with "Allow access
# to confidential data" see them, and "Once an API keys has been created, its access cannot be edited"
# (https://help.lever.co/hc/en-us/articles/360042364412). What Lever answers such a key asking for `all` is not
# documented: a 403 makes the adapter ask again without it (and not again for this key); a list left without
# them looks the same as one without confidential people.
ALL_CONFIDENTIALITY = {"confidentiality": "all"}
# `distributionChannel` on GET /postings: "Filter published postings by whether they appear on the public job
# site, internal job site, or both. To retrieve all published postings, you must specify both public and
# internal" (https://hire.lever.co/developer/documentation#list-all-postings). A posting's
# `distributionChannels` is the "Array of job sites that a published posting appears on"; one only on the
# internal site takes candidates like any published posting, and its name says so in the job list.
PUBLISHED_CHANNELS = ("public", "internal")
INTERNAL_ONLY = " (internal)"
# Lever's error body is {code, message} with no field list; when the message starts with one of the fields
# we send ("emails: …"), that becomes a field error so the recruiter sees which value to fix.
REQUEST_FIELDS = ("name", "emails", "links", "tags", "sources", "postings", "stage", "origin", "perform_as")
_FIELD_PREFIX = re.compile(r"^\s*(?P<field>[a-z_]+)\s*:\s*(?P<text>.+)$", re.DOTALL)
# Archive reasons "provide granularity behind … candidates who have exited your active hiring pipeline"; each
# has `text` ("The name of the archive reason as shown in the Lever interface"), `status` ("Can be either
# active or inactive") and `type` ("Can be either hired or non-hired")
# (https://hire.lever.co/developer/documentation#archive-reasons). Lever's reasons are the account's own
# (the list "Lists all archive reasons in your Lever account"), and the docs name no reason for a record
# added by mistake: the first active non-hired reason whose text says so, by these words in this order, is
# used. A hired reason is never used (it marks the opportunity Hired), nor one that judges the candidate
# ("Underqualified", "Culture Fit"): with none of these words in the account, nothing is archived.
ARCHIVE_REASON_WORDS = (
    re.compile(r"\bmistake", re.IGNORECASE),
    re.compile(r"\bduplicate", re.IGNORECASE),
    re.compile(r"\bother\b", re.IGNORECASE),
)
NON_HIRED, ACTIVE, HIRED = "non-hired", "active", "hired"
# What two-way sync reads of an opportunity: `expand` "Expand application, stage, contact, or user IDs into full
# objects in response"; several values are sent as repeated parameters, as `include` is ("To include multiple
# optional fields use /postings?include=content&include=followers")
# (https://hire.lever.co/developer/documentation#list-all-opportunities and the overview's `include`/`expand`).
STATUS_EXPAND = {"expand": ["stage", "applications"]}
# Webhooks (https://hire.lever.co/developer/documentation#webhooks): the events whose opportunity two-way sync
# reads again. Lever's `data` carries ids only (the stage change's example: opportunityId, candidateId,
# contactId, toStageId, fromStageId), never the stage's name or the archive reason's text, so every event is
# answered by reading the opportunity (`WebhookEvent.status` stays None).
WEBHOOK_EVENTS = ("candidateStageChange", "candidateArchiveChange", "candidateHired", "candidateDeleted")
# The events' names in the settings tab (#webhooks, "Event payloads"), in `WEBHOOK_EVENTS`' order.
WEBHOOK_EVENT_NAMES = (
    "Candidate stage change",
    "Candidate archive state change",
    "Candidate hired",
    "Candidate deleted",
)
MAX_WEBHOOK_BYTES = 1_000_000
# "You can also check if the timestamp is not too far from the current time" (#webhooks, "Request signing").
# Lever retries a failed delivery "five times, waiting longer and longer in between tries" (schedule not
# published) and a delivery can be rerun by hand from the history of "the past two weeks": an older
# `triggeredAt` cannot be Lever's, a newer one may be a retry or a rerun, so only the two weeks are enforced.
MAX_WEBHOOK_AGE_MS = 15 * 24 * 3600 * 1000
WEBHOOK_SETUP = (
    "In Lever, a Super Admin opens Settings → Integrations and API → Webhooks, then:\n"
    "1. turns on these events: {names};\n"
    "2. gives each of them this URL: {url}\n"
    "3. copies the signature token Lever shows for each webhook into ScaleUp's webhook secret for this"
    " connection (/scaleup connect), separated by spaces, so ScaleUp can check that deliveries come from Lever.\n"
    "Lever delivers to HTTPS addresses only."
)

SPEC = VendorSpec(
    vendor=Vendor.LEVER,
    label="Lever",
    # Lever writes require `perform_as`: "All query parameters except the perform_as parameter are optional"
    # (https://hire.lever.co/developer/documentation#create-an-opportunity).
    credentials=(
        CredentialField(
            "api_key",
            "API key",
            secret=True,
            hint=(
                "Settings → Integrations and API → API Credentials. Turn on “Allow access to confidential"
                " data” when you create it (it cannot be added later): without it, people Lever holds only in"
                " confidential pipelines are not seen before export and get a second opportunity."
            ),
        ),
        CredentialField(
            "perform_as",
            "Acting user ID",
            secret=False,
            hint="Lever user id that opportunities are created as; the user must be active (not deactivated)",
        ),
    ),
    primary_secret="api_key",
    # 10 requests/s per key, bursts to 20 (3rd-party: rate-limits.apis.io Lever profile).
    # https://hire.lever.co/developer/documentation
    rate_limit=VendorLimit(limit=8, window=1.0),
    capabilities=Capabilities(
        export_prospects=True,
        prospect_stages=True,  # an opportunity's `stage` (Create an opportunity)
        export_applicants=True,
        multiple_emails=True,
        linkedin_search=False,  # GET /opportunities filters by email, contact_id, posting_id… not by link
        candidate_sync=True,  # updated_at_start
        add_to_job=True,
        delayed_visibility=False,
        withdraw=True,  # archive the opportunity (Update opportunity archived state)
        # GET /opportunities/:opportunity and GET /opportunities?updated_at_start= ("Retrieve a single
        # opportunity", "List all opportunities": https://hire.lever.co/developer/documentation#opportunities).
        status_sync=True,
        # Deliveries carry `token`, `triggeredAt` and `signature` (#webhooks, "Request signing").
        webhooks=True,
        # The Webhooks Subscription API (List/Create/Update/Delete Webhook) is "enabled for a partner
        # integration" on "Select Lever packages" (https://help.lever.co/hc/en-us/articles/4402565460237), and
        # Lever generates each webhook's signature token itself ("A Webhook signature token for each created
        # Webhook", same article): a customer's API key cannot register the app's own secret, so an admin
        # turns the webhooks on and copies Lever's tokens into ScaleUp (`register_webhooks` says where).
        webhook_registration=False,
        # PUT /contacts/:contact takes `name`, `headline`, `location`, `emails` and `phones` ("Update a
        # contact", https://hire.lever.co/developer/documentation#contacts); the adapter's candidate id is the
        # contact's. Links, LinkedIn among them, are the contact's too but change through an opportunity:
        # POST /opportunities/:opportunity/addLinks and /removeLinks ("Update contact links by opportunity",
        # #update-contact-links-by-opportunity). No REMOVE_EMAIL: the page does not say whether `emails`
        # replaces the contact's list or adds to it, and documents no other way to take an address off.
        contact_fields=frozenset(
            {ContactField.NAME, ContactField.EMAILS, ContactField.PHONE, ContactField.LINKEDIN}
        ),
    ),
)


def lever_error_details(body: Any) -> tuple[str | None, dict[str, str]]:
    """Extract (message, field_errors) from Lever's `{code, message}` error body."""
    message, fields = error_details(body)
    found = _FIELD_PREFIX.match(message or "")
    if found and found["field"] in REQUEST_FIELDS and not fields:
        fields = {found["field"]: found["text"].strip()}
    return message, fields


class LeverAdapter(NoSyncBack):
    """Lever behind `ats.base.AtsAdapter`."""

    spec = SPEC
    capabilities = SPEC.capabilities

    def __init__(self, config: ConnectionConfig, http: AtsHttp, *, page_size: int = PAGE_SIZE) -> None:
        self._perform_as = (config.fields.get("perform_as") or "").strip() or None
        self._config = config
        self.http = http
        self._page_size = page_size
        # Whether the key may list confidential opportunities: None until Lever has answered `all` once.
        self._confidential: bool | None = None
        self._reasons: dict[str, Mapping[str, Any]] | None = None  # archive reasons by id, read when needed

    @classmethod
    def create(cls, config: ConnectionConfig, *, budget: RateBudget, options: HttpOptions) -> Self:
        """Build the adapter and its HTTP client (Basic auth: API key as username, empty password)."""
        http = build_http(
            config,
            label=SPEC.label,
            default_base_url=BASE_URL,
            classifier=StatusClassifier(SPEC.label, details=lever_error_details, now=options.now),
            budget=budget,
            options=options,
            auth=(config.secrets.get("api_key", ""), ""),
        )
        return cls(config, http, page_size=options.page_size or PAGE_SIZE)

    # --- AtsAdapter ------------------------------------------------------------------------------------

    def check(self) -> AccountInfo:
        """Verify the key, and that `perform_as` names an active Lever user.

        A user's `deactivatedAt` is the "Datetime when user was deactivated, null for an active user"
        (https://hire.lever.co/developer/documentation#users); a deactivated user "will no longer be able to log
        into Lever" (https://help.lever.co/hc/en-us/articles/205763229), so exports must not be signed by them.
        """
        if self._perform_as is None:
            self.http.get("/postings", params={"limit": 1})
            return AccountInfo(vendor=SPEC.vendor)
        try:
            user = self.http.get(f"/users/{self._perform_as}").json()["data"]
        except NotFound:
            raise self._missing_perform_as(f"user {self._perform_as} does not exist") from None
        name = user.get("name") or user.get("email")
        if user.get("deactivatedAt"):
            # An admin-typed URL's answer never reaches Slack as its own text: then the id typed is the name.
            who = self._perform_as if self.http.own_words or not name else f"{name} ({self._perform_as})"
            raise self._missing_perform_as(f"user {who} is deactivated in Lever")
        return AccountInfo(vendor=SPEC.vendor, acting_user=name, raw=user)

    def iter_jobs(self) -> Iterator[Job]:
        """Yield every published posting, on the public job site, the internal one or both.

        Confidential postings stay out (no `confidentiality` sent: non-confidential only): Lever restricts them
        to "a small subset of involved stakeholders" (https://help.lever.co/hc/en-us/articles/360042364412),
        while the job list is shown to everyone who links a search in Slack.
        """
        params = {"state": OPEN_STATE, "distributionChannel": list(PUBLISHED_CHANNELS)}
        for page in self._pages("/postings", params):
            yield from (_to_job(item) for item in page.items)

    def get_job(self, job_id: str) -> Job:
        """Return one posting whatever its state."""
        return _to_job(self.http.get(f"/postings/{job_id}").json()["data"])

    def list_stages(self, job_id: str) -> list[Stage]:
        """Return the account's stages in pipeline order (Lever stages are global, not per posting)."""
        items = [item for page in self._pages("/stages", {}) for item in page.items]
        return [
            Stage(id=str(s["id"]), name=str(s.get("text") or ""), order=i, raw=s) for i, s in enumerate(items)
        ]

    def find_candidates(
        self, *, email: str | None = None, linkedin_url: str | None = None
    ) -> list[AtsCandidate]:
        """Return the contacts having an opportunity with `email`."""
        if email is None:
            raise NotSupported(SPEC.label, "cannot search candidates by LinkedIn URL")
        wanted = {"email": email.strip().lower()}
        return _to_candidates([o for page in self._opportunities(wanted) for o in page.items])

    def iter_candidate_pages(self, since: str | None) -> Iterator[CandidatePage]:
        """Yield contacts whose opportunities changed at or after the cursor (epoch milliseconds).

        `updated_at_start`: "all Opportunities updated from that timestamp (inclusive) to the present will be
        included" (https://hire.lever.co/developer/documentation#list-all-opportunities), and `updatedAt`
        changes with an opportunity's emails, links, contact, name and confidentiality among others (the
        opportunity object, same page): after the first listing, a sync reads only what changed.
        """
        params = {"updated_at_start": since} if since else {}
        # The cursor never passes the moment the listing began, less the clocks' skew (`ChangesCursor`).
        cursor = self._changes_cursor(since)
        for page in self._opportunities(params):
            at = cursor.advance(_stamps(page.items))
            yield CandidatePage(tuple(_to_candidates(page.items)), None if at is None else str(at))

    def create_prospect(
        self, person: NewCandidate, *, job_id: str | None, stage_id: str | None = None
    ) -> CreatedApplication:
        """Create a lead: an opportunity, origin sourced, at `stage_id` or Lever's default "New lead" stage.

        `stage`: "The stage ID of this Opportunity's current stage If omitted, the Opportunity will be placed
        into the "New Lead" stage" (Lever developer documentation, "Create an opportunity").
        """
        body = _person_body(person) | ({"postings": [job_id]} if job_id else {})
        return self._create(body | ({"stage": stage_id} if stage_id else {}))

    def create_applicant(
        self, person: NewCandidate, *, job_id: str, stage_id: str | None
    ) -> CreatedApplication:
        """Create an opportunity on `job_id` at `stage_id` in one call (one posting per request)."""
        body = _person_body(person) | {"postings": [job_id]} | ({"stage": stage_id} if stage_id else {})
        return self._create(body)

    def add_to_job(
        self, candidate_id: str, *, job_id: str, stage_id: str | None, prospect: bool
    ) -> CreatedApplication:
        """Open a new opportunity for an existing contact on `job_id`.

        "If a contact already exists for a candidate, the ID of the existing contact may be provided in the
        POST request to create an opportunity associated with the existing candidate's contact" (Lever
        developer documentation, "Create an opportunity"; our stored copy of that page is cut short, so the
        sentence is read in corbaltcode/lever-data-api-go, opportunities.go, which repeats Lever's text).
        """
        body: dict[str, Any] = {"contact": candidate_id, "postings": [job_id], "origin": ORIGIN}
        if stage_id:
            body["stage"] = stage_id
        return self._create(body)

    def get_candidate(self, candidate_id: str) -> AtsCandidate | None:
        """Return the contact, or None when no opportunity of it exists."""
        wanted = {"contact_id": candidate_id}
        found = _to_candidates([o for page in self._opportunities(wanted) for o in page.items])
        return found[0] if found else None

    def visible_candidates(self, candidate_ids: Sequence[str]) -> set[str]:
        """Return those of these ids the vendor shows (it shows a record at once; asked one by one)."""
        return visible_one_by_one(self, candidate_ids)

    def withdraw(self, record: CreatedRecord, *, reason: str) -> Withdrawn:
        """Archive the opportunity the export created, with an archive reason saying it was a mistake.

        The Opportunities endpoints the docs list have no delete; archiving is how "Opportunities exit your
        pipeline" (the Opportunities overview, https://hire.lever.co/developer/documentation#opportunities).
        The opportunity is read first: one archived already, or at another stage than `record.stage_id`
        (when given), was changed by a person and is left alone (`ChangedSince`). Lever's archive reason is
        an id from the account's list, with no free text: `reason` chooses a reason whose text is the same,
        else one by `ARCHIVE_REASON_WORDS`; the text itself is not sent. The docs offer no conditional write,
        so a change made between the read and the archive is not detected.

        Raises:
            ChangedSince: archived already, or at another stage.
            NotFound: the opportunity is gone (or the record holds no opportunity id).
            NotSupported: the account has no archive reason fit for an export taken back.
            ValidationFailed: the connection has no acting user (`perform_as`).
        """
        # The opportunity id is what `_create` stored as the application id (the contact id names a person).
        opportunity_id = record.application_id
        if not opportunity_id:
            raise NotFound(SPEC.label, "the export holds no Lever opportunity id to archive")
        if self._perform_as is None:
            raise self._missing_perform_as("no acting user is set")
        # GET /opportunities/:opportunity ("Retrieve a single opportunity",
        # https://hire.lever.co/developer/documentation#retrieve-a-single-opportunity); an unknown id is a 404,
        # which the classifier raises as NotFound.
        opportunity = self.http.get(f"/opportunities/{opportunity_id}").json()["data"]
        if opportunity.get("archived"):
            # `archived`: "Opportunity archived status", {archivedAt, reason} (the opportunity object,
            # https://hire.lever.co/developer/documentation#opportunities); what an active one holds the docs
            # do not say: null or absent is read as active.
            raise ChangedSince(SPEC.label, f"opportunity {opportunity_id} is archived already")
        # `stage`: "The stage ID of this Opportunity's current stage" (an object only with expand=stage).
        stage = opportunity.get("stage")
        stage = stage.get("id") if isinstance(stage, Mapping) else stage
        if record.stage_id and str(stage) != record.stage_id:
            raise ChangedSince(SPEC.label, f"opportunity {opportunity_id} was moved to another stage")
        chosen = self._archive_reason(reason)
        # PUT /opportunities/:opportunity/archived?perform_as=… {"reason": id}: "Update an Opportunity's
        # archived state … If an Opportunity is active, it will be archived with the reason provided"; the
        # request's `perform_as`: "Perform this update on behalf of a specified user"; `cleanInterviews`
        # and `requisitionId` (hiring against a requisition) are not sent ("Update opportunity archived
        # state", https://hire.lever.co/developer/documentation#update-opportunity-archived-state).
        self.http.request(
            "PUT",
            f"/opportunities/{opportunity_id}/archived",
            params={"perform_as": self._perform_as},
            json={"reason": chosen["id"]},
        )
        text = str(chosen.get("text") or chosen["id"])
        return Withdrawn(WithdrawAction.ARCHIVED, f"opportunity archived in Lever with the reason “{text}”")

    # --- two-way sync ----------------------------------------------------------------------------------

    def record_status(self, record: CreatedRecord) -> RecordStatus:
        """Return where the opportunity the export created (or found) stands now.

        `GET /opportunities/:opportunity?expand=stage&expand=applications` ("Retrieve a single opportunity",
        https://hire.lever.co/developer/documentation#retrieve-a-single-opportunity): an unknown id is a 404
        (NotFound), and `deletedAt` "only appears for deleted Opportunities" (the opportunity object), also
        NotFound. Mapping: see `_to_status`.

        Raises:
            NotFound: the opportunity is gone, or the record holds no opportunity id.
        """
        opportunity_id = record.application_id
        if not opportunity_id:
            raise NotFound(SPEC.label, "the export holds no Lever opportunity id to read")
        found = json_or_none(self.http.get(f"/opportunities/{opportunity_id}", params=STATUS_EXPAND))
        opportunity = found.get("data") if isinstance(found, Mapping) else None
        if not isinstance(opportunity, Mapping) or opportunity.get("deletedAt"):
            raise NotFound(SPEC.label, f"opportunity {opportunity_id} was deleted in Lever")
        return self._to_status(opportunity)

    def iter_status_pages(self, since: str | None) -> Iterator[StatusPage]:
        """Yield opportunities updated at or after the cursor (epoch milliseconds), as statuses.

        `updated_at_start` "all Opportunities updated from that timestamp (inclusive) to the present", and
        `updatedAt` changes with `stage`, `stageChanges` and `archived` among others (#list-all-opportunities
        and the opportunity object, https://hire.lever.co/developer/documentation#opportunities). Paged like
        every list (`limit`, `next` sent back as `offset`); confidential ones too where the key may see them.
        Cursors as `iter_candidate_pages`'s.
        """
        params = {"updated_at_start": since, **STATUS_EXPAND} if since else dict(STATUS_EXPAND)
        cursor = self._changes_cursor(since)
        for page in self._opportunities(params):
            at = cursor.advance(_stamps(page.items))
            kept = [o for o in page.items if isinstance(o, Mapping) and not o.get("deletedAt")]
            statuses = tuple(self._to_status(o) for o in kept)
            yield StatusPage(statuses, None if at is None else str(at))

    def read_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        """Verify a Lever delivery and return the opportunity it names (empty for other events).

        "Request signing" (https://hire.lever.co/developer/documentation#webhooks): the body carries
        `triggeredAt`, `token` ("Randomly generated string with length of 48 characters") and `signature`;
        "Concatenate token and triggeredAt values; Encode the resulting string with the HMAC algorithm (using
        your signature token as a key and SHA256 digest mode); Compare the resulting hexdigest to the
        signature" (the page's sample: `body.token + body.triggeredAt`). Lever signs those two fields only,
        not `data`: the ids in `data` are never trusted for a status, the receiver reads the opportunity.
        Lever makes one signature token per webhook ("A Webhook signature token for each created Webhook",
        https://help.lever.co/hc/en-us/articles/4402565460237), so the connection's `webhook_secret` may hold
        several, separated by spaces or commas; any one of them verifies.

        Lever's settings page sends a test delivery with `"data": {}` (#webhooks, "How to set up webhooks"):
        it verifies like any other and announces nothing. `delivery_id` is the event, the opportunity and
        `triggeredAt` ("When webhook event was triggered"), which a retry or a rerun keeps.

        Raises:
            WebhookRejected: no token stored, a body over 1 MB or not Lever's shape, a wrong signature, a
                `triggeredAt` older than Lever's two weeks of delivery history (or in the future).
        """
        too_large = "sent a webhook body over 1 MB; it was not read"
        body = capped_body(SPEC.label, body, limit=MAX_WEBHOOK_BYTES, too_large=too_large)
        tokens = _signature_tokens(self._config.secrets.get("webhook_secret"))
        if not tokens:
            raise WebhookRejected(
                SPEC.label,
                "sent a webhook, but no Lever signature token is stored for this connection to check it with",
                hint="Copy each Lever webhook's signature token into the connection: /scaleup connect.",
            )
        # Lever signs fields of the body, so it is read before it is verified.
        payload = json_object(SPEC.label, body, not_object="sent a webhook that is not shaped like Lever's")
        token, triggered, signature = (payload.get(k) for k in ("token", "triggeredAt", "signature"))
        if not (isinstance(token, str) and isinstance(signature, str) and _is_int(triggered)):
            raise WebhookRejected(SPEC.label, "sent a webhook without its token, triggeredAt and signature")
        signed = f"{token}{triggered}".encode()
        # Any of the connection's tokens may have signed it; the hex digest is compared whatever its case.
        if not signature_matches(signature.strip().lower(), *(hmac_sha256(t, signed).hex() for t in tokens)):
            raise WebhookRejected(SPEC.label, "sent a webhook whose signature does not match")
        age = int(self.http.options.now() * 1000) - int(triggered)
        if not -CLOCK_SKEW_SECONDS * 1000 <= age <= MAX_WEBHOOK_AGE_MS:
            raise WebhookRejected(SPEC.label, "sent a webhook triggered too long ago (or in the future)")
        event, data = payload.get("event"), payload.get("data")
        if not isinstance(event, str) or not isinstance(data, Mapping | None):
            raise WebhookRejected(SPEC.label, "sent a webhook that is not shaped like Lever's")
        # `candidateId` is the deprecated name of the opportunity id ("Use the opportunityId", #applications).
        opportunity = (data or {}).get("opportunityId") or (data or {}).get("candidateId")
        contact = (data or {}).get("contactId")
        if any(v is not None and not isinstance(v, str) for v in (opportunity, contact)):
            raise WebhookRejected(SPEC.label, "sent a webhook whose ids are not Lever's")
        if event not in WEBHOOK_EVENTS or not (opportunity or contact):
            return []
        return [
            WebhookEvent(
                delivery_id=f"lever:{event}:{opportunity or contact}:{triggered}",
                kind=event,
                candidate_id=str(contact) if contact else None,
                application_id=str(opportunity) if opportunity else None,
            )
        ]

    def register_webhooks(self, url: str) -> WebhookSetup:
        """Say what a Lever Super Admin turns on where; nothing is registered through the API.

        "To configure webhooks for your account, you must be a Super Admin. To get started, visit the webhooks
        tab in your account integration settings" (#webhooks); the tab is Settings → Integrations and API →
        Webhooks (https://help.lever.co/hc/en-us/articles/20087284427677). Why not the API: see
        `SPEC.capabilities.webhook_registration`. The text names the URL and events, never a secret (Lever
        makes the tokens; the admin copies them into ScaleUp).
        """
        names = ", ".join(WEBHOOK_EVENT_NAMES)
        return WebhookSetup(False, WEBHOOK_SETUP.format(names=names, url=url), WEBHOOK_EVENTS)

    def read_contact(self, candidate_id: str) -> ContactDetails:
        """Return the contact's name, addresses, phones and LinkedIn link as Lever holds them.

        `GET /contacts/:contact` → `{data: {id, name, headline, location, emails, phones}}` ("Retrieve a single
        contact", #contacts); a contact without opportunities left (deleted) is not found. Lever keeps one
        `name`: its first word is read as the first name, the rest as the last name. Links are not on the
        contact object: they are read from one of its opportunities (`GET /opportunities?contact_id=`, whose
        `links` are the contact's: "Contact information will be shared and consistent across an individual
        person's opportunities", #opportunities). The docs say nothing of merged contacts: `merged_into` is
        None.

        Raises:
            NotFound: the contact does not exist (any more).
        """
        contact = self._contact(candidate_id)
        opportunity = self._contact_opportunity(candidate_id)
        links = [str(link) for link in (opportunity or {}).get("links") or [] if link]
        first, _, last = str(contact.get("name") or "").strip().partition(" ")
        return ContactDetails(
            first_name=first or None,
            last_name=last.strip() or None,
            emails=tuple(str(e).strip() for e in contact.get("emails") or [] if e),
            phones=tuple(
                str(p["value"])
                for p in contact.get("phones") or []
                if isinstance(p, Mapping) and p.get("value")
            ),
            linkedin_url=next((link for link in links if is_linkedin(link)), None),
        )

    def update_contact(self, candidate_id: str, patch: ContactPatch, *, current: ContactDetails) -> None:
        """Write what `patch` changes relative to `current`: the name, addresses and phone with one
        `PUT /contacts/:contact`, the LinkedIn link through one of the contact's opportunities.

        `PUT /contacts/:contact` with the example's fields (`name`, `headline`, `location` as its name,
        `emails`, `phones`) ("Update a contact", #contacts). The page does not say whether the lists replace
        or extend the contact's, so the contact is read again (`GET /contacts/:contact`) and each list is sent
        whole: what it has now plus what the patch adds (a phone as `mobile`), nothing removed (Lever has no
        `ContactField.REMOVE_EMAIL`). The name is one string: the patch's first and last names, `current`'s
        where the patch has none. LinkedIn: `POST /opportunities/:opportunity/addLinks {links: [url]}`, then
        `removeLinks` with `current`'s LinkedIn link, which the new one replaces ("Update contact links by
        opportunity", #update-contact-links-by-opportunity); adding first means a failed removal leaves both,
        never neither. Nothing is sent when nothing changes. The docs offer no conditional write.

        Raises:
            NotFound: the contact does not exist (any more).
        """
        change = effective(patch, current, SPEC.capabilities.contact_fields)
        if change.empty:
            return
        if change.first_name or change.last_name or change.add_emails or change.phone:
            self._put_contact(candidate_id, change, current)
        if change.linkedin_url:
            opportunity = self._contact_opportunity(candidate_id)
            if opportunity is None:
                raise NotFound(
                    SPEC.label, f"contact {candidate_id} has no opportunity left to hold its links"
                )
            path = f"/opportunities/{opportunity['id']}"
            self.http.request("POST", f"{path}/addLinks", json={"links": [change.linkedin_url]})
            held = {str(link) for link in opportunity.get("links") or []}
            if current.linkedin_url and current.linkedin_url in held:
                self.http.request("POST", f"{path}/removeLinks", json={"links": [current.linkedin_url]})

    def _put_contact(self, candidate_id: str, change: ContactPatch, current: ContactDetails) -> None:
        contact = self._contact(candidate_id)
        have = [str(e) for e in contact.get("emails") or [] if e]
        known = {email_key(e) for e in have}
        phones = [dict(p) for p in contact.get("phones") or [] if isinstance(p, Mapping)]
        had = {phone_digits(str(p.get("value") or "")) for p in phones}
        name = " ".join(
            part
            for part in (change.first_name or current.first_name, change.last_name or current.last_name)
            if part
        )
        location = contact.get("location")
        body: dict[str, Any] = {
            "name": name or contact.get("name"),
            "headline": contact.get("headline"),
            "location": location.get("name") if isinstance(location, Mapping) else location,
            "emails": [*have, *(e.address for e in change.add_emails if email_key(e.address) not in known)],
            "phones": [*phones, {"type": "mobile", "value": change.phone}]
            if change.phone and phone_digits(change.phone) not in had
            else phones,
        }
        if body["name"] == contact.get("name") and body["emails"] == have and body["phones"] == phones:
            return  # the contact has it all already (changed since `current` was read)
        self.http.request(
            "PUT", f"/contacts/{candidate_id}", json={k: v for k, v in body.items() if v is not None}
        )

    def _contact(self, candidate_id: str) -> Mapping[str, Any]:
        found = json_or_none(self.http.get(f"/contacts/{candidate_id}"))
        contact = found.get("data") if isinstance(found, Mapping) else None
        if not isinstance(contact, Mapping):
            raise NotFound(SPEC.label, f"contact {candidate_id} does not exist")
        return contact

    def _contact_opportunity(self, candidate_id: str) -> Mapping[str, Any] | None:
        """Return one of the contact's opportunities (the newest), or None when it has none."""
        found = [o for page in self._opportunities({"contact_id": candidate_id}) for o in page.items]
        found = [o for o in found if isinstance(o, Mapping) and o.get("id")]
        return max(found, key=lambda o: o.get("updatedAt") or 0, default=None)

    def close(self) -> None:
        """Release the HTTP connections."""
        self.http.close()

    # --- internals -------------------------------------------------------------------------------------

    def _create(self, body: Mapping[str, Any]) -> CreatedApplication:
        if self._perform_as is None:
            raise self._missing_perform_as("no acting user is set")
        # "All query parameters except the perform_as parameter are optional"
        # (https://hire.lever.co/developer/documentation#create-an-opportunity).
        response = self.http.post("/opportunities", params={"perform_as": self._perform_as}, json=dict(body))
        data = response.json()["data"]
        return CreatedApplication(
            candidate_id=str(data["contact"]),
            application_id=str(data["id"]),
            profile_url=(data.get("urls") or {}).get("show"),
            raw=data,
        )

    def _archive_reason(self, reason: str) -> Mapping[str, Any]:
        """Return the active non-hired archive reason to archive with: the one named `reason`, else by words.

        GET /archive_reasons: "Lists all archive reasons in your Lever account" ("Archive reasons" → "List all
        archive reasons", https://hire.lever.co/developer/documentation#archive-reasons). The docs copy we
        read says nothing of paging here; it is read like every other list (`limit`, `next` → `offset`).
        """
        fit = [
            r
            for page in self._pages("/archive_reasons", {})
            for r in page.items
            if r.get("type") == NON_HIRED and r.get("status", ACTIVE) == ACTIVE and r.get("id")
        ]
        wanted = reason.strip().casefold()
        named = [r for r in fit if str(r.get("text") or "").strip().casefold() == wanted]
        by_words = (
            [r for r in fit if word.search(str(r.get("text") or ""))] for word in ARCHIVE_REASON_WORDS
        )
        for found in (named, *by_words):
            if found:
                return found[0]
        raise NotSupported(
            SPEC.label,
            "no archive reason says the candidate was added by mistake, so the opportunity was not archived",
            hint=(
                "Ask a Lever admin to add an active non-hired archive reason such as “Added by mistake” or"
                " “Other”, then try again."
            ),
        )

    def _changes_cursor(self, since: str | None) -> ChangesCursor:
        now_ms = int(self.http.options.now() * 1000)
        return ChangesCursor(int(since) if since else None, now=now_ms, skew=CLOCK_SKEW_SECONDS * 1000)

    def _to_status(self, opportunity: Mapping[str, Any]) -> RecordStatus:
        """Map an opportunity (read with `STATUS_EXPAND`) to where it stands.

        - `archived` {archivedAt, reason} ("Opportunity archived status"): none → active; archived with a reason
          of `type` "hired" → hired ("Opportunities exit your pipeline by being archived for one of two
          reasons: (1) The candidate was rejected ... or (2) The candidate was hired", #opportunities); any
          other reason (`type` "non-hired") → rejected, with the reason's `text` ("The name of the archive
          reason as shown in the Lever interface", #archive-reasons), as every other vendor's rejection.
        - stage: the expanded `stage` {id, text}; job: the posting of the opportunity's application ("An
          Opportunity will have no more than one Application", #applications). An opportunity without an
          application is a lead not applied to a posting: `prospect`. Lever keeps stages for leads too, so
          `application_id` is always the opportunity's.
        - `updated_at`: `updatedAt` (milliseconds) as ISO 8601 UTC; `record_url`: `urls.show`.
        """
        archived = opportunity.get("archived")
        reason_id = archived.get("reason") if isinstance(archived, Mapping) else None
        reason = self._archive_reason_by_id(str(reason_id)) if reason_id else None
        if not isinstance(archived, Mapping) or not archived:
            status, reason_text = AtsStatus.ACTIVE, None
        elif reason is not None and reason.get("type") == HIRED:
            status, reason_text = AtsStatus.HIRED, None
        else:
            status, reason_text = (
                AtsStatus.REJECTED,
                (str(reason.get("text") or "") or None) if reason else None,
            )
        return _status_of(opportunity, status, reason_text)

    def _archive_reason_by_id(self, reason_id: str) -> Mapping[str, Any] | None:
        """Return the archive reason `reason_id` (`GET /archive_reasons`, read once; again for an unknown id)."""
        if self._reasons is None or reason_id not in self._reasons:
            reasons = [r for page in self._pages("/archive_reasons", {}) for r in page.items]
            self._reasons = {str(r["id"]): r for r in reasons if isinstance(r, Mapping) and r.get("id")}
        return self._reasons.get(reason_id)

    def _missing_perform_as(self, why: str) -> ValidationFailed:
        return ValidationFailed(
            SPEC.label,
            "the connection's acting user is not usable",
            field_errors={"perform_as": why},
            hint="Reconnect Lever with the user id of an active Lever user: /scaleup connect.",
        )

    def _opportunities(self, params: Mapping[str, Any]) -> Iterator[Page]:
        """Pages of GET /opportunities with confidential ones too, where the key may see them."""
        if self._confidential is not False:
            pages = self._pages("/opportunities", {**params, **ALL_CONFIDENTIALITY})
            try:
                first = next(pages, None)
            except PermissionMissing:
                if self._confidential:
                    raise
                self._confidential = False
                log.warning(
                    "Lever key has no access to confidential data: people held only in confidential"
                    " opportunities are not seen by dedupe"
                )
            else:
                self._confidential = True
                if first is not None:
                    yield first
                    yield from pages
                return
        yield from self._pages("/opportunities", params)

    def _pages(self, path: str, params: Mapping[str, Any]) -> Iterator[Page]:
        return iter_token_pages(
            self.http,
            "GET",
            path,
            params={**params, "limit": self._page_size},
            items=lambda r: r.json().get("data") or [],
            next_token=body_token("next", more="hasNext"),
            token_param="offset",
        )


def _person_body(person: NewCandidate) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": person.full_name,
        "emails": [e.address for e in person.emails],
        "origin": ORIGIN,
        "tags": list(person.tags),
        "sources": [person.source] if person.source else [],
    }
    headline = " at ".join(p for p in (person.title, person.company) if p)
    if headline:
        body["headline"] = headline
    if person.location:
        body["location"] = person.location
    if person.phone:
        body["phones"] = [{"value": person.phone, "type": "mobile"}]
    if person.linkedin_url:
        body["links"] = [person.linkedin_url]
    return body


@odd_answers_are_errors(SPEC.label, "a posting")
def _to_job(item: Mapping[str, Any]) -> Job:
    categories = item.get("categories") or {}
    channels = item.get("distributionChannels") or []
    internal_only = item.get("state") == OPEN_STATE and "internal" in channels and "public" not in channels
    return Job(
        id=str(item["id"]),
        name=str(item.get("text") or "") + (INTERNAL_ONLY if internal_only else ""),
        status=str(item.get("state") or ""),
        is_open=item.get("state") == OPEN_STATE,
        location=categories.get("location"),
        department=categories.get("department") or categories.get("team"),
        raw=item,
    )


@odd_answers_are_errors(SPEC.label, "opportunities")
def _to_candidates(opportunities: list[Mapping[str, Any]]) -> list[AtsCandidate]:
    """Fold opportunities into one candidate per contact, keeping the most recently updated one's details."""
    by_contact: dict[str, list[Mapping[str, Any]]] = {}
    for opportunity in opportunities:
        by_contact.setdefault(str(opportunity["contact"]), []).append(opportunity)
    candidates = []
    for contact, group in by_contact.items():
        latest = max(group, key=lambda o: int(o.get("updatedAt") or 0))
        emails = dict.fromkeys(str(e).strip().lower() for o in group for e in o.get("emails") or [])
        links = [str(link) for o in group for link in o.get("links") or []]
        candidates.append(
            AtsCandidate(
                id=contact,
                name=str(latest.get("name") or ""),
                emails=tuple(emails),
                linkedin_url=next((link for link in links if "linkedin." in link), None),
                profile_url=(latest.get("urls") or {}).get("show"),
                updated_at=_iso_ms(latest.get("updatedAt")),
                raw=latest,
            )
        )
    return candidates


@odd_answers_are_errors(SPEC.label, "an opportunity")
def _status_of(opportunity: Mapping[str, Any], status: AtsStatus, reason: str | None) -> RecordStatus:
    stage = opportunity.get("stage")
    stage_id = stage.get("id") if isinstance(stage, Mapping) else stage
    stage_name = stage.get("text") if isinstance(stage, Mapping) else None
    applications = [a for a in opportunity.get("applications") or [] if a]
    posting = next((a.get("posting") for a in applications if isinstance(a, Mapping)), None)
    posting = posting.get("id") if isinstance(posting, Mapping) else posting
    return RecordStatus(
        candidate_id=str(opportunity["contact"]),
        application_id=str(opportunity["id"]),
        job_id=str(posting) if posting else None,
        prospect=not applications,
        status=status,
        stage=str(stage_name) if stage_name else None,
        stage_id=str(stage_id) if stage_id else None,
        reason=reason,
        updated_at=_iso_ms(opportunity.get("updatedAt") or opportunity.get("lastInteractionAt")),
        record_url=(opportunity.get("urls") or {}).get("show"),
    )


@odd_answers_are_errors(SPEC.label, "opportunities")
def _stamps(opportunities: Sequence[Any]) -> list[int]:
    """Return the `updatedAt` stamps (epoch milliseconds) of a page of opportunities."""
    return [int(o["updatedAt"]) for o in opportunities if o.get("updatedAt") is not None]


def _signature_tokens(secret: str | None) -> list[str]:
    return [t for t in re.split(r"[\s,]+", secret or "") if t]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _iso_ms(value: Any) -> str | None:
    if value is None:
        return None
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC).isoformat().replace("+00:00", "Z")
