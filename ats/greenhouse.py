"""Greenhouse Harvest **v3** adapter (v1/v2 were switched off on 2026-08-31).

Auth is OAuth client credentials: `POST https://auth.greenhouse.io/token` with Basic client_id:client_secret
and `grant_type=client_credentials` (+ `sub`, the acting user), then `Authorization: Bearer …`
(https://harvestdocs.greenhouse.io/docs/authentication). Lists use cursor pagination through the `Link`
header (https://harvestdocs.greenhouse.io/docs/pagination).

Connection: secrets `client_id`, `client_secret` (and `webhook_secret`, the Secret Key of the app's web hooks);
fields `user_id` (sent as `sub`), `source_id`, and optionally `auth_url`. Token URL choice: `auth_url` when
set; else, when `base_url` is overridden (an emulator or proxy), `<scheme://host of base_url>/token`; else the
real auth server. Two-way sync: see "two-way sync" in the adapter and the web hook tables at the top.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Self

import httpx

from ats.base import ConnectionConfig, RateBudget
from ats.classify import odd_answers_are_errors
from ats.contact_patch import effective, email_key, is_linkedin, patched_emails, url_key
from ats.errors import (
    AuthFailed,
    ChangedSince,
    NotFound,
    NotSupported,
    ValidationFailed,
    VendorUnavailable,
    WebhookRejected,
)
from ats.http import AtsHttp, HttpOptions, StatusClassifier, build_http, json_or_none, remaining_reset_hint
from ats.pagination import CLOCK_SKEW_SECONDS, ChangesCursor, Page, link_next, paginate
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
from ats.webhook_checks import capped_body, header, hmac_sha256, json_object, signature_matches
from core.vocabulary import EmailType, Vendor

log = logging.getLogger(__name__)

BASE_URL = "https://harvest.greenhouse.io"
TOKEN_URL = "https://auth.greenhouse.io/token"
PROFILE_URL = "https://app.greenhouse.io/people/{id}"
PAGE_SIZE = 100  # per_page is 1–500, default 100 (HD-OAS, every list operation)
IDS_PER_REQUEST = 50  # id filters take at most 50 ids (HD list-endpoints)
TOKEN_MARGIN = 60.0  # refresh this many seconds before `expires_at`
DEFAULT_TOKEN_LIFETIME = 3600.0  # no lifetime is documented for client credentials; partner tokens live 1 h

# Rejection reason types an undone export may be filed under, best first: "None specified" is the catch-all
# and "We rejected them" the organisation declining; "They rejected us" (the candidate withdrew) and
# "Security concern" (fraud) would misstate what happened (HD-ref get_v3-rejection-reasons; v1
# _rejection_reasons.md spells "None Specified", so names are compared case-insensitively).
REJECTION_TYPES = ("none specified", "we rejected them")
# Within a type, a reason whose name says the record was a mistake is preferred (names are per account).
MISTAKE_WORDS = ("mistake", "error", "wrong", "duplicate")
ACTIVE_STATUS = "in_process"  # v3 application `status` enum: in_process|rejected|hired|converted (HD-OAS)
REASON_HINT = (
    "Add a rejection reason of type “None specified” (for example “Exported by mistake”) in Greenhouse "
    "under Configure → Custom Options → Rejection Reasons, then undo again."
)

# The v3 application's `status` enum (rejected|hired|converted|in_process, HD-OAS application object) as two-way
# sync says it. `converted`: "prospect applications that have been promoted to a candidate application via
# `convert_to_candidate`" — the person goes on under a new application (`record_status` follows it).
APPLICATION_STATUS: Mapping[str, AtsStatus] = {
    "in_process": AtsStatus.ACTIVE,
    "rejected": AtsStatus.REJECTED,
    "hired": AtsStatus.HIRED,
    "converted": AtsStatus.ACTIVE,
}
# A web hook's `application.status`: "One of: `rejected`, `hired`, `active`" (webhooks Common Attributes,
# https://developers.greenhouse.io/webhooks.html#common-attributes).
WEBHOOK_STATUS: Mapping[str, AtsStatus] = {
    "active": AtsStatus.ACTIVE,
    "rejected": AtsStatus.REJECTED,
    "hired": AtsStatus.HIRED,
}
RECORD_URL = "https://app.greenhouse.io/people/{candidate}?application_id={application}"  # web hooks' `url`
# The web hooks two-way sync uses, each with its name in the "When" list of Dev Center → Web Hooks
# (https://developers.greenhouse.io/webhooks.html: "Candidate stage change", "Candidate/Prospect rejected",
# "Candidate/Prospect unrejected", "Candidate hired", "Candidate unhired", "Candidate deleted", "Candidate
# merged", "Application deleted"). "A webhook listens to exactly one event type" (HD-OAS `event_action_type`),
# so an admin creates one per event.
WEBHOOK_EVENTS: Mapping[str, str] = {
    "candidate_stage_change": "Candidate Stage Change",
    "reject_candidate": "Candidate/Prospect Rejected",
    "unreject_candidate": "Candidate/Prospect Unrejected",
    "hire_candidate": "Candidate Hired",
    "unhire_candidate": "Candidate Unhired",
    "delete_candidate": "Candidate Deleted",
    "merge_candidate": "Candidate Merged",
    "delete_application": "Application Deleted",
}
# Application events whose `payload.application` is the whole application (Application/Candidate Events pages);
# `application_updated` is read when an account sends it, though not asked for.
APPLICATION_EVENTS = frozenset(
    {"candidate_stage_change", "reject_candidate", "unreject_candidate", "hire_candidate", "unhire_candidate"}
    | {"application_updated"}
)
PERSON_EVENTS = frozenset({"delete_candidate", "merge_candidate"})  # `payload.person`
MAX_WEBHOOK_BYTES = 1_000_000
WEBHOOK_SETUP = (
    "In Greenhouse Recruiting, open Configure → Dev Center → Web Hooks → Web Hooks and create one web hook for"
    " each of these events (the When field takes one event per web hook): {names}. For each one:\n"
    "• Name this web hook: ScaleUp sync\n"
    "• Endpoint URL: {url}\n"
    "• Secret Key: the webhook secret ScaleUp showed when Greenhouse was connected\n"
    "Greenhouse only delivers to HTTPS URLs."
)
# v3 phone types (HD-OAS PATCH /v3/candidates/{id}); a corrected phone goes in as mobile.
PHONE_TYPES = frozenset({"home", "work", "mobile", "skype", "other"})
PHONE_TYPE = "mobile"

# v3 email types are personal|work|other; there is no "primary" — the first address listed leads.
EMAIL_TYPES: Mapping[EmailType, str] = {
    EmailType.PRIMARY: "personal",
    EmailType.PERSONAL: "personal",
    EmailType.WORK: "work",
    EmailType.OTHER: "other",
}

SPEC = VendorSpec(
    vendor=Vendor.GREENHOUSE,
    label="Greenhouse",
    # Harvest v3 custom integrations use OAuth client credentials; `sub` makes writes act as that user.
    # https://harvestdocs.greenhouse.io/docs/authentication
    credentials=(
        CredentialField(
            "client_id", "Client ID", secret=True, hint="Dev Center → API Credentials (Harvest V3)"
        ),
        CredentialField("client_secret", "Client secret", secret=True),
        CredentialField(
            "user_id",
            "Acting user ID",
            secret=False,
            required=False,
            hint="Greenhouse user id of a Site Admin that exports are attributed to",
        ),
        CredentialField(
            "source_id",
            "Source ID",
            secret=False,
            required=False,
            hint="Greenhouse source to credit exports to (default: none)",
        ),
        CredentialField(
            "auth_url", "Token URL", secret=False, required=False, hint="only for sandboxes and emulators"
        ),
    ),
    primary_secret="client_secret",
    # Greenhouse's v1/v2 text: "limited to the amount specified in the returned X-RateLimit-Limit header, per
    # 10 seconds" (grnhse/greenhouse-api-docs, source/includes/harvest/_introduction.md); the v3 page
    # (harvestdocs.greenhouse.io/docs/api-rate-limiting) is not in our stored copy. 50 per 30 s stays under
    # any limit of 50 or more per 10 s, and the hint below stops at X-RateLimit-Remaining = 0 anyway
    # (3rd-party: Airbyte source-greenhouse budgets 50 the same way).
    rate_limit=VendorLimit(limit=50, window=30.0),
    capabilities=Capabilities(
        export_prospects=True,
        prospect_stages=False,  # prospects sit in prospect-pool stages, never at a job's stage (v3)
        export_applicants=True,
        multiple_emails=True,
        linkedin_search=False,  # GET /v3/candidates has no LinkedIn/social filter
        candidate_sync=True,
        add_to_job=True,
        # v1 documented delayed, truncated creates; unconfirmed for v3, so the adapter reads back to check.
        delayed_visibility=True,
        batch_visibility=True,  # `GET /v3/candidates?ids=` takes 50 ids (docs/list-endpoints)
        # POST /v3/applications/{id}/reject ("Reject application", harvestdocs.greenhouse.io/reference/
        # post_v3-applications-id-reject): applications and prospect applications alike.
        withdraw=True,
        # GET /v3/applications with `ids` and `updated_at=gte|…` (HD-OAS "List applications").
        status_sync=True,
        # "Signature: sha256 <HMAC-SHA256 of the body>" (https://developers.greenhouse.io/webhooks.html).
        webhooks=True,
        # `POST /v3/webhooks` is "Greenhouse partners exclusive" (HD-OAS "Create webhook"; its list is "Scoped
        # to webhooks owned by the calling partner application"), and this app connects as a customer's
        # custom integration (client credentials), so an admin creates the web hooks in the Dev Center.
        webhook_registration=False,
        # PATCH /v3/candidates/{id} ("Update candidate", HD-OAS; harvestdocs.greenhouse.io/reference/
        # patch_v3-candidates-id) takes `first_name`, `last_name`, `email_addresses`, `phone_numbers` and
        # `social_media_addresses` (untyped `{value}`: where a LinkedIn URL goes). Array fields "replace the
        # existing collection wholesale", so an address is taken off by sending the list without it.
        contact_fields=frozenset(
            {
                ContactField.NAME,
                ContactField.EMAILS,
                ContactField.REMOVE_EMAIL,
                ContactField.PHONE,
                ContactField.LINKEDIN,
            }
        ),
    ),
)


class GreenhouseAdapter(NoSyncBack):
    """Greenhouse Harvest v3 behind `ats.base.AtsAdapter`."""

    spec = SPEC
    capabilities = SPEC.capabilities

    def __init__(self, config: ConnectionConfig, http: AtsHttp, *, page_size: int = PAGE_SIZE) -> None:
        self._config = config
        self.http = http
        self._page_size = page_size
        self._token_url = config.fields.get("auth_url") or _default_token_url(config.base_url)
        self._token: tuple[str, float] | None = None
        self._token_lock = threading.Lock()
        self._now = http.options.now
        self._rejection_reason: Mapping[str, Any] | None = None  # chosen once per adapter
        self._reasons: list[Mapping[str, Any]] | None = None  # GET /v3/rejection_reasons, read once
        self._unnamed: set[str] = set()  # reason ids not listed even when read again (deleted reasons)

    @classmethod
    def create(cls, config: ConnectionConfig, *, budget: RateBudget, options: HttpOptions) -> Self:
        """Build the adapter and its HTTP client for `config`."""
        http = build_http(
            config,
            label=SPEC.label,
            default_base_url=BASE_URL,
            classifier=StatusClassifier(SPEC.label, now=options.now),
            budget=budget,
            options=options,
            # The limit is per account and shared with other tools: stop when Greenhouse says the window is
            # spent, not only when our own count says so. The v3 page (docs/api-rate-limiting) is not in our
            # stored copy; Greenhouse's v1/v2 text sends X-RateLimit-Remaining on every answer and
            # X-RateLimit-Reset with 429s ("In the HTTP 429 response, the X-RateLimit-Reset header is the
            # timestamp indicating when you can try again", grnhse/greenhouse-api-docs
            # source/includes/harvest/_introduction.md). The hint acts on Remaining = 0 and uses Reset only
            # when it is there, so it needs no more than that.
            window_hint=remaining_reset_hint("X-RateLimit-Remaining", "X-RateLimit-Reset"),
        )
        return cls(config, http, page_size=options.page_size or PAGE_SIZE)

    # --- AtsAdapter ------------------------------------------------------------------------------------

    def check(self) -> AccountInfo:
        """Mint a token and list one job, proving both the credentials and the jobs scope."""
        self._request("GET", "/v3/jobs", params={"per_page": 1})
        return AccountInfo(vendor=SPEC.vendor, acting_user=self._config.fields.get("user_id"))

    def iter_jobs(self) -> Iterator[Job]:
        """Yield every open job."""
        for page in self._pages("/v3/jobs", {"status": "open"}):
            yield from (_to_job(item) for item in page.items)

    def get_job(self, job_id: str) -> Job:
        """Return one job whatever its status (v3 has no single-record GET: filter by `ids`)."""
        found = self._request("GET", "/v3/jobs", params={"ids": _int_id(job_id, "job")}).json()
        if not found:
            raise NotFound(SPEC.label, f"job {job_id} does not exist")
        return _to_job(found[0])

    def list_stages(self, job_id: str) -> list[Stage]:
        """Return the job's active interview stages in `sort_order`.

        `GET /v3/job_interview_stages`: "inactive stages are included by default and can be filtered out with
        `active=true`"; `job_ids` returns "only interview stages belonging to these job (hiring plan) ids";
        `sort_order` is the "Position of this stage within the job's interview plan, ascending", and answers
        are not sorted by it (harvestdocs.greenhouse.io, Harvest v3 API reference).
        """
        params = {"job_ids": _int_id(job_id, "job"), "active": "true"}
        stages = [
            _to_stage(item) for page in self._pages("/v3/job_interview_stages", params) for item in page.items
        ]
        if not stages:
            # Every job plan has at least "Application Review" and "Offer", so none means no such job.
            raise NotFound(SPEC.label, f"job {job_id} does not exist or has no stages")
        return sorted(stages, key=lambda s: s.order)

    def find_candidates(
        self, *, email: str | None = None, linkedin_url: str | None = None
    ) -> list[AtsCandidate]:
        """Return candidates (prospects too) having `email` among their addresses.

        v3 `email`: "Matches against any of the candidate's email addresses, case-insensitively"
        (harvestdocs.greenhouse.io/reference/get_v3-candidates).
        """
        if email is None:
            raise NotSupported(SPEC.label, "cannot search candidates by LinkedIn URL")
        params = {"email": email.strip().lower()}
        return [_to_candidate(item) for page in self._pages("/v3/candidates", params) for item in page.items]

    def iter_candidate_pages(self, since: str | None) -> Iterator[CandidatePage]:
        """Yield candidates updated at or after `since` (ISO time); each cursor is the newest time seen, never
        past the listing's start less the clocks' skew (`ChangesCursor`)."""
        params = {"updated_at": f"gte|{since}"} if since else {}
        cursor = ChangesCursor(_sort_time(since) or None, now=self._now(), skew=CLOCK_SKEW_SECONDS)
        for page in self._pages("/v3/candidates", params):
            candidates = tuple(_to_candidate(item) for item in page.items)
            # Results come newest id first, not by updated_at, so the cursor is a running maximum.
            at = cursor.advance(_sort_time(c.updated_at) for c in candidates if c.updated_at)
            yield CandidatePage(candidates, _iso_seconds(at))

    def create_prospect(
        self, person: NewCandidate, *, job_id: str | None, stage_id: str | None = None
    ) -> CreatedApplication:
        """Create a prospect, on `job_id` when given.

        v3 `POST /v3/candidates`: "Pass a nested `application` object to simultaneously create the candidate's
        first application — supply a `job_id` to create an applicant, or a `prospect_pool_id` (and omit
        `job_id`) to create a prospect"; the prospect shape takes `prospect` and `job_ids`
        (harvestdocs.greenhouse.io, Harvest v3 API reference). A prospect sits at a prospect-pool stage
        (`prospect_pool_stage_id`), never at one of the job's interview stages: "`stage_id` … `null` for
        prospect applications" (the application object); so `stage_id`, a job stage, does not apply.
        """
        application: dict[str, Any] = {
            "prospect": True,
            "job_ids": [_int_id(job_id, "job")] if job_id else [],
        }
        return self._create(person, application)

    def create_applicant(
        self, person: NewCandidate, *, job_id: str, stage_id: str | None
    ) -> CreatedApplication:
        """Create a candidate with one application on `job_id` at `stage_id` in a single call.

        The applicant shape of the nested `application` takes `job_id` and `initial_stage_id` (Harvest v3 API
        reference, `POST /v3/candidates`); the 201 answer is `{candidate, application}`.
        """
        application: dict[str, Any] = {"job_id": _int_id(job_id, "job")}
        if stage_id:
            application["initial_stage_id"] = _int_id(stage_id, "stage")
        return self._create(person, application)

    def add_to_job(
        self, candidate_id: str, *, job_id: str, stage_id: str | None, prospect: bool
    ) -> CreatedApplication:
        """Add an existing candidate to `job_id` with `POST /v3/applications`.

        "a candidate application (requires `candidate_id` + `job_id`) places the candidate at the job's first
        interview stage (or `initial_stage_id` when supplied); a prospect application (requires
        `candidate_id` + `prospect: true`) creates a prospect, optionally attached to one or more jobs via
        `job_ids`" (Harvest v3 API reference, `POST /v3/applications`).
        """
        body: dict[str, Any] = {"candidate_id": _int_id(candidate_id, "candidate")}
        if prospect:
            body |= {"prospect": True, "job_ids": [_int_id(job_id, "job")]}
        else:
            body["job_id"] = _int_id(job_id, "job")
            if stage_id:
                body["initial_stage_id"] = _int_id(stage_id, "stage")
        body |= self._source()
        created = self._request("POST", "/v3/applications", json=body).json()
        return CreatedApplication(
            candidate_id=str(candidate_id),
            application_id=str(created["id"]),
            profile_url=PROFILE_URL.format(id=candidate_id),
            raw=created,
        )

    def get_candidate(self, candidate_id: str) -> AtsCandidate | None:
        """Return the candidate, or None while Greenhouse does not show it yet."""
        found = self._request(
            "GET", "/v3/candidates", params={"ids": _int_id(candidate_id, "candidate")}
        ).json()
        return _to_candidate(found[0]) if found else None

    def visible_candidates(self, candidate_ids: Sequence[str]) -> set[str]:
        """Return those of these ids Greenhouse shows now: one `GET /v3/candidates?ids=` per 50 ids.

        v3 id filters take at most 50 comma-separated ids
        (https://harvestdocs.greenhouse.io/docs/list-endpoints).
        """
        # An id that is not an integer cannot be a Greenhouse candidate's, so it is not shown.
        ids = list(dict.fromkeys(str(i).strip() for i in candidate_ids if str(i).strip().isdigit()))
        shown: set[str] = set()
        for start in range(0, len(ids), IDS_PER_REQUEST):
            chunk = ids[start : start + IDS_PER_REQUEST]
            params = {"ids": ",".join(chunk), "per_page": IDS_PER_REQUEST}
            found = json_or_none(self._request("GET", "/v3/candidates", params=params)) or []
            shown.update(str(item["id"]) for item in found if isinstance(item, Mapping) and "id" in item)
        return shown

    def withdraw(self, record: CreatedRecord, *, reason: str) -> Withdrawn:
        """Undo an export: reject the application it created, with `reason` as the rejection's note.

        Greenhouse documents no delete of a prospect application (v1 "DELETE: Delete Application": "only
        candidate applications can be deleted, you cannot delete a prospect application"), and deleting a
        candidate would erase a person someone may have worked on since, so the application is rejected —
        as a recruiter would — for applicants and prospects alike: the v3 reject operation takes any
        application id, and its reference page sets no prospect restriction (v1's own example rejects with
        the note "The prospect is not qualified…"). Rejecting a prospect application takes the person out of
        the prospect pipeline of the jobs it was attached to; the candidate record stays.

        1. `GET /v3/applications?ids=<id>` reads the application now (v3 has no single-record GET; "Pass
           `ids` directly to fetch specific applications by id", harvestdocs.greenhouse.io/reference/
           get_v3-applications). Empty: `NotFound`.
        2. Left alone (`ChangedSince`, nothing sent) when its `status` is not `in_process` (rejected, hired,
           or a prospect `converted` to a candidate — the status enum of the v3 application object), when
           it now belongs to another candidate (merged) or another job (transferred), or, for an applicant,
           when its `job_interview_stage_id` is not the stage the export placed it at: `record.stage_id`,
           else the job's first interview stage, where `POST /v3/applications` "places the candidate"
           without `initial_stage_id` (Harvest v3 API reference). A prospect has no job stage (`stage_id`
           and `job_interview_stage_id` are "`null` for prospect applications", the application object);
           the prospect-pool stage is not compared (docs silent on how to read it for one application).
        3. A rejection reason is needed ("`rejection_reason_id` is required (look up valid reasons via
           `GET /v3/rejection_reasons`)"): see `_withdraw_reason`.
        4. `POST /v3/applications/{id}/reject` `{rejection_reason_id, notes}` → 204 (post_v3-applications-
           id-reject). No `rejection_email` is sent, so the candidate gets no email ("Pass a
           `rejection_email` object to send the candidate a templated rejection email").

        The read and the reject are two requests; the docs offer no conditional write. A 422 from the reject
        (its documented error besides 401/403) is read again: an application no longer `in_process` was
        changed in between (`ChangedSince`).

        Raises:
            ChangedSince: rejected, hired, converted, merged, transferred or moved since the export.
            NotFound: the application is gone, or the record holds no application id.
            NotSupported: the account has no rejection reason fit for an export taken back.
        """
        if not record.application_id:
            raise NotFound(SPEC.label, "the export holds no Greenhouse application id to reject")
        application_id = _int_id(record.application_id, "application")
        application = self._withdrawable(record, application_id)
        chosen = self._withdraw_reason()
        # "Reject application": path `id` (integer, required); body `rejection_reason_id` (integer, required),
        # `notes` (string), `rejection_email` (object), `custom_fields`; answers 204 No Content, 401, 403, 422
        # (harvestdocs.greenhouse.io/reference/post_v3-applications-id-reject). The page lists no 404 for an
        # unknown id (docs silent); the classifier would raise it as NotFound.
        body = {"rejection_reason_id": int(chosen["id"]), "notes": reason}
        try:
            self._request("POST", f"/v3/applications/{application_id}/reject", json=body)
        except ValidationFailed:
            current = self._application(application_id)
            if current is None:
                raise NotFound(SPEC.label, f"application {application_id} no longer exists") from None
            if current.get("status") != ACTIVE_STATUS:
                raise ChangedSince(
                    SPEC.label, f"application {application_id} was {current.get('status')} meanwhile"
                ) from None
            raise
        name = str(chosen.get("name") or chosen["id"])
        where = f"job {application['job_id']}" if application.get("job_id") else "the prospect pipeline"
        return Withdrawn(
            WithdrawAction.REJECTED,
            f"application {application_id} on {where} rejected in Greenhouse with the reason “{name}” and "
            f"the note “{reason}” (no email sent to the candidate)",
        )

    # --- two-way sync ----------------------------------------------------------------------------------

    def record_status(self, record: CreatedRecord) -> RecordStatus:
        """Return where the export's application (or, without one, its person) stands now.

        `GET /v3/applications?ids=<id>` ("Pass `ids` directly to fetch specific applications by id", HD-OAS
        "List applications"); none: NotFound. A prospect application `converted` to a candidate application
        is followed to the candidate's application on one of its jobs (the prospect "must already be linked
        to that job", `convert_to_candidate`), which is where its stages go on. A record without an
        application id (a person found in Greenhouse, a prospect without a job) is read as the candidate
        (`GET /v3/candidates?ids=`): no application, so no stage activity. Mapping: `_application_status`.

        Raises:
            NotFound: the application (or the candidate) is gone.
        """
        if not record.application_id:
            return self._person_status(record)
        application_id = _int_id(record.application_id, "application")
        application = self._application(application_id)
        if application is None:
            raise NotFound(SPEC.label, f"has no application {application_id} any more (deleted or merged)")
        if application.get("status") == "converted":
            application = self._converted_to(application) or application
        return self._to_status(application)

    def iter_status_pages(self, since: str | None) -> Iterator[StatusPage]:
        """Yield applications (prospect applications too) updated at or after `since` (ISO 8601).

        `GET /v3/applications?updated_at=gte|<date-time>` (pipe-delimited, HD-OAS "List applications"),
        followed through `Link: rel="next"` cursors; results come newest id first, not by `updated_at`. The
        cursor is the newest `updated_at` seen, never past the listing's start less the clocks' skew
        (`ChangesCursor`).
        """
        params = {"updated_at": f"gte|{since}"} if since else {}
        cursor = ChangesCursor(_sort_time(since) or None, now=self._now(), skew=CLOCK_SKEW_SECONDS)
        for page in self._pages("/v3/applications", params):
            applications = [a for a in page.items if isinstance(a, Mapping)]
            at = cursor.advance(_sort_time(a.get("updated_at")) for a in applications if a.get("updated_at"))
            yield StatusPage(tuple(self._to_status(a) for a in applications), _iso_seconds(at))

    def read_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        """Verify a Greenhouse web hook and return the change it announces.

        "Signature: sha256 37d2…": "the SHA algorithm used to generate the signature, a space, and the
        signature … compute the HMAC digest using your secret key and the body and compare it to the signature
        portion (after the space)"; the body is "the entire content of the JSON response", exactly as sent, as
        Greenhouse escapes Unicode before signing ("Authentication",
        https://developers.greenhouse.io/webhooks.html#authentication). The scheme has no timestamp;
        redeliveries ("up to 7 attempts over the course of 15 hours") are told apart by `delivery_id`, built
        from the payload: the action, the application (or person) and its `last_activity_at` or stage, which a
        retry keeps. Actions outside `WEBHOOK_EVENTS` and `application_updated` (the create-time ping, jobs,
        offers …) verify and announce nothing.

        Raises:
            WebhookRejected: no secret stored, a body over 1 MB, no or a wrong `Signature`, a body that is not
                Greenhouse's `{action, payload}`.
        """
        body = capped_body(
            SPEC.label,
            body,
            limit=MAX_WEBHOOK_BYTES,
            too_large="sent a web hook body over 1 MB; it was not read",
        )
        secret = self._config.secrets.get("webhook_secret")
        if not secret:
            raise WebhookRejected(
                SPEC.label,
                "sent a web hook, but no secret key is stored for this connection to check it with",
                hint="Reconnect Greenhouse (/scaleup connect) and use the secret key it shows in the web hooks.",
            )
        algorithm, _, digest = (header(headers, "Signature") or "").strip().partition(" ")
        if algorithm.lower() != "sha256" or not digest.strip():
            raise WebhookRejected(SPEC.label, "sent a web hook without a sha256 Signature header")
        # The hex digest is compared whatever its case.
        if not signature_matches(digest.strip().lower(), hmac_sha256(secret, body).hex()):
            raise WebhookRejected(SPEC.label, "sent a web hook whose signature does not match")
        not_greenhouse = "sent a web hook that is not shaped like Greenhouse's"
        message = json_object(
            SPEC.label, body, not_json="sent a web hook body that is not JSON", not_object=not_greenhouse
        )
        action, payload = message.get("action"), message.get("payload")
        if not isinstance(action, str):
            raise WebhookRejected(SPEC.label, not_greenhouse)
        if action not in APPLICATION_EVENTS | PERSON_EVENTS | {"delete_application"}:
            return []
        try:
            return _webhook_events(action, payload)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            raise WebhookRejected(SPEC.label, f"sent a {action} web hook not shaped as documented") from None

    def register_webhooks(self, url: str) -> WebhookSetup:
        """Say which web hooks a Greenhouse admin creates where; nothing is registered through the API.

        Web hooks have "three components. A name, an endpoint URL, and a secret key" (webhooks.html, "Creating
        a webhook"), made under Configure → Dev Center → Web Hooks → Web Hooks with a "When" event each
        (https://support.greenhouse.io/hc/en-us/articles/360005574531). Why not the API: see
        `SPEC.capabilities.webhook_registration`. The text never holds the secret.
        """
        names = ", ".join(WEBHOOK_EVENTS.values())
        return WebhookSetup(False, WEBHOOK_SETUP.format(names=names, url=url), tuple(WEBHOOK_EVENTS))

    def read_contact(self, candidate_id: str) -> ContactDetails:
        """Return the candidate's name, addresses, phones and LinkedIn URL as Greenhouse holds them.

        `GET /v3/candidates?ids=<id>` (v3 has no single-record GET, HD-ref get_v3-candidates). A deleted
        candidate, and one merged into another, is not listed: `NotFound`. The list does not say which
        candidate a merged one went into (the "Candidate merged" web hook does, webhooks.html), so
        `merged_into` stays None.

        Raises:
            NotFound: the candidate does not exist (any more).
        """
        return _contact_details(self._contact_person(candidate_id))

    def update_contact(self, candidate_id: str, patch: ContactPatch, *, current: ContactDetails) -> None:
        """Write what `patch` changes relative to `current` with one `PATCH /v3/candidates/{id}`.

        "Only the keys included in the request body are modified … Array fields (`phone_numbers`, …
        `email_addresses`, `website_addresses`, `social_media_addresses` …) replace the existing collection
        wholesale — send the full desired list, not a delta" (HD-OAS "Update candidate"). So the names go as
        they are, and a changed list is sent whole: the candidate is read again (`GET /v3/candidates?ids=`)
        so each entry keeps its type (`current` holds values only) and an entry added since `current` was
        read is kept; the patch is applied to that list. An address leaves only when `patch.remove_emails`
        names it; a phone is added (as `mobile`) beside the others; the LinkedIn URL replaces the listed
        LinkedIn entry in place (other social entries stay). Types: email `personal|work|other`, phone
        `home|work|mobile|skype|other`; a listed entry of another type is sent back as `other`. Nothing is
        sent when nothing changes. The docs offer no conditional write: an entry a person adds between that
        second read and the write is not in the list sent.

        Raises:
            NotFound: the candidate does not exist (any more).
        """
        change = effective(patch, current, SPEC.capabilities.contact_fields)
        if change.empty:
            return
        body: dict[str, Any] = {}
        if change.first_name:
            body["first_name"] = change.first_name  # maxLength 255 (HD-OAS); a longer one is a 422
        if change.last_name:
            body["last_name"] = change.last_name
        if change.add_emails or change.remove_emails or change.phone or change.linkedin_url:
            body |= _contact_lists(self._contact_person(candidate_id), change)
        if body:
            self._request("PATCH", f"/v3/candidates/{_int_id(candidate_id, 'candidate')}", json=body)

    def _contact_person(self, candidate_id: str) -> Mapping[str, Any]:
        person = self._candidate(_int_id(candidate_id, "candidate"))
        if person is None:
            raise NotFound(SPEC.label, f"has no candidate {candidate_id} any more (deleted or merged)")
        return person

    def close(self) -> None:
        """Release the HTTP connections."""
        self.http.close()

    # --- internals -------------------------------------------------------------------------------------

    def _create(self, person: NewCandidate, application: dict[str, Any]) -> CreatedApplication:
        body = _person_body(person) | {"application": application | self._source()}
        created = self._request("POST", "/v3/candidates", json=body).json()
        candidate_id = str(created["candidate"]["id"])
        app = created.get("application") or {}
        # The 201's ids are authoritative, but Greenhouse may answer before the record is readable ("There
        # may be a delay… truncated API response", and a 404 on reading it until it is ready:
        # https://developers.greenhouse.io/harvest.html#post-add-candidate). So the create is not read
        # back here: the export engine confirms a batch of creates with one `visible_candidates` request.
        return CreatedApplication(
            candidate_id=candidate_id,
            application_id=str(app["id"]) if app.get("id") is not None else None,
            profile_url=PROFILE_URL.format(id=candidate_id),
            visible=False,
            raw=created,
        )

    def _application(self, application_id: int) -> Mapping[str, Any] | None:
        return self._listed("applications", application_id)

    def _candidate(self, candidate_id: int) -> Mapping[str, Any] | None:
        return self._listed("candidates", candidate_id)

    def _listed(self, kind: str, item_id: int) -> Mapping[str, Any] | None:
        """Return the one of `kind` ("applications", "candidates") with `item_id`, as `GET /v3/<kind>?ids=<id>`
        lists it, or None when the list does not hold it."""
        found = json_or_none(self._request("GET", f"/v3/{kind}", params={"ids": item_id}))
        if not isinstance(found, list):
            raise VendorUnavailable(SPEC.label, f"answered the {kind} list with something not a list")
        return next((i for i in found if isinstance(i, Mapping) and str(i.get("id")) == str(item_id)), None)

    def _person_status(self, record: CreatedRecord) -> RecordStatus:
        """Return the status of a record without an application: the person, with no stage activity."""
        person = self._candidate(_int_id(record.candidate_id, "candidate"))
        if person is None:
            raise NotFound(SPEC.label, f"has no candidate {record.candidate_id} any more (deleted or merged)")
        return RecordStatus(
            candidate_id=str(person["id"]),
            application_id=None,
            job_id=record.job_id,
            prospect=True,
            status=AtsStatus.ACTIVE,
            updated_at=_utc(person.get("last_activity_at") or person.get("updated_at")),
            record_url=PROFILE_URL.format(id=person["id"]),
        )

    def _converted_to(self, prospect: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """Return the candidate application a converted prospect application became, when one is found."""
        jobs = {str(j) for j in [prospect.get("job_id"), *(prospect.get("prospective_job_ids") or [])] if j}
        params = {"candidate_ids": prospect.get("candidate_id")}
        found = [
            a
            for page in self._pages("/v3/applications", params)
            for a in page.items
            if isinstance(a, Mapping) and not a.get("prospect") and (not jobs or str(a.get("job_id")) in jobs)
        ]
        return max(found, key=lambda a: int(a.get("id") or 0), default=None)

    def _withdrawable(self, record: CreatedRecord, application_id: int) -> Mapping[str, Any]:
        """Return the application as Greenhouse shows it now, or raise when it must be left alone."""
        application = self._application(application_id)
        if application is None:
            raise NotFound(
                SPEC.label,
                f"has no application {application_id} any more (deleted, or not visible to these credentials)",
                hint="Nothing to undo in Greenhouse: the application is already gone.",
            )
        label = f"application {application_id}"
        status = application.get("status")
        if status != ACTIVE_STATUS:
            raise ChangedSince(SPEC.label, f"{label} is {status} already; left as it is")
        if str(application.get("candidate_id")) != str(record.candidate_id):
            raise ChangedSince(
                SPEC.label, f"{label} belongs to another candidate now (merged); left as it is"
            )
        if record.prospect:
            return application
        if record.job_id and str(application.get("job_id")) != str(record.job_id):
            raise ChangedSince(SPEC.label, f"{label} was moved to another job; left as it is")
        expected = record.stage_id
        if expected is None and application.get("job_id") is not None:
            stages = self.list_stages(str(application["job_id"]))
            expected = stages[0].id if stages else None  # where the export put it
        current = application.get("job_interview_stage_id")
        if expected is not None and str(current) != str(expected):
            shown = application.get("stage_name") or current
            raise ChangedSince(SPEC.label, f"{label} was moved to the stage {shown}; left as it is")
        return application

    def _withdraw_reason(self) -> Mapping[str, Any]:
        """Return the rejection reason an undone export is filed under (read once per adapter).

        `GET /v3/rejection_reasons?include_defaults=true`: reasons are "Customized per organization under
        Configure > Custom Options > Rejection Reasons … pass `include_defaults=true` to also return the
        standard reasons that ship with every account", each grouped under a `type` of "We rejected them",
        "They rejected us", "None specified" or "Security concern"
        (harvestdocs.greenhouse.io/reference/get_v3-rejection-reasons). `REJECTION_TYPES` gives the order;
        a name with a `MISTAKE_WORDS` word wins within a type, then the lowest id.
        """
        if self._rejection_reason is not None:
            return self._rejection_reason
        reasons = self._rejection_reasons()

        def rank(item: Mapping[str, Any]) -> tuple[int, int, int]:
            name = str(item.get("name") or "").casefold()
            return (
                REJECTION_TYPES.index(_reason_type(item)),
                0 if any(word in name for word in MISTAKE_WORDS) else 1,
                int(item["id"]),
            )

        fit = [item for item in reasons if _reason_type(item) in REJECTION_TYPES]
        if not fit:
            raise NotSupported(
                SPEC.label, "has no rejection reason to file an undone export under", hint=REASON_HINT
            )
        self._rejection_reason = min(fit, key=rank)
        return self._rejection_reason

    def _rejection_reasons(self, *, again: bool = False) -> list[Mapping[str, Any]]:
        """Return the account's rejection reasons, the standard ones too (read once per adapter, or `again`)."""
        if self._reasons is None or again:
            self._reasons = [
                item
                for page in self._pages("/v3/rejection_reasons", {"include_defaults": "true"})
                for item in page.items
                if isinstance(item, Mapping) and item.get("id") is not None
            ]
        return self._reasons

    def _reason_name(self, reason_id: Any) -> str | None:
        """Return the name of rejection reason `reason_id`; an id not listed reads the list again, once."""
        if reason_id is None or str(reason_id) in self._unnamed:
            return None
        for again in (False, True):
            for item in self._rejection_reasons(again=again):
                if str(item["id"]) == str(reason_id):
                    return str(item.get("name") or "") or None
        self._unnamed.add(str(reason_id))
        return None

    def _to_status(self, application: Mapping[str, Any]) -> RecordStatus:
        """Map a v3 application to where it stands, naming its rejection reason (`_application_status`)."""
        status = _application_status(application)
        if status.status is AtsStatus.REJECTED:
            return replace(status, reason=self._reason_name(application.get("rejection_reason_id")))
        return status

    def _source(self) -> dict[str, Any]:
        # The source credited sits on the application, not the person: Harvest "POST: Add Candidate" takes
        # `applications`, "See [Add Application] for parameters", whose candidate and prospect application
        # bodies both list "source_id | No | integer | The id of the source to be credited for this
        # application" (grnhse/greenhouse-api-docs, source/includes/harvest/_candidates.md and
        # _applications.md, "POST: Add Application to Candidate/Prospect"; v1, commit 0c37c31). The v3 pages
        # (harvestdocs.greenhouse.io/reference/post_v3-candidates, post_v3-applications) are not in our
        # stored copy, so v3's own wording is unchecked: we keep v1's documented name and integer type.
        source_id = self._config.fields.get("source_id")
        return {"source_id": int(source_id)} if source_id and source_id.isdigit() else {}

    def _pages(self, path: str, params: Mapping[str, Any]) -> Iterator[Page]:
        first = {**params, "per_page": self._page_size}

        def fetch(next_url: str | None) -> httpx.Response:
            # Follow rel="next" exactly as given: with a cursor, no other query parameter is allowed.
            return self._request("GET", next_url) if next_url else self._request("GET", path, params=first)

        return paginate(fetch, items=lambda r: json_or_none(r) or [], next_token=link_next, vendor=SPEC.label)

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        token = self._access_token()
        try:
            return self.http.request(method, url, headers=_bearer(token), **kwargs)
        except AuthFailed:
            # A token can die before `expires_at` (secret rotated, revoked): mint one more, once.
            log.info("Greenhouse refused the access token; minting a new one")
            fresh = self._access_token(stale=token)
            return self.http.request(method, url, headers=_bearer(fresh), **kwargs)

    def _access_token(self, *, stale: str | None = None) -> str:
        with self._token_lock:
            cached = self._token
            if cached and cached[0] != stale and self._now() < cached[1] - TOKEN_MARGIN:
                return cached[0]
            self._token = self._mint_token()
            return self._token[0]

    def _mint_token(self) -> tuple[str, float]:
        form = {"grant_type": "client_credentials"}
        if self._config.fields.get("user_id"):
            form["sub"] = self._config.fields["user_id"]
        auth = (self._config.secrets.get("client_id", ""), self._config.secrets.get("client_secret", ""))
        response = self.http.request("POST", self._token_url, data=form, auth=auth, idempotent=True)
        body = json_or_none(response) or {}
        token = body.get("access_token")
        if not token:
            raise AuthFailed(SPEC.label, "the token endpoint answered without an access token")
        return str(token), self._expiry(body)

    def _expiry(self, body: Mapping[str, Any]) -> float:
        # The stored v3 authentication guide shows only the request. Greenhouse's own PHP client refuses a
        # token answer without `token_type`, `access_token` and `expires_at` (grnhse/greenhouse-tools-php,
        # src/Clients/HarvestAuthClient.php), so `expires_at` is read first; `expires_in` and a default
        # lifetime are fallbacks for answers that lack it (docs silent).
        if body.get("expires_at"):
            try:
                return datetime.fromisoformat(str(body["expires_at"])).timestamp()
            except ValueError:
                pass
        if isinstance(body.get("expires_in"), int | float):
            return self._now() + float(body["expires_in"])
        return self._now() + DEFAULT_TOKEN_LIFETIME


def _default_token_url(base_url: str | None) -> str:
    if not base_url:
        return TOKEN_URL
    url = httpx.URL(base_url)
    return str(url.copy_with(path="/token", query=None, fragment=None))


def _reason_type(item: Mapping[str, Any]) -> str:
    kind = item.get("type")
    return str(kind.get("name") if isinstance(kind, Mapping) else "").strip().casefold()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _int_id(value: str, kind: str) -> int:
    """Return a Greenhouse id as the integer v3 expects; anything else cannot exist there."""
    try:
        return int(str(value).strip())
    except ValueError:
        raise NotFound(SPEC.label, f"{kind} {value!r} does not exist") from None


def _sort_time(value: str | None) -> float:
    return datetime.fromisoformat(value).timestamp() if value else 0.0


def _iso_seconds(value: float | None) -> str | None:
    """Return epoch seconds as v3's ISO 8601 UTC with milliseconds (`2024-12-15T03:55:00.000Z`)."""
    if value is None:
        return None
    return datetime.fromtimestamp(value, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _utc(value: Any) -> str | None:
    """Return a Greenhouse time (API `…000Z`, web hook `…Z`) in one form, so stamps of both compare."""
    try:
        return _iso_seconds(_sort_time(str(value))) if value else None
    except ValueError:
        return None


def _contact_list(entries: Any, types: frozenset[str] | set[str]) -> list[dict[str, str]]:
    """Return a candidate's `{value, type}` list as `PATCH` takes it back (an unknown type becomes `other`)."""
    kept = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, Mapping) and entry.get("value"):
            kind = str(entry.get("type") or "").strip()
            kept.append({"value": str(entry["value"]), "type": kind if kind in types else "other"})
    return kept


def _contact_lists(person: Mapping[str, Any], change: ContactPatch) -> dict[str, Any]:
    """Return the whole lists `change` alters on `person` (as read now), the patch applied; only those that
    differ from what `person` holds."""
    body: dict[str, Any] = {}
    emails = _contact_list(person.get("email_addresses"), set(EMAIL_TYPES.values()))
    by_key = {email_key(e["value"]): e for e in emails}
    added = {
        email_key(e.address): {"value": e.address, "type": EMAIL_TYPES[e.type]} for e in change.add_emails
    }
    wanted = patched_emails([e["value"] for e in emails], change)
    new_emails = [by_key.get(email_key(v)) or added[email_key(v)] for v in wanted]
    if new_emails != emails:
        body["email_addresses"] = new_emails
    phones = _contact_list(person.get("phone_numbers"), PHONE_TYPES)
    if change.phone and phone_digits(change.phone) not in {phone_digits(p["value"]) for p in phones}:
        body["phone_numbers"] = [*phones, {"value": change.phone, "type": PHONE_TYPE}]
    social = [
        {"value": str(s["value"])}
        for s in person.get("social_media_addresses") or []
        if isinstance(s, Mapping) and s.get("value")
    ]
    if change.linkedin_url and url_key(change.linkedin_url) not in {url_key(s["value"]) for s in social}:
        at = next((i for i, s in enumerate(social) if is_linkedin(s["value"])), None)
        entry = {"value": change.linkedin_url}
        body["social_media_addresses"] = (
            [*social, entry] if at is None else [*social[:at], entry, *social[at + 1 :]]
        )
    return body


def _contact_details(person: Mapping[str, Any]) -> ContactDetails:
    """Return a v3 candidate's contact details (the candidate object, HD-OAS)."""

    def values(key: str) -> tuple[str, ...]:
        entries = person.get(key)
        return tuple(
            str(e["value"]).strip()
            for e in (entries if isinstance(entries, list) else [])
            if isinstance(e, Mapping) and e.get("value")
        )

    return ContactDetails(
        first_name=person.get("first_name") or None,
        last_name=person.get("last_name") or None,
        emails=values("email_addresses"),
        phones=values("phone_numbers"),
        linkedin_url=next((s for s in values("social_media_addresses") if is_linkedin(s)), None),
    )


@odd_answers_are_errors(SPEC.label, "an application")
def _application_status(application: Mapping[str, Any]) -> RecordStatus:
    """Map a v3 application (HD-OAS application object) to where it stands; the reason is named later.

    `status` by `APPLICATION_STATUS`; `stage_name` and `job_interview_stage_id` ("the job interview stage
    definition (see `GET /v3/job_interview_stages`)") — both `null` "for prospect applications", and the id
    also for "applications in a terminal state"; `job_id` ("`null` for jobless prospect applications"), else
    the first of `prospective_job_ids`; `updated_at`: `last_activity_at` ("the most recent activity on this
    application … stage changes"), else `updated_at`. The record URL is the one Greenhouse's web hooks send.
    """
    prospect = bool(application.get("prospect"))
    job = application.get("job_id") or next(iter(application.get("prospective_job_ids") or []), None)
    status = APPLICATION_STATUS[str(application["status"])]
    stage_id = (
        None if prospect or status is not AtsStatus.ACTIVE else application.get("job_interview_stage_id")
    )
    return RecordStatus(
        candidate_id=str(application["candidate_id"]),
        application_id=str(application["id"]),
        job_id=str(job) if job is not None else None,
        prospect=prospect,
        status=status,
        stage=None if prospect else (application.get("stage_name") or None),
        stage_id=str(stage_id) if stage_id is not None else None,
        updated_at=_utc(application.get("last_activity_at") or application.get("updated_at")),
        record_url=RECORD_URL.format(candidate=application["candidate_id"], application=application["id"]),
    )


def _webhook_events(action: str, payload: Mapping[str, Any]) -> list[WebhookEvent]:
    """Return what one verified web hook announces (Application and Candidate Events, webhooks.html).

    Raises KeyError, TypeError or ValueError for a payload not shaped as documented (`read_webhook` says so).
    """
    if action in PERSON_EVENTS:
        # `payload.person`: the deleted (or merged-away) candidate; `new_candidate_id` is the merge's winner.
        person = payload["person"]
        winner = _webhook_id(person.get("new_candidate_id"), optional=True) or ""
        delivery = f"greenhouse:{action}:{_webhook_id(person['id'])}:{winner}"
        return [WebhookEvent(delivery, action, _webhook_id(person["id"]))]
    application = payload["application"]
    application_id = _webhook_id(application["id"])
    nested = application.get("candidate") or {}
    candidate = _webhook_id(application.get("candidate_id") or nested.get("id"), optional=True)
    if action == "delete_application":
        return [WebhookEvent(f"greenhouse:{action}:{application_id}", action, candidate, application_id)]
    status = _webhook_status(application, candidate)
    stage = (application.get("current_stage") or {}).get("id")
    stamp = application.get("last_activity_at") or (application.get("offer") or {}).get("id") or ""
    state = application.get("status") or ""
    delivery = f"greenhouse:{action}:{application_id}:{state}:{stage or ''}:{stamp}"
    return [WebhookEvent(delivery, action, candidate, application_id, status)]


def _webhook_status(application: Mapping[str, Any], candidate: str | None) -> RecordStatus | None:
    """Return the status a web hook's application shows, or None when the payload is not the whole picture.

    The hired event carries no `status`, `current_stage` or `last_activity_at` (its example): None, and the
    receiver reads the application. Otherwise as `_application_status`, from the web hook's fields:
    `current_stage` {id, name} (`null` for prospects), `jobs[]` ("Candidates will have one job. Prospects
    will have 0 or more jobs"), `rejection_reason.name`, `last_activity_at`. Greenhouse does not say whether
    `current_stage.id` is the job interview stage's id (UNSURE): the name is what Slack shows.
    """
    status = WEBHOOK_STATUS.get(str(application.get("status")))
    if status is None or candidate is None or not application.get("last_activity_at"):
        return None
    prospect = bool(application.get("prospect"))
    stage = application.get("current_stage") if not prospect else None
    stage = stage if isinstance(stage, Mapping) else {}
    jobs = [j for j in application.get("jobs") or [] if isinstance(j, Mapping)]
    reason = application.get("rejection_reason") if status is AtsStatus.REJECTED else None
    return RecordStatus(
        candidate_id=str(candidate),
        application_id=str(application["id"]),
        job_id=_text(jobs[0].get("id")) if jobs else None,
        prospect=prospect,
        status=status,
        stage=stage.get("name") or None,
        stage_id=_text(stage.get("id")) if status is AtsStatus.ACTIVE else None,
        reason=(reason.get("name") or None) if isinstance(reason, Mapping) else None,
        updated_at=_utc(application.get("last_activity_at")),
        record_url=RECORD_URL.format(candidate=candidate, application=application["id"]),
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _webhook_id(value: Any, *, optional: bool = False) -> str | None:
    """Return a web hook's id (an integer in every example) as text; anything else is not Greenhouse's shape."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip():
        raise ValueError("not an id")
    return str(value).strip()


def _person_body(person: NewCandidate) -> dict[str, Any]:
    body: dict[str, Any] = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email_addresses": [{"value": e.address, "type": EMAIL_TYPES[e.type]} for e in person.emails],
    }
    if person.title:
        body["title"] = person.title
    if person.company:
        body["company"] = person.company
    if person.phone:
        body["phone_numbers"] = [{"value": person.phone, "type": "mobile"}]
    if person.linkedin_url:
        # v3 social_media_addresses are untyped {value} (HD-OAS); v1's `type` would be rejected.
        body["social_media_addresses"] = [{"value": person.linkedin_url}]
    if person.tags:
        body["tags"] = list(person.tags)  # unknown tags are created on the fly
    return body


@odd_answers_are_errors(SPEC.label, "a job")
def _to_job(item: Mapping[str, Any]) -> Job:
    return Job(
        id=str(item["id"]),
        name=str(item.get("name") or ""),
        status=str(item.get("status") or ""),
        is_open=item.get("status") == "open",
        raw=item,
    )


@odd_answers_are_errors(SPEC.label, "a stage")
def _to_stage(item: Mapping[str, Any]) -> Stage:
    return Stage(
        id=str(item["id"]),
        name=str(item.get("name") or ""),
        order=int(item.get("sort_order") or 0),
        job_id=str(item["job_id"]) if item.get("job_id") is not None else None,
        for_prospects=False,  # job interview stages hold applications, never prospects
        raw=item,
    )


@odd_answers_are_errors(SPEC.label, "a candidate")
def _to_candidate(item: Mapping[str, Any]) -> AtsCandidate:
    emails = tuple(
        str(e["value"]).strip().lower() for e in item.get("email_addresses") or [] if e.get("value")
    )
    linkedin = next(
        (
            s["value"]
            for s in item.get("social_media_addresses") or []
            if "linkedin." in str(s.get("value", ""))
        ),
        None,
    )
    name = " ".join(p for p in (item.get("first_name"), item.get("last_name")) if p)
    return AtsCandidate(
        id=str(item["id"]),
        name=name,
        emails=emails,
        linkedin_url=linkedin,
        profile_url=PROFILE_URL.format(id=item["id"]),
        updated_at=item.get("updated_at"),
        raw=item,
    )
