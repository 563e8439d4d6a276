"""Ashby adapter: an RPC API where every call is `POST /<object>.<action>` with a JSON body.

Reference: https://developers.ashbyhq.com/ (mirrored as OpenAPI 3.1 in tests/specs/ashby-openapi.yml).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import httpx

from ats.base import ConnectionConfig, RateBudget, visible_one_by_one
from ats.classify import odd_answers_are_errors
from ats.contact_patch import effective
from ats.errors import (
    AlreadyExists,
    AtsError,
    ChangedSince,
    NotFound,
    NotSupported,
    PermissionMissing,
    RateLimited,
    ValidationFailed,
    VendorUnavailable,
    WebhookRejected,
)
from ats.http import AtsHttp, HttpOptions, StatusClassifier, build_http, json_or_none
from ats.pagination import paginate
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
from ats.values import utc_stamp
from ats.webhook_checks import body_digest, capped_body, header, hmac_sha256, json_object, signature_matches
from core.ttl import TtlMemory
from core.vocabulary import WEBHOOK_IDS_FIELD, Vendor

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.ashbyhq.com"
MAX_PAGE_SIZE = 100  # job.list / candidate.list `limit`: "The maximum and default value is 100."

SPEC = VendorSpec(
    vendor=Vendor.ASHBY,
    label="Ashby",
    credentials=(
        CredentialField(
            "api_key",
            "API key",
            secret=True,
            hint=(
                "Admin → API Keys (candidatesRead/Write, jobsRead, hiringProcessMetadataRead; apiKeysWrite "
                "lets ScaleUp create its webhooks)"
            ),
        ),
        CredentialField("source_id", "Source ID", secret=False, required=False),
    ),
    primary_secret="api_key",
    # 100 requests/min per key is 3rd-party and UNSURE; stay well under it.
    # https://developers.ashbyhq.com/
    rate_limit=VendorLimit(limit=80, window=60.0),
    capabilities=Capabilities(
        export_prospects=True,
        prospect_stages=True,  # a "Lead" stage of the job's interview plan (application.create)
        export_applicants=True,
        multiple_emails=True,  # candidate.create `alternateEmailAddresses`
        linkedin_search=False,  # candidate.search takes only `email` and `name`
        candidate_sync=True,  # candidate.list with `syncToken`
        add_to_job=True,  # application.create on an existing candidate
        # Ashby's API reference says nothing of when a created candidate can be read (docs silent); Ashby
        # tells its customers that new records take "a short processing time, typically a couple of seconds
        # to a minute or two". So a create stays `processing` until `candidate.info` (documented) shows it.
        delayed_visibility=True,
        # application.changeStage to the plan's `Archived` stage with an `archiveReasonId` (see `withdraw`).
        # A candidate without an application cannot be taken back: the API has no candidate delete/archive.
        withdraw=True,
        # application.info / application.list with `syncToken` (see `record_status`, `iter_status_pages`).
        status_sync=True,
        # Signed with `Ashby-Signature` (https://developers.ashbyhq.com/docs/authenticating-webhooks) and
        # created through `webhook.create` when the key has apiKeysWrite (see `register_webhooks`).
        webhooks=True,
        webhook_registration=True,
        # candidate.update (https://developers.ashbyhq.com/reference/candidateupdate; ashby-openapi.yml
        # `/candidate.update`) takes `name` ("The first and last name"), `alternateEmail` ("An alternate email
        # address to add"), `phoneNumber` and `linkedInUrl`. No REMOVE_EMAIL: no documented operation takes an
        # address off a candidate (`email` replaces the primary one, which is not a removal the app asked for).
        contact_fields=frozenset(
            {ContactField.NAME, ContactField.EMAILS, ContactField.PHONE, ContactField.LINKEDIN}
        ),
    ),
)

# --- vendor vocabulary ---------------------------------------------------------------------------------

OPEN_JOB_STATUSES = ("Open",)
"""`job.list` `status` filter for jobs candidates can be exported to (Draft/Closed/Archived are not)."""

UNPLACEABLE_STAGE_TYPES = frozenset({"Archived"})
"""Stage types `application.create` cannot take without more data (Archived needs an archive reason)."""

LEAD_STAGE_TYPE = "Lead"
"""Stage type of leads (prospects); an application at any other type is an applicant."""

APPLICANT_STAGE_TYPES = ("PreInterviewScreen", "Active")
"""Stage types that make an application an applicant rather than a lead, in the order they are preferred."""

ARCHIVED_STAGE_TYPE = "Archived"
"""Stage type `application.changeStage` archives to; it "must" come with an `archiveReasonId`."""

CLOSED_APPLICATION_STATUSES = frozenset({"Archived", "Hired"})
"""application `status` values (enum Hired/Archived/Active/Lead) that say a person already decided."""

WITHDRAW_REASON_TYPE = "Other"
"""archiveReason `reasonType` (RejectedByCandidate/RejectedByOrg/Other) for an export taken back: neither
the candidate nor the company rejected anyone, the record was sent by mistake."""

WITHDRAW_REASON_WORDS = ("mistake", "error", "accident")
"""Words of an archive reason's `text` that fit "exported by mistake" better than a bare "Other"."""

METADATA_TTL = 300.0
"""Seconds the sources and the stages used for default placement are reused before being asked again."""

# errorInfo.code → error class for the HTTP-200 `success: false` answers. Only these codes are documented
# (the error schema and report.generate examples in ashby-openapi.yml); others fall back to the suffix rules
# in `_error_class` (`*_not_found` is the spec's family: interview_stage_not_found, application_not_found…).
ERROR_CODES: Mapping[str, type[AtsError]] = {
    "invalid_input": ValidationFailed,
    "rate_limit_exceeded": RateLimited,
    "concurrent_limit_exceeded": RateLimited,
}

SYNC_TOKEN_EXPIRED = "sync_token_expired"
"""Ashby's answer to a too-old `syncToken`: start a full sync again. From the sync guide, not the OpenAPI
document (UNSURE of the exact code). https://developers.ashbyhq.com/docs/pagination-and-incremental-sync"""

SOCIAL_LINKEDIN = "LinkedIn"

HIRED_STATUS = "Hired"
ARCHIVED_STATUS = "Archived"
LEAD_STATUS = "Lead"
"""application `status` values (enum Hired/Archived/Active/Lead, the `application` schema of the pushToHRIS
webhook that application.info and application.list return)."""

REJECTION_REASON_TYPES = frozenset({"RejectedByOrg", "RejectedByCandidate"})
"""archiveReason `reasonType`s that make an archived application a rejection; `Other` is an archive that
rejects nobody (an export taken back, a duplicate), reported as archived (archiveReason.list in the spec)."""

SIGNATURE_HEADER = "ashby-signature"
SIGNATURE_PREFIX = "sha256="
"""`Ashby-Signature: sha256=<hex>`: "The part before the = indicates the algorithm that was used to compute the
hash digest", an HMAC-SHA256 of the raw body keyed with the webhook's secret token
(https://developers.ashbyhq.com/docs/authenticating-webhooks)."""

MAX_WEBHOOK_BYTES = 1_048_576
"""Bodies above this are refused before any parsing. Ashby's application payloads are a few kilobytes (the
`application` schema); 1 MB leaves room for custom fields and hiring teams."""

APPLICATION_WEBHOOKS = frozenset(
    {"applicationSubmit", "applicationUpdate", "candidateHire", "candidateStageChange"}
)
"""Webhook actions whose `data.application` is the whole application: read into a `RecordStatus`."""

CANDIDATE_GONE_WEBHOOKS = {"candidateDelete": "candidate", "candidateMerge": "deletedCandidate"}
"""Webhook actions that say a candidate is gone, and the `data` key holding its `id` (candidateMerge names the
deleted duplicate and the `mergedCandidate` that remains)."""

REGISTERED_WEBHOOKS = ("applicationUpdate", "candidateDelete", "candidateMerge")
"""What `register_webhooks` creates, one webhook setting each (webhook.create takes one `webhookType`).
applicationUpdate is "Also triggered by candidateHire and candidateStageChange" (the webhook's description in
the spec), so stage changes, hires and archives arrive once each instead of two or three times."""

# `WEBHOOK_IDS_FIELD` (core.vocabulary) holds the ids of the webhook settings created before. Ashby's API has
# webhook.create/info/update/delete but no listing, so only a remembered id lets a second registration find
# the first instead of creating a duplicate.

WEBHOOK_SETTINGS_PAGE = "Admin → Integrations → Webhooks"
"""Where Ashby's webhooks are configured by hand (https://developers.ashbyhq.com/docs/setting-up-webhooks)."""


class SyncTokenExpired(ValidationFailed):
    """The stored candidate sync token is too old for Ashby; a full listing is needed."""

    code = "sync_token_expired"


# --- classification ------------------------------------------------------------------------------------


def _error_class(code: str) -> type[AtsError]:
    if code in ERROR_CODES:
        return ERROR_CODES[code]
    if code.endswith("_not_found"):
        return NotFound
    if "already_exists" in code or code.startswith("duplicate"):
        return AlreadyExists
    if "permission" in code:
        return PermissionMissing
    return AtsError  # an undocumented refusal: permanent, shown with Ashby's own message


def _error_info(body: Any) -> tuple[str, str]:
    """Return (code, message) of an Ashby error body."""
    if not isinstance(body, Mapping):
        return "unknown_error", "no details"
    info = body.get("errorInfo") if isinstance(body.get("errorInfo"), Mapping) else {}
    # `errors` is the deprecated list of codes; older endpoints still send only that.
    legacy = [str(e) for e in body.get("errors") or [] if isinstance(e, str)]
    code = str(info.get("code") or (legacy[0] if legacy else "unknown_error"))
    return code, str(info.get("message") or "; ".join(legacy) or code)


def _field_errors(body: Any, message: str) -> dict[str, str]:
    # `errorInfo.meta` is a free-form object in the spec; when it names a field, attach the message to it.
    info = body.get("errorInfo") if isinstance(body, Mapping) else None
    meta = info.get("meta") if isinstance(info, Mapping) else None
    if not isinstance(meta, Mapping):
        return {}
    if isinstance(meta.get("field"), str):
        return {meta["field"]: message}
    fields = meta.get("fields")
    return {str(k): str(v) for k, v in fields.items()} if isinstance(fields, Mapping) else {}


def _status_details(body: Any) -> tuple[str | None, dict[str, str]]:
    code, message = _error_info(body)
    return (None if code == "unknown_error" else message), {}


class AshbyClassifier:
    """Turn an Ashby response into a typed error, reading the body of HTTP-200 answers too.

    Ashby answers most failures with HTTP 200 and `{"success": false, "errorInfo": {"code", "message"}}`;
    only 401, 403 and 429 use real status codes (every operation's 200 response is `oneOf` success or the
    error schema in ashby-openapi.yml; https://developers.ashbyhq.com/reference).
    """

    def __init__(self) -> None:
        self._status = StatusClassifier(SPEC.label, details=_status_details)

    def __call__(self, response: httpx.Response) -> AtsError | None:
        """Return the error `response` stands for, or None for a successful answer."""
        if response.status_code >= 300:
            return self._status(response)
        body = json_or_none(response)
        if not isinstance(body, Mapping):
            return VendorUnavailable(SPEC.label, f"answered HTTP {response.status_code} without a JSON body")
        if body.get("success") is not False:
            return None
        code, message = _error_info(body)
        if code == SYNC_TOKEN_EXPIRED:
            return SyncTokenExpired(SPEC.label, "the candidate sync token expired")
        kind = _error_class(code)
        if kind is RateLimited:
            return RateLimited(SPEC.label, f"rate limit reached ({code})")
        if kind is ValidationFailed:
            fields = _field_errors(body, message)
            # With field messages the summary stays short: ValidationFailed appends them itself.
            text = f"rejected the request ({code})" if fields else f"rejected the request: {message} ({code})"
            return ValidationFailed(SPEC.label, text, field_errors=fields)
        return kind(SPEC.label, f"{message} ({code})")


# --- payload converters --------------------------------------------------------------------------------


def _norm_email(value: str) -> str:
    return value.strip().lower()


@odd_answers_are_errors(SPEC.label, "a job")
def _to_job(item: Mapping[str, Any]) -> Job:
    location = item.get("location") if isinstance(item.get("location"), Mapping) else {}
    status = str(item.get("status") or "")
    return Job(
        id=str(item["id"]),
        name=str(item.get("title") or ""),
        status=status,
        is_open=status in OPEN_JOB_STATUSES,
        location=location.get("name") or None,
        # job.list only gives `departmentId`; the name needs department.info (organizationRead), skipped.
        department=None,
        raw=item,
    )


@odd_answers_are_errors(SPEC.label, "a stage")
def _to_stage(item: Mapping[str, Any], job_id: str) -> Stage:
    lead = str(item.get("type")) == LEAD_STAGE_TYPE
    return Stage(
        id=str(item["id"]),
        name=str(item.get("title") or ""),
        order=int(item.get("orderInInterviewPlan") or 0),
        job_id=job_id,
        for_prospects=lead,
        for_applicants=not lead,
        raw=item,
    )


@odd_answers_are_errors(SPEC.label, "a candidate")
def _to_candidate(item: Mapping[str, Any]) -> AtsCandidate:
    emails: list[str] = []
    primary = item.get("primaryEmailAddress")
    for entry in [primary, *(item.get("emailAddresses") or [])]:
        if isinstance(entry, Mapping) and entry.get("value"):
            address = _norm_email(str(entry["value"]))
            if address not in emails:
                emails.append(address)
    linkedin = next(
        (
            str(link["url"])
            for link in item.get("socialLinks") or []
            if isinstance(link, Mapping) and link.get("type") == SOCIAL_LINKEDIN and link.get("url")
        ),
        None,
    )
    return AtsCandidate(
        id=str(item["id"]),
        name=str(item.get("name") or ""),
        emails=tuple(emails),
        linkedin_url=linkedin,
        profile_url=item.get("profileUrl") or None,
        updated_at=item.get("updatedAt") or None,
        raw=item,
    )


def _candidate_body(person: NewCandidate, source_id: str | None) -> dict[str, Any]:
    emails = [e.address.strip() for e in person.emails]
    body: dict[str, Any] = {"name": person.full_name}
    if emails:
        body["email"] = emails[0]
    if len(emails) > 1:
        body["alternateEmailAddresses"] = emails[1:]
    if person.phone:
        body["phoneNumber"] = person.phone
    if person.linkedin_url:
        body["linkedInUrl"] = person.linkedin_url
    if source_id:
        body["sourceId"] = source_id
    # Not sent: `location` wants {city, region, country} and a free-text location cannot be split reliably;
    # candidate.create has no title or company field.
    return body


def _results(response: httpx.Response) -> Any:
    body = json_or_none(response)
    return body.get("results") if isinstance(body, Mapping) else None


def _result_list(response: httpx.Response) -> Sequence[Mapping[str, Any]]:
    results = _results(response)
    return [r for r in results if isinstance(r, Mapping)] if isinstance(results, list) else []


def _next_cursor(response: httpx.Response) -> str | None:
    body = json_or_none(response)
    if not isinstance(body, Mapping) or not body.get("moreDataAvailable"):
        return None
    cursor = body.get("nextCursor")
    return str(cursor) if cursor else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


@odd_answers_are_errors(SPEC.label, "an application")
def _to_status(application: Mapping[str, Any], *, record_url: str | None = None) -> RecordStatus:
    """Read an application (application.info, application.list, webhook payloads: one schema) as a status.

    `status` Hired → hired; Archived → rejected when its archiveReason's `reasonType` rejects someone
    (`REJECTION_REASON_TYPES`), else archived, with the reason's `text` either way; Active and Lead → active.
    A Lead (status, or a current stage of type Lead) is a prospect.
    """
    stage = _mapping(application.get("currentInterviewStage"))
    candidate = _mapping(application.get("candidate"))
    job = _mapping(application.get("job"))
    reason = _mapping(application.get("archiveReason"))
    raw_status = str(application.get("status") or "")
    if raw_status == HIRED_STATUS:
        status = AtsStatus.HIRED
    elif raw_status == ARCHIVED_STATUS or stage.get("type") == ARCHIVED_STAGE_TYPE:
        rejected = reason.get("reasonType") in REJECTION_REASON_TYPES
        status = AtsStatus.REJECTED if rejected else AtsStatus.ARCHIVED
    else:
        status = AtsStatus.ACTIVE
    return RecordStatus(
        candidate_id=str(candidate["id"]),
        application_id=str(application["id"]),
        job_id=str(job["id"]) if job.get("id") else None,
        prospect=raw_status == LEAD_STATUS or stage.get("type") == LEAD_STAGE_TYPE,
        status=status,
        stage=str(stage["title"]) if stage.get("title") else None,
        stage_id=str(stage["id"]) if stage.get("id") else None,
        reason=str(reason["text"]) if status is not AtsStatus.ACTIVE and reason.get("text") else None,
        updated_at=utc_stamp(application.get("updatedAt")),
        record_url=record_url,
    )


def _delivery_id(action: str, *parts: Any, body: bytes) -> str:
    """Return an id that a redelivery of the same notification repeats.

    Ashby's payloads carry no delivery id (`{"action", "data"}` only, the webhooks section of the spec) and a
    retry resends the same request (https://developers.ashbyhq.com/docs/retries); the action, the record and
    its `updatedAt` name one change. Without them, the body's digest does.
    """
    if all(parts):
        return ":".join(["ashby", action, *map(str, parts)])
    return "ashby:" + body_digest(body)


# --- adapter -------------------------------------------------------------------------------------------


class AshbyAdapter(NoSyncBack):
    """Ashby behind `ats.base.AtsAdapter`.

    Connection: `secrets["api_key"]` (HTTP Basic user, empty password); optional `fields["source_id"]`, the
    Ashby source every export is credited to unless the candidate names a known source.
    """

    spec = SPEC
    capabilities = SPEC.capabilities

    def __init__(self, config: ConnectionConfig, http: AtsHttp, *, page_size: int = MAX_PAGE_SIZE) -> None:
        self._http = http
        # "Send your Ashby API key as the username and leave the password blank."
        self._auth = httpx.BasicAuth(config.secrets["api_key"], "")
        self._default_source_id = config.fields.get("source_id") or None
        self._page_size = max(1, min(page_size, MAX_PAGE_SIZE))
        # Adapters live as long as their connection (exports.adapters), so looked-up metadata expires.
        now = http.options.now
        self._sources: TtlMemory[str, dict[str, str]] = TtlMemory(METADATA_TTL, clock=now)
        self._tags: dict[str, str] = {}
        self._stages: TtlMemory[str, list[Stage]] = TtlMemory(METADATA_TTL, clock=now)
        self._reasons: TtlMemory[str, Mapping[str, str]] = TtlMemory(METADATA_TTL, clock=now)
        # The app generates this per connection and gives it to Ashby as the webhooks' secret token.
        self._webhook_secret = config.secrets.get("webhook_secret") or None
        known = config.fields.get(WEBHOOK_IDS_FIELD) or ""
        self._webhook_ids = [i.strip() for i in known.split(",") if i.strip()]

    @classmethod
    def create(cls, config: ConnectionConfig, *, budget: RateBudget, options: HttpOptions) -> AshbyAdapter:
        """Build the adapter with its own HTTP client for `config` (the registry's factory)."""
        http = build_http(
            config,
            label=SPEC.label,
            default_base_url=DEFAULT_BASE_URL,
            classifier=AshbyClassifier(),
            budget=budget,
            options=options,
        )
        return cls(config, http, page_size=options.page_size or MAX_PAGE_SIZE)

    def __repr__(self) -> str:
        return f"AshbyAdapter(base_url={str(self._http.client.base_url)!r})"

    # --- transport ---

    def _call(self, action: str, body: Mapping[str, Any], *, write: bool = False) -> httpx.Response:
        # Every Ashby call is a POST, reads included; only reads may be retried after a timeout or 5xx.
        return self._http.post(f"/{action}", json=dict(body), auth=self._auth, idempotent=not write)

    def _pages(
        self, action: str, body: Mapping[str, Any]
    ) -> Iterator[tuple[Sequence[Mapping[str, Any]], Any]]:
        def fetch(cursor: str | None) -> httpx.Response:
            return self._call(action, dict(body) | ({"cursor": cursor} if cursor else {}))

        for page in paginate(fetch, items=_result_list, next_token=_next_cursor, vendor=SPEC.label):
            yield page.items, json_or_none(page.response)

    # --- AtsAdapter ---

    def check(self) -> AccountInfo:
        """Verify the API key with `apiKey.info`, or a one-job listing when the key may not read itself."""
        try:
            info = _results(self._call("apiKey.info", {})) or {}
        except PermissionMissing:
            # apiKey.info needs the optional `apiKeysRead` permission; a key without it still works for
            # exports, so prove it with the cheapest call the app needs anyway.
            self._call("job.list", {"limit": 1})
            return AccountInfo(vendor=SPEC.vendor)
        return AccountInfo(vendor=SPEC.vendor, acting_user=info.get("title") or None, raw=info)

    def iter_jobs(self) -> Iterator[Job]:
        """Yield every open job, following `nextCursor` while `moreDataAvailable`."""
        body = {"status": list(OPEN_JOB_STATUSES), "limit": self._page_size, "expand": ["location"]}
        for items, _ in self._pages("job.list", body):
            yield from (_to_job(item) for item in items)

    def get_job(self, job_id: str) -> Job:
        """Return one job by id, whatever its status."""
        results = _results(self._call("job.info", {"id": job_id, "expand": ["location"]}))
        if not isinstance(results, Mapping):
            raise NotFound(SPEC.label, f"job {job_id} was not found")
        return _to_job(results)

    def list_stages(self, job_id: str) -> list[Stage]:
        """Return the stages of the job's default interview plan, in plan order (always asked afresh)."""
        job = _results(self._call("job.info", {"id": job_id})) or {}
        plan_id = job.get("defaultInterviewPlanId")
        if not plan_id:
            # Older jobs may lack the field; jobInterviewPlan.info names the plan the job uses.
            plan = _results(self._call("jobInterviewPlan.info", {"jobId": job_id})) or {}
            plan_id = plan.get("interviewPlanId")
        if not plan_id:
            raise NotFound(
                SPEC.label,
                f"job {job_id} has no interview plan",
                hint="Give the job an interview plan in Ashby.",
            )
        items = _result_list(self._call("interviewStage.list", {"interviewPlanId": plan_id}))
        stages = sorted(
            (
                _to_stage(item, job_id)
                for item in items
                if str(item.get("type")) not in UNPLACEABLE_STAGE_TYPES
            ),
            key=lambda stage: stage.order,
        )
        self._stages.put(job_id, stages)
        return list(stages)

    def find_candidates(
        self, *, email: str | None = None, linkedin_url: str | None = None
    ) -> list[AtsCandidate]:
        """Return candidates whose email matches exactly (Ashby cannot search by LinkedIn URL)."""
        if not email:
            return []
        wanted = _norm_email(email)
        # candidate.search returns at most 100 results and has no pagination; an email narrows it to a few.
        items = _result_list(self._call("candidate.search", {"email": wanted}))
        found = [_to_candidate(item) for item in items]
        return [c for c in found if wanted in c.emails]

    def iter_candidate_pages(self, since: str | None) -> Iterator[CandidatePage]:
        """Yield candidates changed since the sync token `since`; the last page carries the next token."""
        for items, token in self._synced("candidate.list", since):
            yield CandidatePage(tuple(_to_candidate(i) for i in items), token)

    def _synced(
        self, action: str, since: str | None
    ) -> Iterator[tuple[Sequence[Mapping[str, Any]], str | None]]:
        """Yield (items, token) per page of an incremental listing; only the last page carries the next token.

        candidate.list and application.list share the schema (`syncToken`, `cursor`, `limit`: opening.list's
        request body in the spec) and the rules of https://developers.ashbyhq.com/docs/pagination-and-incremental-sync.
        """
        try:
            yield from self._synced_pages(action, since)
        except SyncTokenExpired:
            if since is None:
                raise
            # Tokens expire after a while; Ashby's guide says to start over with a full sync.
            log.info("Ashby sync token expired; listing every record of %s again", action)
            yield from self._synced_pages(action, None)

    def _synced_pages(
        self, action: str, since: str | None
    ) -> Iterator[tuple[Sequence[Mapping[str, Any]], str | None]]:
        body: dict[str, Any] = {"limit": self._page_size}
        if since:
            body["syncToken"] = since
        pending: tuple[Sequence[Mapping[str, Any]], str | None] | None = None
        for items, payload in self._pages(action, body):
            if pending is not None:
                yield pending
            token = payload.get("syncToken") if isinstance(payload, Mapping) else None
            pending = (items, str(token) if token else None)
        items, token = pending if pending is not None else ((), None)
        # The sync token comes with the last page; keep the old one if Ashby sent none.
        yield items, token or since

    def create_prospect(
        self, person: NewCandidate, *, job_id: str | None, stage_id: str | None = None
    ) -> CreatedApplication:
        """Create the candidate; with a job, also an application at the "Lead" stage `stage_id` (the job's
        first "Lead" stage when None: "If none is provided, the application is placed in the first "Lead"
        stage", application.create in tests/specs/ashby-openapi.yml). Without a job there is no stage."""
        candidate = self._create_candidate(person)
        application = self._apply_new(candidate, job_id, stage_id, person) if job_id else None
        self._decorate(candidate["id"], person)
        return _created(candidate, application)

    def create_applicant(
        self, person: NewCandidate, *, job_id: str, stage_id: str | None
    ) -> CreatedApplication:
        """Create the candidate and an application on `job_id` at `stage_id` (first screening stage when None)."""
        stage = stage_id or self._first_applicant_stage(job_id)
        candidate = self._create_candidate(person)
        application = self._apply_new(candidate, job_id, stage, person)
        self._decorate(candidate["id"], person)
        return _created(candidate, application)

    def add_to_job(
        self, candidate_id: str, *, job_id: str, stage_id: str | None, prospect: bool
    ) -> CreatedApplication:
        """Create an application for an existing candidate (a lead when `prospect` and no stage is given)."""
        stage = stage_id or (None if prospect else self._first_applicant_stage(job_id))
        application = self._apply(candidate_id, job_id, stage, None)
        candidate = application.get("candidate") if isinstance(application.get("candidate"), Mapping) else {}
        return CreatedApplication(
            candidate_id=candidate_id,
            application_id=str(application["id"]) if application.get("id") else None,
            profile_url=candidate.get("profileUrl") or None,
            raw=application,
        )

    def get_candidate(self, candidate_id: str) -> AtsCandidate | None:
        """Return the candidate, or None when Ashby does not know the id (yet: see SPEC's delayed_visibility).

        `candidate.info` takes `{id}` (tests/specs/ashby-openapi.yml, `/candidate.info`).
        """
        try:
            results = _results(self._call("candidate.info", {"id": candidate_id}))
        except NotFound:
            return None
        return _to_candidate(results) if isinstance(results, Mapping) else None

    def visible_candidates(self, candidate_ids: Sequence[str]) -> set[str]:
        """Return those of these ids the vendor shows (it shows a record at once; asked one by one)."""
        return visible_one_by_one(self, candidate_ids)

    def withdraw(self, record: CreatedRecord, *, reason: str) -> Withdrawn:
        """Archive the application this app created: move it to its interview plan's `Archived` stage with
        an archive reason of type "Other", after checking nobody moved, archived or hired it since.

        Ashby's documented operations (operationIds of ashby-openapi.yml; pages under
        https://developers.ashbyhq.com/reference/<operationId lower-cased>):
        `application.info` (applicationInfo) reads its `status` (Hired/Archived/Active/Lead), `job` and
        `currentInterviewStage`, whose `interviewPlanId` names the plan it is on; `interviewStage.list`
        (interviewStageList) gives that plan's stages with their `type`; `archiveReason.list`
        (archivereasonlist) the reasons (`text`, `reasonType`); `application.changeStage`
        (applicationChangeStage) moves it: "Archive Reason to set when moving to an Interview Stage with
        type: `Archived`. Note: You must pass this parameter". No `archiveEmail` is sent, so the candidate
        is not emailed. Ashby's API deletes neither applications nor candidates, and
        an archive reason carries no free text, so `reason` is added as a note on the candidate.

        Ashby has no conditional update: a person moving the application between the read and the change is
        not detected (a window of one request).
        """
        if not record.application_id:
            raise NotSupported(
                SPEC.label,
                "a candidate added without a job cannot be taken back: Ashby's API can neither archive nor "
                "delete a candidate",
                hint="Archive or delete the candidate in Ashby by hand if they should not be there.",
            )
        application = _results(self._call("application.info", {"applicationId": record.application_id}))
        if not isinstance(application, Mapping) or not application.get("id"):
            raise NotFound(SPEC.label, f"application {record.application_id} was not found")
        stage = application.get("currentInterviewStage")
        stage = stage if isinstance(stage, Mapping) else {}
        job = application.get("job") if isinstance(application.get("job"), Mapping) else {}
        status = str(application.get("status") or "")
        if status in CLOSED_APPLICATION_STATUSES or stage.get("type") == ARCHIVED_STAGE_TYPE:
            raise ChangedSince(SPEC.label, f"the application is already {status.lower() or 'archived'}")
        if record.job_id and job.get("id") and str(job["id"]) != record.job_id:
            raise ChangedSince(SPEC.label, "the application was moved to another job")
        if record.stage_id and str(stage.get("id")) != record.stage_id:
            raise ChangedSince(SPEC.label, f"the application is now at stage “{stage.get('title') or '?'}”")
        plan_stages = self._plan_stages(stage, str(job.get("id") or record.job_id or ""))
        if record.stage_id is None:
            expected = _default_stage(plan_stages, prospect=record.prospect)
            if expected is not None and str(stage.get("id")) != expected:
                raise ChangedSince(
                    SPEC.label, f"the application is now at stage “{stage.get('title') or '?'}”"
                )
        archived = next((s for s in plan_stages if s.get("type") == ARCHIVED_STAGE_TYPE), None)
        if archived is None or not archived.get("id"):
            raise NotSupported(
                SPEC.label,
                "the application's interview plan has no Archived stage to move it to",
                hint="Archive the application in Ashby by hand.",
            )
        archive_reason = self._withdraw_reason()
        body = {
            "applicationId": record.application_id,
            "interviewStageId": str(archived["id"]),
            "archiveReasonId": archive_reason["id"],
        }
        self._call("application.changeStage", body, write=True)
        self._note(record.candidate_id, reason)
        return Withdrawn(
            WithdrawAction.ARCHIVED,
            f"application to {job.get('title') or 'the job'} archived in Ashby "
            f"with the reason “{archive_reason['text']}”",
        )

    # --- two-way sync ---

    def record_status(self, record: CreatedRecord) -> RecordStatus:
        """Return where the record stands: its application (application.info) and the candidate's profile
        link (candidate.info `profileUrl`, "The url of the candidate's profile in Ashby", which the
        application does not carry). A candidate added without a job has no application and so no stage
        activity: only the candidate is read. Either read answering `*_not_found` is `NotFound`.
        """
        candidate_id = record.candidate_id
        if record.application_id:
            application = _results(self._call("application.info", {"applicationId": record.application_id}))
            if not isinstance(application, Mapping) or not application.get("id"):
                raise NotFound(SPEC.label, f"application {record.application_id} was not found")
            candidate_id = str(_mapping(application.get("candidate")).get("id") or candidate_id)
        candidate = _results(self._call("candidate.info", {"id": candidate_id}))
        if not isinstance(candidate, Mapping) or not candidate.get("id"):
            raise NotFound(SPEC.label, f"candidate {candidate_id} was not found")
        profile_url = str(candidate["profileUrl"]) if candidate.get("profileUrl") else None
        if record.application_id:
            return _to_status(application, record_url=profile_url)
        return RecordStatus(
            candidate_id=str(candidate["id"]),
            application_id=None,
            job_id=None,
            prospect=True,
            status=AtsStatus.ACTIVE,
            updated_at=utc_stamp(candidate.get("updatedAt")),
            record_url=profile_url,
        )

    def iter_status_pages(self, since: str | None) -> Iterator[StatusPage]:
        """Yield applications changed since the sync token `since` (all when None): application.list
        "See the Pagination and Incremental Synchronization guide" (applicationList in the spec), with the
        candidate mirror's token handling (`_synced`). Listed applications carry no profile link
        (`record_url` None: the export keeps the one it was created with)."""
        for items, token in self._synced("application.list", since):
            yield StatusPage(tuple(_to_status(item) for item in items), token)

    def read_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        """Verify `Ashby-Signature` and return the changes the delivery announces.

        The signature is `sha256=` + the hex HMAC-SHA256 of the raw body keyed with the webhook's secret token
        (https://developers.ashbyhq.com/docs/authenticating-webhooks), compared in constant time. Ashby sends
        no timestamp, so there is nothing to judge staleness by; a replayed body is idempotent by its
        `delivery_id`. Bodies over `MAX_WEBHOOK_BYTES` are refused before anything else is done with them.
        Every payload is `{"action", "data"}` (the webhooks section of the spec): application events carry the
        whole application (`status` filled), candidateDelete/candidateMerge the id of the candidate gone, and
        the rest (ping, jobs, offers, interviews…) is of no use here.
        """
        body = capped_body(SPEC.label, body, limit=MAX_WEBHOOK_BYTES)
        if not self._webhook_secret:
            raise WebhookRejected(
                SPEC.label,
                "sent a webhook, but this connection has no webhook secret to check it with",
                hint="Reconnect Ashby so ScaleUp sets up its webhook with a secret: /scaleup connect.",
            )
        signature = header(headers, SIGNATURE_HEADER)
        if not signature:
            raise WebhookRejected(SPEC.label, "sent a webhook without an Ashby-Signature header")
        expected = SIGNATURE_PREFIX + hmac_sha256(self._webhook_secret, body).hex()
        if not signature_matches(signature.strip(), expected):
            raise WebhookRejected(SPEC.label, "sent a webhook whose Ashby-Signature does not match")
        return self._webhook_events(json_object(SPEC.label, body), body)

    def _webhook_events(self, payload: Mapping[str, Any], body: bytes) -> list[WebhookEvent]:
        action, data = payload.get("action"), payload.get("data")
        if not isinstance(action, str) or not isinstance(data, Mapping):
            raise WebhookRejected(SPEC.label, "sent a webhook without its `action` and `data`")
        if action in APPLICATION_WEBHOOKS:
            application = data.get("application")
            if not isinstance(application, Mapping) or not application.get("id"):
                raise WebhookRejected(SPEC.label, f"sent a {action} webhook without an application")
            try:
                status = _to_status(application)
            except VendorUnavailable:
                raise WebhookRejected(SPEC.label, f"sent a {action} webhook in an unknown shape") from None
            return [
                WebhookEvent(
                    delivery_id=_delivery_id(
                        action, status.application_id, application.get("updatedAt"), body=body
                    ),
                    kind=action,
                    candidate_id=status.candidate_id,
                    application_id=status.application_id,
                    status=status,
                )
            ]
        if action in CANDIDATE_GONE_WEBHOOKS:
            gone = _mapping(data.get(CANDIDATE_GONE_WEBHOOKS[action])).get("id")
            if not isinstance(gone, str) or not gone:
                raise WebhookRejected(SPEC.label, f"sent a {action} webhook without the candidate's id")
            return [
                WebhookEvent(
                    delivery_id=_delivery_id(action, gone, body=body), kind=action, candidate_id=gone
                )
            ]
        return []

    def register_webhooks(self, url: str) -> WebhookSetup:
        """Create one webhook setting per `REGISTERED_WEBHOOKS` type at `url`, signed with the connection's
        webhook secret, keeping the ones made before.

        webhook.create takes `webhookType`, `requestUrl` and `secretToken`, all required, and needs the
        apiKeysWrite permission (webhookcreate in the spec). Ashby lists no webhook settings, so earlier ones
        are found by id (`WEBHOOK_IDS_FIELD`, plus those this adapter made): webhook.info (apiKeysRead) shows
        each one's type, URL and `enabled`; one per type is kept, and webhook.update points it at `url` and
        enables it when it points elsewhere or Ashby disabled it ("If your server does not respond to the
        [ping] request… the webhook will still be created but in a disabled state",
        https://developers.ashbyhq.com/docs/setting-up-webhooks). The returned `ids` are what the caller keeps
        in that field. A key without apiKeysWrite gets instructions instead.
        """
        if not self._webhook_secret:
            raise ValidationFailed(
                SPEC.label,
                "cannot set up webhooks: this connection has no webhook secret",
                hint="Reconnect Ashby (/scaleup connect) so ScaleUp generates one.",
            )
        try:
            existing = self._existing_webhooks(url)
            for kind in REGISTERED_WEBHOOKS:
                if kind not in existing:
                    existing[kind] = self._create_webhook(kind, url)
        except PermissionMissing:
            return WebhookSetup(
                registered=False,
                instructions=(
                    f"The Ashby API key lacks the apiKeysWrite permission, so ScaleUp could not create its "
                    f"webhooks. In Ashby, open {WEBHOOK_SETTINGS_PAGE} and add one webhook for each of "
                    f"{', '.join(REGISTERED_WEBHOOKS)} with the request URL {url} and, as the secret token, "
                    f"the webhook secret ScaleUp showed when Ashby was connected."
                ),
                events=REGISTERED_WEBHOOKS,
            )
        return WebhookSetup(
            registered=True,
            instructions=(
                f"Ashby sends {', '.join(REGISTERED_WEBHOOKS)} to {url}, signed with this connection's webhook "
                f"secret ({WEBHOOK_SETTINGS_PAGE} lists them)."
            ),
            events=REGISTERED_WEBHOOKS,
            ids=tuple(existing[kind] for kind in REGISTERED_WEBHOOKS),
        )

    def _existing_webhooks(self, url: str) -> dict[str, str]:
        """Return {webhookType: id} of the known webhook settings delivering to `url`, re-enabled if needed."""
        found: dict[str, str] = {}
        for webhook_id in list(dict.fromkeys(self._webhook_ids)):
            try:
                info = _mapping(_results(self._call("webhook.info", {"webhookId": webhook_id})))
            except NotFound:
                continue  # deleted in Ashby's settings since: made again below
            kind = str(info.get("webhookType") or "")
            if kind not in REGISTERED_WEBHOOKS or kind in found:
                continue
            if info.get("requestUrl") != url or info.get("enabled") is False:
                # This connection's own setting, disabled or pointing at the app's old address: repointed and
                # enabled rather than left to fail next to a new one.
                body = {
                    "webhookId": webhook_id,
                    "enabled": True,
                    "requestUrl": url,
                    "secretToken": self._webhook_secret,
                }
                self._call("webhook.update", body, write=True)
            found[kind] = webhook_id
        return found

    def _create_webhook(self, kind: str, url: str) -> str:
        body = {"webhookType": kind, "requestUrl": url, "secretToken": self._webhook_secret}
        created = _mapping(_results(self._call("webhook.create", body, write=True)))
        if not created.get("id"):
            raise VendorUnavailable(SPEC.label, "created a webhook but returned no id")
        self._webhook_ids.append(str(created["id"]))
        return str(created["id"])

    def read_contact(self, candidate_id: str) -> ContactDetails:
        """Return the candidate's name, addresses, phones and LinkedIn link as Ashby holds them.

        `candidate.info {id}` → `name`, `primaryEmailAddress`, `emailAddresses`, `primaryPhoneNumber`,
        `phoneNumbers`, `socialLinks [{type, url}]` (ashby-openapi.yml `/candidate.info`). Ashby keeps one
        `name` ("The candidate's name"): its first word is read as the first name, the rest as the last. A
        merged-away candidate is announced by the `candidateMerge` webhook ("Includes the deleted candidate's
        id and merged candidate data"); what `candidate.info` answers for its id is not documented, so a
        missing candidate is `NotFound` and `merged_into` stays None.

        Raises:
            NotFound: the candidate does not exist (any more).
        """
        candidate = _results(self._call("candidate.info", {"id": candidate_id}))
        if not isinstance(candidate, Mapping) or not candidate.get("id"):
            raise NotFound(SPEC.label, f"candidate {candidate_id} was not found")

        def values(primary: str, listed: str) -> tuple[str, ...]:
            found: dict[str, str] = {}
            for entry in [candidate.get(primary), *(candidate.get(listed) or [])]:
                if isinstance(entry, Mapping) and entry.get("value"):
                    found.setdefault(str(entry["value"]).strip().lower(), str(entry["value"]).strip())
            return tuple(found.values())

        first, _, last = str(candidate.get("name") or "").strip().partition(" ")
        return ContactDetails(
            first_name=first or None,
            last_name=last.strip() or None,
            emails=values("primaryEmailAddress", "emailAddresses"),
            phones=values("primaryPhoneNumber", "phoneNumbers"),
            linkedin_url=_to_candidate(candidate).linkedin_url,
        )

    def update_contact(self, candidate_id: str, patch: ContactPatch, *, current: ContactDetails) -> None:
        """Write what `patch` changes relative to `current` with candidate.update (candidatesWrite).

        candidate.update (https://developers.ashbyhq.com/reference/candidateupdate) sets fields one by one,
        no list is replaced: `name` is "The first and last name" (the patch's, `current`'s where the patch has
        none), `phoneNumber` the "Primary, personal phone number", `linkedInUrl` the LinkedIn link (not
        `socialLinks`, which "replaces existing socialLinks"), `alternateEmail` "An alternate email address
        to add to the candidate's profile" (one per call) and `email` the "Primary, personal email" (sent only
        when the candidate has none, so no address is replaced). The first call carries every field and one
        address; each further address is one more call. `sendNotifications` false keeps the people subscribed
        to the candidate from being notified of a correction. Nothing is sent when nothing changes.

        Raises:
            NotFound: the candidate does not exist (any more).
        """
        change = effective(patch, current, SPEC.capabilities.contact_fields)
        if change.empty:
            return
        first: dict[str, Any] = {}
        if change.first_name or change.last_name:
            names = (change.first_name or current.first_name, change.last_name or current.last_name)
            first["name"] = " ".join(n for n in names if n)
        if change.phone:
            first["phoneNumber"] = change.phone
        if change.linkedin_url:
            first["linkedInUrl"] = change.linkedin_url
        missing = [e.address for e in change.add_emails]
        if missing:
            first["email" if not current.emails else "alternateEmail"] = missing.pop(0)
        calls = [first, *({"alternateEmail": address} for address in missing)]
        for fields in calls:
            body = {"candidateId": candidate_id, **fields, "sendNotifications": False}
            self._call("candidate.update", body, write=True)

    def close(self) -> None:
        """Release the HTTP connections."""
        self._http.close()

    # --- helpers ---

    def _create_candidate(self, person: NewCandidate) -> Mapping[str, Any]:
        body = _candidate_body(person, self._source_id(person))
        results = _results(self._call("candidate.create", body, write=True))
        if not isinstance(results, Mapping) or not results.get("id"):
            raise VendorUnavailable(SPEC.label, "created a candidate but returned no id")
        return results

    def _apply_new(
        self, candidate: Mapping[str, Any], job_id: str, stage_id: str | None, person: NewCandidate
    ) -> Mapping[str, Any]:
        # Two calls are not atomic: when the application fails the candidate stays in Ashby, and the
        # export's retry finds them by email and adds them to the job instead of creating them twice.
        try:
            return self._apply(str(candidate["id"]), job_id, stage_id, person)
        except AtsError as exc:
            log.warning(
                "Ashby candidate %s created, but application.create failed: %s", candidate["id"], exc.code
            )
            raise

    def _apply(
        self, candidate_id: str, job_id: str, stage_id: str | None, person: NewCandidate | None
    ) -> Mapping[str, Any]:
        body: dict[str, Any] = {"candidateId": candidate_id, "jobId": job_id}
        if stage_id:
            body["interviewStageId"] = stage_id
        source_id = self._source_id(person) if person is not None else self._default_source_id
        if source_id:
            body["sourceId"] = source_id
        results = _results(self._call("application.create", body, write=True))
        if not isinstance(results, Mapping):
            raise VendorUnavailable(SPEC.label, "created an application but returned no record")
        return results

    def _first_applicant_stage(self, job_id: str) -> str | None:
        # application.create also accepts the magic value "FirstPreInterviewScreen", but the spec types the
        # field as a UUID; choosing the stage here keeps every request inside the published schema.
        stages = self._stages.get(job_id)
        if stages is None:
            stages = self.list_stages(job_id)
        for wanted in APPLICANT_STAGE_TYPES:
            for stage in stages:
                if stage.raw.get("type") == wanted:
                    return stage.id
        return None  # no screening stage: Ashby places the application in the first Lead stage

    def _source_id(self, person: NewCandidate | None) -> str | None:
        if person is None or not person.source:
            return self._default_source_id
        return self._sources_by_title().get(person.source.strip().casefold(), self._default_source_id)

    def _sources_by_title(self) -> dict[str, str]:
        by_title = self._sources.get("all")
        if by_title is None:
            try:
                items = _result_list(self._call("source.list", {}))
            except PermissionMissing:
                # source.list needs hiringProcessMetadataRead; without it the configured source is used.
                items = []
            by_title = {
                str(i.get("title", "")).strip().casefold(): str(i["id"])
                for i in items
                if i.get("id") and not i.get("isArchived")
            }
            self._sources.put("all", by_title)
        return by_title

    def _decorate(self, candidate_id: str, person: NewCandidate) -> None:
        # Tags and the note are extras: the candidate and application already exist, so a failure here is
        # logged instead of failing an export whose retry would only find a duplicate. They need different
        # permissions (hiringProcessMetadataWrite for tags), so one failing does not skip the other.
        titles: dict[str, str] = {}
        for tag in person.tags:
            if tag.strip():
                titles.setdefault(tag.strip().casefold(), tag.strip())
        try:
            for title in titles.values():
                body = {"candidateId": candidate_id, "tagId": self._tag_id(title)}
                self._call("candidate.addTag", body, write=True)
        except AtsError as exc:
            log.warning("Ashby candidate %s created, but tagging failed: %s", candidate_id, exc.code)
        if not person.note:
            return
        try:
            note = {"type": "text/plain", "value": person.note}
            self._call("candidate.createNote", {"candidateId": candidate_id, "note": note}, write=True)
        except AtsError as exc:
            log.warning("Ashby candidate %s created, but the note failed: %s", candidate_id, exc.code)

    def _plan_stages(self, stage: Mapping[str, Any], job_id: str) -> list[Mapping[str, Any]]:
        # The current stage names the plan the application is on (interviewStage.info results carry a
        # required `interviewPlanId`); only without it is the job's plan asked for.
        plan_id = stage.get("interviewPlanId")
        if not plan_id and job_id:
            plan = _results(self._call("jobInterviewPlan.info", {"jobId": job_id})) or {}
            plan_id = plan.get("interviewPlanId")
        if not plan_id:
            raise NotFound(SPEC.label, "the application's interview plan was not found")
        items = _result_list(self._call("interviewStage.list", {"interviewPlanId": str(plan_id)}))
        return sorted(items, key=lambda item: int(item.get("orderInInterviewPlan") or 0))

    def _withdraw_reason(self) -> Mapping[str, str]:
        """Return the archive reason (id, text) that says "exported by mistake" best; see `_reason_rank`."""
        cached = self._reasons.get("withdraw")
        if cached is not None:
            return cached
        # archiveReason.list omits archived reasons unless `includeArchived` (hiringProcessMetadataRead).
        items = _result_list(self._call("archiveReason.list", {}))
        candidates = [i for i in items if i.get("id") and not i.get("isArchived")]
        ranked = sorted(
            ((rank, r) for r in candidates if (rank := _reason_rank(r)) is not None), key=lambda x: x[0]
        )
        if not ranked:
            raise NotSupported(
                SPEC.label,
                "no archive reason fits an export taken back (none of type Other)",
                hint="Add an archive reason of type Other (e.g. “Added by mistake”) in Ashby's admin settings.",
            )
        best = ranked[0][1]
        chosen = {"id": str(best["id"]), "text": str(best.get("text") or "")}
        self._reasons.put("withdraw", chosen)
        return chosen

    def _note(self, candidate_id: str, reason: str) -> None:
        # The archive reason is a fixed list; the app's own words go in a note (candidate.createNote). Extra:
        # the application is already archived, so a failure is only logged.
        if not reason.strip():
            return
        try:
            note = {"type": "text/plain", "value": reason.strip()}
            self._call("candidate.createNote", {"candidateId": candidate_id, "note": note}, write=True)
        except AtsError as exc:
            log.warning("Ashby application archived, but the note on %s failed: %s", candidate_id, exc.code)

    def _tag_id(self, title: str) -> str:
        key = title.casefold()
        if key not in self._tags:
            # candidateTag.create returns the existing tag when the title is taken: no list call is needed,
            # and repeating it is harmless, so it is retried like a read.
            results = _results(self._call("candidateTag.create", {"title": title})) or {}
            if not results.get("id"):
                raise VendorUnavailable(SPEC.label, "created a tag but returned no id")
            self._tags[key] = str(results["id"])
        return self._tags[key]


def _reason_rank(item: Mapping[str, Any]) -> int | None:
    """Rank an archive reason for an export taken back (lower is better; None: never used).

    Only `reasonType` "Other" is used: "RejectedByOrg"/"RejectedByCandidate" would record a rejection nobody
    made. Among those, a text saying it was a mistake ("Added by mistake", "Added in error") comes first, then
    one that is just "Other", then any other reason of type Other, in Ashby's order.
    """
    if item.get("reasonType") != WITHDRAW_REASON_TYPE:
        return None
    text = str(item.get("text") or "").strip().casefold()
    if any(word in text for word in WITHDRAW_REASON_WORDS):
        return 0
    return 1 if text == "other" else 2


def _default_stage(stages: Sequence[Mapping[str, Any]], *, prospect: bool) -> str | None:
    """Return the stage an export without `stage_id` was placed at: the first "Lead" stage for a prospect
    (application.create's default), else the stage `_first_applicant_stage` chooses; None when unknown."""
    wanted = (LEAD_STAGE_TYPE,) if prospect else APPLICANT_STAGE_TYPES
    for kind in wanted:
        for stage in stages:
            if stage.get("type") == kind and stage.get("id"):
                return str(stage["id"])
    return None


def _created(candidate: Mapping[str, Any], application: Mapping[str, Any] | None) -> CreatedApplication:
    return CreatedApplication(
        candidate_id=str(candidate["id"]),
        application_id=str(application["id"]) if application and application.get("id") else None,
        profile_url=candidate.get("profileUrl") or None,
        visible=False,  # confirmed by reading it back (SPEC: delayed_visibility)
        raw={"candidate": candidate, "application": application},
    )
