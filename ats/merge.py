"""Merge adapter: the ATS behind a team's Merge linked account (Workday, SmartRecruiters, iCIMS, Jobvite and
the others Merge reaches), through Merge's unified ATS API under `https://api.merge.dev/api/ats/v1`.

Reference: Merge's published ATS OpenAPI document (the part used here is kept in
devkit/ats/specs/merge-ats-openapi.yml, with where it came from) and the guides it links, each cited where
it decides something. Two credentials go with every request (https://docs.merge.dev/merge-unified/ats/
merge-api-basics/authentication): this install's API key, `Authorization: Bearer <key>` (the setting
`SCALEUP_MERGE_API_KEY`, handed to the adapter through `HttpOptions.app_credentials`), and the team's linked
account token, `X-Account-Token`. What a linked account can do depends on the ATS behind it: the adapter reads
Merge's available actions for the account and refines `capabilities` from them (`LinkedAccount`).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Self
from urllib.parse import quote

import httpx

from ats.base import ConnectionConfig, RateBudget, visible_one_by_one
from ats.classify import odd_answers_are_errors
from ats.errors import (
    AlreadyExists,
    AtsError,
    AuthFailed,
    NotFound,
    NotSupported,
    PermissionMissing,
    RateLimited,
    ValidationFailed,
    VendorUnavailable,
    WebhookRejected,
)
from ats.http import (
    AtsHttp,
    HttpOptions,
    StatusClassifier,
    body_token,
    build_http,
    iter_token_pages,
    json_or_none,
)
from ats.spec import CredentialField, VendorLimit, VendorSpec
from ats.sync_refusals import NoSyncBack
from ats.types import (
    AccountInfo,
    AtsCandidate,
    AtsStatus,
    CandidatePage,
    Capabilities,
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
from ats.webhook_checks import body_digest, header, hmac_sha256, json_body, signature_matches
from core.ttl import TtlMemory
from core.vocabulary import EmailType, Vendor

log = logging.getLogger(__name__)

# The OpenAPI document's `servers`: Merge keeps US, EU and APAC accounts apart.
REGION_URLS: Mapping[str, str] = {
    "us": "https://api.merge.dev/api",
    "eu": "https://api-eu.merge.dev/api",
    "ap": "https://api-ap.merge.dev/api",
}
PREFIX = "/ats/v1"
MAX_PAGE_SIZE = 100  # `page_size`: "Number of results to return per page. The maximum limit is 100."
METADATA_TTL = 300.0
"""Seconds a linked account's available actions, a job found open and a job's stages are reused."""
FAILED_LOOKUP_PAUSE = 30.0
"""Seconds the available actions are not asked again after the answer failed (the spec's are used meanwhile)."""
CURSOR_SKEW = timedelta(minutes=5)
"""How far before the listing began the next sync starts, at the latest (see `iter_candidate_pages`)."""

API_KEY_HINT = (
    "An operator sets SCALEUP_MERGE_API_KEY to this install's Merge API key (Merge dashboard → API Keys) and "
    "restarts ScaleUp; then connect again with /scaleup connect."
)
TOKEN_HINT = (
    "Check the linked account token (Merge dashboard → Linked Accounts → the team's ATS → Account token) and "
    "reconnect with /scaleup connect; if every team is refused, the operator's SCALEUP_MERGE_API_KEY is wrong."
)
REMOTE_USER_HINT = (
    "Add the Remote user ID with /scaleup connect: Merge's id of the ATS user exports are made as (the `id` "
    "of that user in Merge's GET /ats/v1/users, or the Users tab of the linked account in Merge's dashboard)."
)
RELINK_HINT = "Relink the ATS in Merge (Merge Link, from your Merge dashboard), then /scaleup connect again."
WEBHOOK_KEY_HINT = (
    "An operator sets SCALEUP_MERGE_WEBHOOK_KEY to the signature key of the Merge webhook that calls ScaleUp "
    "(Merge dashboard → Configuration → Webhooks → the webhook → Security) and restarts ScaleUp."
)

SPEC = VendorSpec(
    vendor=Vendor.MERGE,
    label="Merge",
    credentials=(
        CredentialField(
            "account_token",
            "Linked account token",
            secret=True,
            # ScaleUp has no Merge Link page of its own: the operator, who holds the install's Merge
            # organization, links the team's ATS with Merge's Magic Link ("send end users a URL to authorize
            # integrations without any frontend code", https://docs.merge.dev/merge-unified/merge-link) and
            # reads the account token from the dashboard.
            hint=(
                "Account token of your ATS's linked account (Merge dashboard → Linked Accounts); your ScaleUp "
                "operator links your ATS with a Merge Magic Link and holds the Merge API key"
            ),
        ),
        # "Some ATS integrations need to verify that your user has permission to create candidates and link
        # them to open jobs. For these platforms, add Merge's ID for your end user (specifically, the id field
        # in the response from a GET /users request)" (https://docs.merge.dev/merge-unified/writing-data/
        # writes/introduction, "Remote User ID (ATS only)"). Connecting says when the ATS behind the account
        # needs it.
        CredentialField(
            "remote_user_id",
            "Remote user ID",
            secret=False,
            required=False,
            hint="Merge id of the ATS user exports are made as (GET /ats/v1/users); needed by some ATSs",
        ),
        CredentialField(
            "region", "Merge region", secret=False, required=False, hint="us (default), eu or ap"
        ),
    ),
    primary_secret="account_token",
    # "Launch: 100 / minute (per Linked Account)", the smallest plan; Professional 400, Enterprise 600
    # (https://docs.merge.dev/merge-unified/ats/merge-api-basics/rate-limits). SCALEUP_ATS_RATE_LIMITS raises it.
    rate_limit=VendorLimit(limit=80, window=60.0),
    # What Merge's API can do at best; each linked account narrows it (`LinkedAccount.capabilities`).
    capabilities=Capabilities(
        export_prospects=True,  # POST /candidates: a candidate without an application
        prospect_stages=True,  # Merge has no prospect notion: a prospect on a job is an application at a stage
        export_applicants=True,  # POST /candidates, then POST /applications with `job` and `current_stage`
        multiple_emails=True,  # `email_addresses` is a list
        linkedin_search=False,  # GET /candidates filters by `email_addresses`, names and tags only
        candidate_sync=True,  # GET /candidates?modified_after=
        add_to_job=True,  # POST /applications for an existing candidate
        # A record is in the ATS once it carries the ATS's own id, `remote_id` ("The third-party API ID of the
        # matching object"); Merge's answer to a write does not promise one, so a create without it stays
        # `processing` until read back with one (see `get_candidate`).
        delayed_visibility=True,
        batch_visibility=False,  # GET /candidates has no filter by Merge id: read back one by one
        withdraw=False,  # the ATS common model has no reject, archive or delete of an application
        status_sync=True,  # GET /applications/{id} and GET /applications?modified_after=
        # "Changed data" webhooks, signed (`read_webhook`); set up by the Merge organization's admin in the
        # dashboard: "Webhooks are shared across your Merge organization" (https://docs.merge.dev/
        # merge-unified/reading-data/webhooks/merge-webhooks), so there is no per-team registration call.
        webhooks=True,
        webhook_registration=False,
        # contact_fields stays empty (read_contact/update_contact refuse, `NoSyncBack`): PATCH /ats/v1/candidates/
        # {id} takes `model` {first_name, last_name, phone_numbers, email_addresses, urls, …} and a required
        # `remote_user_id` (devkit/ats/specs/merge-ats-openapi.yml, PatchedCandidateEndpointRequest), but which
        # of those fields each integration writes — and whether its lists replace or add — is per integration
        # ("Field support by integration", dropped from our copy; Merge's `GET /candidates/meta/patch/{id}` is
        # not in it) and unknown here. GET /ats/v1/available-actions (read per account, see `capabilities`)
        # gives each model one `supported_fields` list, not one per operation, so it does not say what a PATCH
        # writes either (ModelOperation schema). A wrong guess would send fields an ATS ignores or drop
        # addresses a person added, so no correction is written through Merge.
    ),
)

# --- vendor vocabulary ---------------------------------------------------------------------------------

WEBHOOK_SIGNATURE_HEADER = "X-Merge-Webhook-Signature"
WEBHOOK_MODELS = frozenset({"application", "candidate"})
WEBHOOK_EVENTS = ("Application.added", "Application.changed", "Candidate.changed")

OPEN_JOB_STATUS = "OPEN"  # JobStatusEnum: OPEN, CLOSED, DRAFT, ARCHIVED, PENDING

EMAIL_TYPES: Mapping[EmailType, str] = {  # EmailAddressTypeEnum: PERSONAL, WORK, OTHER
    EmailType.PRIMARY: "PERSONAL",
    EmailType.PERSONAL: "PERSONAL",
    EmailType.WORK: "WORK",
    EmailType.OTHER: "OTHER",
}
SOCIAL_MEDIA = "SOCIAL_MEDIA"  # UrlTypeEnum value of a LinkedIn profile

# `ModelOperation.available_operations` values and model names of GET /ats/v1/available-actions; Merge's own
# example: {"model_name": "Candidate", "available_operations": ["FETCH", "CREATE"], "required_post_parameters":
# ["remote_user_id"], ...} (merge-api/merge-ats-ruby docs/AvailableActions.md; the ModelOperation schema).
FETCH, CREATE = "FETCH", "CREATE"
CANDIDATE_MODEL, APPLICATION_MODEL = "Candidate", "Application"

# The request fields ScaleUp can fill. A linked account requiring anything else on a create (iCIMS's
# `integration_params.candidate_folder_id`, Breezy's nested `applications.job`, SAP's `attachments`: the
# "Field support by integration" tables of POST /candidates and POST /applications in the OpenAPI document)
# cannot take ScaleUp's candidates, and the account is used for exclusion only.
CANDIDATE_FIELDS = frozenset(
    {
        "first_name",
        "last_name",
        "email_addresses",
        "phone_numbers",
        "company",
        "title",
        "locations",
        "urls",
        "tags",
        "remote_user_id",
    }
)
APPLICATION_FIELDS = frozenset({"candidate", "job", "current_stage", "source", "remote_user_id"})

# `problem_type` of a write's `errors` (https://docs.merge.dev/merge-unified/writing-data/troubleshooting-writes/
# warnings-and-errors-reference) → error class; the others are refused data (ValidationFailed) or, by status,
# what the status says.
PROBLEM_TYPES: Mapping[str, type[AtsError]] = {
    "DUPLICATE_MODEL_EXISTS": AlreadyExists,  # "A model with duplicate unique identifiers already exists."
    "CREDENTIAL_REFRESH_FAILED": AuthFailed,  # Merge could not sign in to the ATS: the account needs relinking
    "DISABLED_MODEL_WRITE": PermissionMissing,  # "A write request to a disabled model was attempted."
}
PROBLEM_HINTS: Mapping[str, str] = {
    "CREDENTIAL_REFRESH_FAILED": RELINK_HINT,
    "DISABLED_MODEL_WRITE": (
        "Enable the Candidate and Application models for the linked account in Merge's dashboard "
        "(Configuration → Common Models), then press Retry."
    ),
}


def base_url(config: ConnectionConfig) -> str:
    """Return the API root of `config`: its `base_url` override, else its Merge region's server.

    Raises:
        ValidationFailed: the region is not us, eu or ap.
    """
    if config.base_url:
        return config.base_url
    region = (config.fields.get("region") or "us").strip().lower()
    if region not in REGION_URLS:
        raise ValidationFailed(
            SPEC.label,
            f"the connection's Merge region “{region[:20]}” is not one of us, eu or ap",
            hint="Reconnect Merge with the region your Merge account lives in: /scaleup connect.",
        )
    return REGION_URLS[region]


# --- what a linked account can do ----------------------------------------------------------------------


@dataclass(frozen=True)
class ModelSupport:
    """What a linked account offers for one common model (one `ModelOperation` of its available actions).

    `fields` empty means Merge listed none: every documented field is sent.
    """

    operations: frozenset[str]
    required: frozenset[str]
    fields: frozenset[str]

    def supports(self, name: str) -> bool:
        """Return True when `name` may be sent (listed, or nothing was listed)."""
        return not self.fields or name in self.fields


@dataclass(frozen=True)
class LinkedAccount:
    """A linked account as its available actions describe it, and what the app may do with it."""

    integration: str
    candidate: ModelSupport | None
    application: ModelSupport | None

    @property
    def creates_candidates(self) -> bool:
        """Return True when ScaleUp can create candidates through this account."""
        return (
            self.candidate is not None and CREATE in self.candidate.operations and not self._unmet_candidate
        )

    @property
    def creates_applications(self) -> bool:
        """Return True when ScaleUp can create applications through this account."""
        return (
            self.application is not None
            and CREATE in self.application.operations
            and not _unmet(self.application.required, APPLICATION_FIELDS)
        )

    @property
    def _unmet_candidate(self) -> list[str]:
        return _unmet(self.candidate.required, CANDIDATE_FIELDS) if self.candidate else []

    @property
    def capabilities(self) -> Capabilities:
        """Return the spec's capabilities narrowed to what this account offers."""
        candidates, applications = self.creates_candidates, self.creates_applications
        reads = self.candidate is None or FETCH in self.candidate.operations
        return replace(
            SPEC.capabilities,
            status_sync=self.application is None or FETCH in self.application.operations,
            export_prospects=candidates,
            export_applicants=candidates and applications,
            prospect_stages=candidates and applications,
            add_to_job=applications,
            candidate_sync=reads,
        )

    def export_refusal(self) -> str | None:
        """Return, in a recruiter's words, why this account cannot take candidates (None when it can)."""
        if self.creates_candidates:
            return None
        if self.candidate is None or CREATE not in self.candidate.operations:
            return f"Merge cannot create candidates in this {self.integration} account"
        return (
            f"Merge can create candidates in {self.integration} only with {', '.join(self._unmet_candidate)}, "
            "which ScaleUp cannot send"
        )

    def needs_remote_user(self, *, candidates: bool = True, applications: bool = True) -> bool:
        """Return True when creating a candidate (`candidates`) or an application (`applications`) needs one."""
        models = [self.candidate if candidates else None, self.application if applications else None]
        return any(m is not None and "remote_user_id" in m.required for m in models)


def _unmet(required: frozenset[str], fillable: frozenset[str]) -> list[str]:
    # Required parameters are dotted paths ("email_addresses.value", "applications.job").
    return sorted(r for r in required if r.split(".")[0] not in fillable)


def _support(item: Mapping[str, Any]) -> ModelSupport:
    def names(key: str) -> frozenset[str]:
        values = item.get(key)
        return (
            frozenset(str(v) for v in values if isinstance(v, str))
            if isinstance(values, list)
            else frozenset()
        )

    return ModelSupport(
        names("available_operations"), names("required_post_parameters"), names("supported_fields")
    )


def _linked_account(body: Any) -> LinkedAccount:
    """Read GET /ats/v1/available-actions (schema `AvailableActions`)."""
    if not isinstance(body, Mapping):
        raise VendorUnavailable(
            SPEC.label, "answered the available actions in a shape ScaleUp does not understand"
        )
    integration = body.get("integration") if isinstance(body.get("integration"), Mapping) else {}
    listed = body.get("available_model_operations")
    if not isinstance(listed, list):
        # The list is optional in the schema: without it nothing is known to be missing, and each call says
        # for itself what Merge refuses.
        unknown = ModelSupport(frozenset({FETCH, CREATE}), frozenset(), frozenset())
        return LinkedAccount(str(integration.get("name") or "the ATS"), unknown, unknown)
    models = {str(item.get("model_name")): _support(item) for item in listed if isinstance(item, Mapping)}
    return LinkedAccount(
        integration=str(integration.get("name") or "the ATS"),
        candidate=models.get(CANDIDATE_MODEL),
        application=models.get(APPLICATION_MODEL),
    )


# --- classification ------------------------------------------------------------------------------------


def _problems(body: Any) -> list[Mapping[str, Any]]:
    errors = body.get("errors") if isinstance(body, Mapping) else None
    return [p for p in errors if isinstance(p, Mapping)] if isinstance(errors, list) else []


def _pointer_field(problem: Mapping[str, Any]) -> str | None:
    # `source.pointer` is a JSON pointer into the request ("/model/email_addresses/0/value", "/remote_user_id").
    source = problem.get("source") if isinstance(problem.get("source"), Mapping) else {}
    pointer = str(source.get("pointer") or "").strip("/")
    parts = [p for p in pointer.split("/") if p and not p.isdigit()]
    if parts and parts[0] == "model":
        parts = parts[1:]
    return parts[0] if parts else None


def _error_details(body: Any) -> tuple[str | None, dict[str, str]]:
    """Return (message, field errors) of a Merge error answer.

    Writes answer `errors`, a list of `ErrorValidationProblem` (`title`, `detail`, `problem_type`,
    `source.pointer`; https://docs.merge.dev/merge-unified/writing-data/troubleshooting-writes/
    troubleshooting-tools); other refusals are not described beyond their status (help.merge.dev article
    9660257, "What error codes can I expect from Merge"): a `detail` string is read where one comes.
    """
    messages: list[str] = []
    fields: dict[str, str] = {}
    if isinstance(body, Mapping) and isinstance(body.get("detail"), str) and body["detail"]:
        messages.append(body["detail"])
    for problem in _problems(body):
        text = str(problem.get("detail") or problem.get("title") or problem.get("problem_type") or "invalid")
        name = _pointer_field(problem)
        if name:
            fields[name] = text
        else:
            messages.append(text)
    return ("; ".join(dict.fromkeys(messages)) or None), fields


def _retry_after_ms(response: httpx.Response) -> float | None:
    # Merge's own client waits for `retry-after-ms` before `retry-after` (merge-api/merge-python-client,
    # src/merge/core/http_client.py `_parse_retry_after`); AtsHttp reads `Retry-After` itself.
    try:
        return max(0.0, float(response.headers["retry-after-ms"]) / 1000)
    except (KeyError, ValueError):
        return None


class MergeClassifier:
    """Map Merge's answers to typed errors: status first, then a write's `problem_type`."""

    def __init__(self, now: Any = None) -> None:
        extra = {"now": now} if now is not None else {}
        self._status = StatusClassifier(SPEC.label, details=_error_details, **extra)

    def __call__(self, response: httpx.Response) -> AtsError | None:
        """Return the error `response` stands for, or None for a success."""
        body = json_or_none(response)
        if response.status_code < 300:
            # A write whose `errors` are set created nothing ("The errors field contains details on issues
            # that cause the request to fail"), whatever its status.
            failed = _problems(body) and not (isinstance(body, Mapping) and body.get("model"))
            if not failed:
                return None
            message, fields = _error_details(body)
            return ValidationFailed(
                SPEC.label, f"refused the data: {message or 'see the fields'}", field_errors=fields
            )
        error = self._status(response)
        if isinstance(error, RateLimited):
            error.retry_after = (
                error.retry_after if error.retry_after is not None else _retry_after_ms(response)
            )
            return error
        if isinstance(error, AuthFailed):
            return AuthFailed(
                SPEC.label,
                f"refused the API key or the linked account token (HTTP {response.status_code})",
                hint=TOKEN_HINT,
            )
        for problem in _problems(body):
            kind = PROBLEM_TYPES.get(str(problem.get("problem_type")))
            if kind is not None:
                text = str(problem.get("detail") or problem.get("title") or problem.get("problem_type"))
                hint = PROBLEM_HINTS.get(str(problem.get("problem_type")))
                return kind(SPEC.label, f"{text} ({problem.get('problem_type')})", hint=hint)
        return error


# --- payload converters --------------------------------------------------------------------------------


def _norm_email(value: str) -> str:
    return value.strip().lower()


@odd_answers_are_errors(SPEC.label, "a job")
def _to_job(item: Mapping[str, Any]) -> Job:
    status = str(item.get("status") or "")
    return Job(
        id=str(item["id"]),
        name=str(item.get("name") or ""),
        status=status,
        is_open=status == OPEN_JOB_STATUS,
        # `offices` and `departments` are ids; their names would need `expand`, whose array encoding the
        # reference describes two ways ("comma separated without spaces" against an array parameter): skipped.
        raw=item,
    )


@odd_answers_are_errors(SPEC.label, "a stage")
def _to_stages(items: Sequence[Mapping[str, Any]], job_id: str) -> list[Stage]:
    # `stage_order`: "The stage's order, with the lowest values ordered first. If the third-party does not
    # return details on the order of stages, this field will not be populated": unordered ones keep Merge's
    # order, after the ordered ones. The order is renumbered so it is unique.
    def key(indexed: tuple[int, Mapping[str, Any]]) -> tuple[bool, int, int]:
        index, item = indexed
        order = item.get("stage_order")
        return (not isinstance(order, int), order if isinstance(order, int) else 0, index)

    ordered = [item for _, item in sorted(enumerate(items), key=key) if not item.get("remote_was_deleted")]
    return [
        Stage(id=str(item["id"]), name=str(item.get("name") or ""), order=i, job_id=job_id, raw=item)
        for i, item in enumerate(ordered)
    ]


@odd_answers_are_errors(SPEC.label, "a candidate")
def _to_candidate(item: Mapping[str, Any]) -> AtsCandidate:
    emails: list[str] = []
    for entry in item.get("email_addresses") or []:
        if isinstance(entry, Mapping) and isinstance(entry.get("value"), str) and entry["value"].strip():
            address = _norm_email(entry["value"])
            if address not in emails:
                emails.append(address)
    linkedin = next(
        (
            str(url["value"])
            for url in item.get("urls") or []
            if isinstance(url, Mapping)
            and isinstance(url.get("value"), str)
            and "linkedin.com" in url["value"]
        ),
        None,
    )
    name = " ".join(str(part) for part in (item.get("first_name"), item.get("last_name")) if part)
    return AtsCandidate(
        id=str(item["id"]),
        name=name,
        emails=tuple(emails),
        linkedin_url=linkedin,
        profile_url=None,  # Merge's model carries no link to the ATS's own page
        updated_at=str(item["modified_at"]) if item.get("modified_at") else None,
        raw=item,
    )


def _results(response: httpx.Response) -> Sequence[Mapping[str, Any]]:
    body = json_or_none(response)
    results = body.get("results") if isinstance(body, Mapping) else None
    return [r for r in results if isinstance(r, Mapping)] if isinstance(results, list) else []


def _q(value: str) -> str:
    # Ids end up in the path; quoting keeps a stray "/" or "?" from calling another endpoint.
    try:
        return quote(str(value), safe="")
    except UnicodeError:
        raise ValidationFailed(SPEC.label, "an id holds characters that cannot be sent") from None


def _instant(stamp: str | None) -> datetime | None:
    if not stamp:
        return None
    try:
        moment = datetime.fromisoformat(str(stamp).strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _person_fields(person: NewCandidate) -> dict[str, bool]:
    """Return which request fields `person` can fill (for a linked account's required parameters)."""
    return {
        "first_name": bool(person.first_name.strip()),
        "last_name": bool(person.last_name.strip()),
        "email_addresses": any(e.address.strip() for e in person.emails),
        "phone_numbers": bool(person.phone),
        "company": bool(person.company),
        "title": bool(person.title),
        "locations": bool(person.location),
        "urls": bool(person.linkedin_url),
        "tags": any(t.strip() for t in person.tags),
    }


def _candidate_model(person: NewCandidate, support: ModelSupport) -> dict[str, Any]:
    """Return the `CandidateRequest` for `person`, with only the fields the linked account takes."""
    model: dict[str, Any] = {}
    if person.first_name.strip():
        model["first_name"] = person.first_name.strip()
    if person.last_name.strip():
        model["last_name"] = person.last_name.strip()
    emails = [
        {"value": e.address.strip(), "email_address_type": EMAIL_TYPES[e.type]}
        for e in person.emails
        if e.address.strip()
    ]
    optional: dict[str, Any] = {
        "email_addresses": emails,
        "company": person.company,
        "title": person.title,
        "locations": [person.location] if person.location else None,
        # PhoneNumberTypeEnum has no "unknown": the type is left out (nullable in PhoneNumberRequest).
        "phone_numbers": [{"value": person.phone}] if person.phone else None,
        "urls": [{"value": person.linkedin_url, "url_type": SOCIAL_MEDIA}] if person.linkedin_url else None,
        "tags": list(dict.fromkeys(t.strip() for t in person.tags if t.strip())) or None,
    }
    # "if the request contains an unrecognized field, we will ignore the field and notify you with a warning"
    # (troubleshooting-tools): fields the account does not list are not sent at all.
    model |= {name: value for name, value in optional.items() if value and support.supports(name)}
    return model


# --- adapter -------------------------------------------------------------------------------------------


class MergeAdapter(NoSyncBack):
    """Merge's unified ATS API behind `ats.base.AtsAdapter`.

    Connection: `secrets["account_token"]` (the linked account), optional `fields["remote_user_id"]` and
    `fields["region"]`; the install's API key arrives as `secrets["api_key"]` (see `create`).
    """

    spec = SPEC

    def __init__(self, config: ConnectionConfig, http: AtsHttp, *, page_size: int = MAX_PAGE_SIZE) -> None:
        self._http = http
        api_key = (config.secrets.get("api_key") or "").strip()
        self._headers: dict[str, str] | None = (
            {"Authorization": f"Bearer {api_key}", "X-Account-Token": config.secrets.get("account_token", "")}
            if api_key
            else None
        )
        self._remote_user_id = (config.fields.get("remote_user_id") or "").strip() or None
        self._webhook_secret = (config.secrets.get("webhook_secret") or "").strip() or None
        self._page_size = max(1, min(page_size, MAX_PAGE_SIZE))
        now = http.options.now
        self._now = now
        self._account: TtlMemory[str, LinkedAccount] = TtlMemory(METADATA_TTL, clock=now)
        self._jobs: TtlMemory[str, Job] = TtlMemory(METADATA_TTL, clock=now)
        self._stages: TtlMemory[str, list[Stage]] = TtlMemory(METADATA_TTL, clock=now)
        self._stage_names: TtlMemory[str, str] = TtlMemory(METADATA_TTL, clock=now)
        self._account_id: str | None = None
        self._lookup_failed_at: float | None = None

    @classmethod
    def create(cls, config: ConnectionConfig, *, budget: RateBudget, options: HttpOptions) -> Self:
        """Build the adapter for `config`, with this install's Merge API key (`options.app_credentials`)."""
        app = {k: v for k, v in (options.app_credentials.get(Vendor.MERGE.value) or {}).items() if v}
        # The key joins the connection's secrets only here, so every error is scrubbed of it too; it is never
        # stored with the connection (the connect form and `scaleup ats connect` store what the spec names).
        config = replace(config, secrets={**config.secrets, **app})
        http = build_http(
            config,
            label=SPEC.label,
            default_base_url=base_url(config),
            classifier=MergeClassifier(now=options.now),
            budget=budget,
            options=options,
        )
        return cls(config, http, page_size=options.page_size or MAX_PAGE_SIZE)

    @property
    def http(self) -> AtsHttp:
        """Return the adapter's HTTP plumbing (tests read its budget)."""
        return self._http

    @property
    def capabilities(self) -> Capabilities:
        """Return what this linked account can do, from its available actions (read at most every 5 min).

        A property because the answer depends on the ATS behind the account, which only Merge knows; when the
        available actions cannot be read, the spec's capabilities stand in, and the call that needs the ATS
        then fails with the real reason.
        """
        account = self._linked_or_none()
        capabilities = SPEC.capabilities if account is None else account.capabilities
        # Deliveries can be trusted only with the organization's signature key (SCALEUP_MERGE_WEBHOOK_KEY).
        return replace(capabilities, webhooks=capabilities.webhooks and self._webhook_secret is not None)

    # --- AtsAdapter ------------------------------------------------------------------------------------

    def check(self) -> AccountInfo:
        """Check both credentials and the linked account, and say what it can do.

        `GET /ats/v1/account-details` answers for the API key and the account token together (401 when either
        is refused); its `status` is COMPLETE for a working account, RELINK_NEEDED when Merge lost access and
        INCOMPLETE when linking was not finished (merge-api/merge-unified-skills, integration-validator's
        diagnostic-endpoints.md, "Check 1"). Then the available actions, the remote user where one is given
        or needed, and the account's name and limits for the confirmation.
        """
        details = json_or_none(self._get("/account-details"))
        details = details if isinstance(details, Mapping) else {}
        self._account_id = str(details["id"]) if details.get("id") else None
        status = str(details.get("status") or "").upper()
        integration = str(details.get("integration") or "the ATS")
        if status in ("RELINK_NEEDED", "INCOMPLETE"):
            words = "must be relinked" if status == "RELINK_NEEDED" else "was not finished linking"
            raise AuthFailed(SPEC.label, f"the {integration} linked account {words}", hint=RELINK_HINT)
        category = details.get("category")
        if category not in (None, "ats"):
            raise ValidationFailed(
                SPEC.label,
                f"the token belongs to a {str(category)[:20]} linked account, not an ATS one",
                hint="Use the account token of the team's ATS linked account: /scaleup connect.",
            )
        self._account.forget("account")
        account = self._linked()
        refusal = account.export_refusal()
        user = self._checked_remote_user(account) if refusal is None else None
        organization = details.get("end_user_organization_name")
        name = f"the {account.integration} account" + (f" of {organization}" if organization else "")
        if refusal is not None:
            described = f"{name} (exclusion only: {refusal}; people it has are left out, nobody is exported)"
        else:
            described = name + (f", exporting as {user}" if user else "")
        return AccountInfo(vendor=SPEC.vendor, account_name=name, acting_user=described, raw=details)

    def iter_jobs(self) -> Iterator[Job]:
        """Yield every open job (`status=OPEN`), following Merge's cursor."""
        for items in self._pages("/jobs", {"status": OPEN_JOB_STATUS, "page_size": self._page_size}):
            yield from (_to_job(item) for item in items if not item.get("remote_was_deleted"))

    def get_job(self, job_id: str) -> Job:
        """Return one job whatever its status (`GET /ats/v1/jobs/{id}`); raise NotFound when it is gone."""
        job = _to_job(json_or_none(self._get(f"/jobs/{_q(job_id)}")))
        self._jobs.put(job.id, job)
        return job

    def list_stages(self, job_id: str) -> list[Stage]:
        """Return the job's interview stages in `stage_order` (`GET /ats/v1/job-interview-stages?job_id=`)."""
        items = [
            i for page in self._pages("/job-interview-stages", self._listing(job_id=job_id)) for i in page
        ]
        stages = _to_stages(items, job_id)
        self._stages.put(job_id, stages)
        return list(stages)

    def find_candidates(
        self, *, email: str | None = None, linkedin_url: str | None = None
    ) -> list[AtsCandidate]:
        """Return candidates with this email (`email_addresses=`); Merge cannot look people up by LinkedIn URL.

        The reference says nothing of case: the address is sent trimmed and lower-cased and answers are
        compared the same way; an address the ATS holds in other case is caught by the dedupe mirror, which
        compares every candidate's lower-cased addresses.
        """
        if not email or not _norm_email(email):
            return []
        wanted = _norm_email(email)
        items = [
            i for page in self._pages("/candidates", self._listing(email_addresses=wanted)) for i in page
        ]
        found = [_to_candidate(item) for item in items if not item.get("remote_was_deleted")]
        return [c for c in found if wanted in c.emails]

    def iter_candidate_pages(self, since: str | None) -> Iterator[CandidatePage]:
        """Yield candidates Merge changed after the cursor (`modified_after`, an ISO 8601 instant; `_changed`
        says how the next cursor is chosen)."""
        for items, cursor in self._changed("/candidates", since):
            yield CandidatePage(tuple(_to_candidate(i) for i in items), cursor)

    def create_prospect(
        self, person: NewCandidate, *, job_id: str | None, stage_id: str | None = None
    ) -> CreatedApplication:
        """Create the candidate; with a job, also an application at `stage_id` where the account takes
        applications (Merge's model has no prospect: a prospect on a job is an application on it)."""
        account = self._for_writes(applications=bool(job_id))
        if job_id and account.creates_applications:
            self._open_job(job_id)
        candidate = self._create_candidate(person, account)
        application = None
        if job_id and account.creates_applications:
            application = self._apply_new(candidate, job_id, stage_id, person, account)
        return _created(candidate, application)

    def create_applicant(
        self, person: NewCandidate, *, job_id: str, stage_id: str | None
    ) -> CreatedApplication:
        """Create the candidate (`POST /candidates`), then its application on `job_id` at `stage_id`.

        Two calls: the nested candidate of POST /applications ("Updates to POST /applications (Oct 2024)",
        help.merge.dev article 10012366) is not part of the published request schema, which types
        `ApplicationRequest.candidate` as a Merge id, and the article keeps the two-step way "fully
        supported". The job is checked first, so a closed job leaves no candidate behind.
        """
        account = self._for_applications(
            job_id,
            candidates=True,
            cannot="create applications",
            hint="Export prospects without a job instead (/scaleup link), or add people in the ATS by hand.",
        )
        candidate = self._create_candidate(person, account)
        application = self._apply_new(candidate, job_id, stage_id, person, account)
        return _created(candidate, application)

    def add_to_job(
        self, candidate_id: str, *, job_id: str, stage_id: str | None, prospect: bool
    ) -> CreatedApplication:
        """Create an application on `job_id` for a candidate the ATS has (`POST /applications`)."""
        account = self._for_applications(
            job_id,
            candidates=False,
            cannot="add candidates to jobs",
            hint="Add the person to the job in the ATS by hand.",
        )
        application = self._apply(candidate_id, job_id, stage_id, None, account)
        return CreatedApplication(
            candidate_id=candidate_id,
            application_id=str(application["id"]),
            raw=application,
        )

    def get_candidate(self, candidate_id: str) -> AtsCandidate | None:
        """Return the candidate once the ATS holds it (it carries a `remote_id`), else None."""
        try:
            item = json_or_none(self._get(f"/candidates/{_q(candidate_id)}"))
        except NotFound:
            return None
        if not isinstance(item, Mapping) or not item.get("id") or not item.get("remote_id"):
            return None
        return _to_candidate(item)

    def visible_candidates(self, candidate_ids: Sequence[str]) -> set[str]:
        """Return those of these ids the ATS holds now (Merge has no look-up by many ids: one by one)."""
        return visible_one_by_one(self, candidate_ids)

    def withdraw(self, record: CreatedRecord, *, reason: str) -> Withdrawn:
        """Refuse: Merge's ATS model can neither reject, archive nor delete an application."""
        raise NotSupported(
            SPEC.label,
            "cannot take an export back: Merge's ATS API can neither reject, archive nor delete an application",
            hint="Reject or remove the application in the ATS by hand.",
        )

    def record_status(self, record: CreatedRecord) -> RecordStatus:
        """Return where the record stands: its application (`GET /ats/v1/applications/{id}`), or for a
        candidate without one, the candidate (`GET /ats/v1/candidates/{id}`). NotFound when Merge has neither.

        Merge's Application says `rejected_at` and `current_stage`; it has no hired or archived state, so a
        record is ACTIVE until rejected. `reject_reason` is an id of a model ScaleUp does not read: no reason.
        """
        if record.application_id:
            item = json_or_none(self._get(f"/applications/{_q(record.application_id)}"))
            return self._status_of(item if isinstance(item, Mapping) else {})
        item = json_or_none(self._get(f"/candidates/{_q(record.candidate_id)}"))
        item = item if isinstance(item, Mapping) else {}
        if not item.get("id"):
            raise NotFound(SPEC.label, f"has no candidate {record.candidate_id} any more")
        return RecordStatus(
            candidate_id=str(item["id"]),
            application_id=None,
            job_id=None,
            prospect=True,
            status=AtsStatus.ACTIVE,
            updated_at=str(item.get("modified_at") or "") or None,
        )

    def iter_status_pages(self, since: str | None) -> Iterator[StatusPage]:
        """Yield applications Merge changed after the cursor (`GET /ats/v1/applications?modified_after=`), the
        poll that catches what webhooks missed; cursors as in `iter_candidate_pages`."""
        for items, cursor in self._changed("/applications", since):
            yield StatusPage(tuple(self._status_of(item) for item in items), cursor)

    def read_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        """Verify a Merge delivery and return the application and candidate changes it announces.

        `X-Merge-Webhook-Signature` is the HMAC-SHA256 of the raw body under the webhook's signature key,
        base64url-encoded, padding stripped on both sides before comparing (merge-api/merge-unified-skills,
        skills/merge-onboarding/references/webhooks.md, "Signature verification"; the older docs name the
        header, https://docs-old.merge.dev/basics/webhooks/merge-webhooks/). The payload is `hook` (its
        `event`), `linked_account` and `data`, the changed common model; events are `<Model>.added`,
        `.changed` and `.removed` (help.merge.dev article 5389453, "Creating webhooks in Merge"). Webhooks are
        shared by the whole Merge organization, so a delivery about another linked account is not this
        connection's and yields nothing. Merge documents no delivery id: the body's digest stands in, so a
        redelivery of the same notification is recognised.
        """
        if self._webhook_secret is None:
            raise NotSupported(
                SPEC.label, "this install has no Merge webhook signature key", hint=WEBHOOK_KEY_HINT
            )
        given = header(headers, WEBHOOK_SIGNATURE_HEADER) or ""
        expected = _signature(self._webhook_secret, body)
        if not given or not signature_matches(given.strip().rstrip("="), expected):
            raise WebhookRejected(SPEC.label, "a webhook delivery came without a valid Merge signature")
        payload = json_body(SPEC.label, body, not_json="a signed webhook delivery is not JSON")
        hook = payload.get("hook") if isinstance(payload, Mapping) else None
        data = payload.get("data") if isinstance(payload, Mapping) else None
        if not isinstance(hook, Mapping) or not isinstance(hook.get("event"), str):
            return []  # "Send test POST request" pings carry no event
        model = hook["event"].partition(".")[0].lower()
        if model not in WEBHOOK_MODELS or not isinstance(data, Mapping) or not data.get("id"):
            return []
        if not self._about_this_account(payload.get("linked_account")):
            return []
        delivery = body_digest(body)[:32]
        if model == "candidate":
            return [WebhookEvent(delivery, hook["event"], candidate_id=str(data["id"]))]
        candidate = str(data["candidate"]) if data.get("candidate") else None
        return [WebhookEvent(delivery, hook["event"], candidate_id=candidate, application_id=str(data["id"]))]

    def register_webhooks(self, url: str) -> WebhookSetup:
        """Say what the Merge organization's admin sets up: Merge has no API for it (webhooks are organization
        wide and made in the dashboard, https://docs.merge.dev/merge-unified/reading-data/webhooks/
        merge-webhooks, "Create webhooks")."""
        return WebhookSetup(
            registered=False,
            instructions=(
                "In Merge's dashboard (Configuration → Webhooks → +Webhook), the Merge organization's admin adds "
                f"{url} with the “Changed data” events for Application and Candidate, then gives ScaleUp's "
                "operator the webhook's signature key (its Security tab) for SCALEUP_MERGE_WEBHOOK_KEY. One "
                "webhook serves every team connected through this Merge organization."
            ),
            events=WEBHOOK_EVENTS,
        )

    def close(self) -> None:
        """Release the HTTP connections."""
        self._http.close()

    # --- helpers ---------------------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if self._headers is None:
            # Nothing is sent without the install's key: Merge would refuse it, and say nothing useful.
            raise AuthFailed(SPEC.label, "this ScaleUp install has no Merge API key", hint=API_KEY_HINT)
        return self._http.request(method, PREFIX + path, headers=self._headers, **kwargs)

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> httpx.Response:
        return self._request("GET", path, params=params)

    def _changed(self, path: str, since: str | None) -> Iterator[tuple[list[Mapping[str, Any]], str | None]]:
        """Yield (records, cursor) of a changed-since listing; the cursor is set on the last page only.

        `modified_after`: "If provided, only objects synced by Merge after this date time will be returned";
        Merge's architecture guide polls exactly so (https://docs.merge.dev/merge-unified/architecture-reference).
        The next cursor is the newest `modified_at` seen, but never later than the moment this listing began
        less `CURSOR_SKEW`: a record changed on a page already read while later pages were read would be
        older than the newest stamp and skipped by every later poll. Records of the overlap come again (and
        are upserted unchanged); the cursor never moves back.
        """
        start = _instant(since)
        began = datetime.fromtimestamp(self._now(), UTC) - CURSOR_SKEW
        params = self._listing()
        if start is not None:
            params["modified_after"] = _stamp(start)
        newest = start
        pending: list[Mapping[str, Any]] | None = None
        for items in self._pages(path, params):
            if pending is not None:
                yield pending, None
            pending = [i for i in items if not i.get("remote_was_deleted")]
            stamps = [m for i in pending if (m := _instant(str(i.get("modified_at") or ""))) is not None]
            newest = max([newest, *stamps] if newest else stamps, default=newest)
        cursor = min(newest, began) if newest is not None else began
        if start is not None and cursor < start:
            cursor = start
        yield pending or [], _stamp(cursor)

    def _status_of(self, item: Mapping[str, Any]) -> RecordStatus:
        if not item.get("id"):
            raise VendorUnavailable(
                SPEC.label, "answered an application in a shape ScaleUp does not understand"
            )
        stage_id = str(item["current_stage"]) if item.get("current_stage") else None
        return RecordStatus(
            candidate_id=str(item.get("candidate") or ""),
            application_id=str(item["id"]),
            job_id=str(item["job"]) if item.get("job") else None,
            prospect=False,
            status=AtsStatus.REJECTED if item.get("rejected_at") else AtsStatus.ACTIVE,
            stage=self._stage_name(stage_id) if stage_id else None,
            stage_id=stage_id,
            updated_at=str(item.get("modified_at") or "") or None,
        )

    def _stage_name(self, stage_id: str) -> str | None:
        name = self._stage_names.get(stage_id)
        if name is None:
            try:
                stage = json_or_none(self._get(f"/job-interview-stages/{_q(stage_id)}"))
            except NotFound:
                return None
            name = str(stage.get("name") or "") if isinstance(stage, Mapping) else ""
            self._stage_names.put(stage_id, name)
        return name or None

    def _about_this_account(self, linked: Any) -> bool:
        """Return True when a delivery's `linked_account` is this connection's (or does not say)."""
        if not isinstance(linked, Mapping) or not linked.get("id"):
            return True
        if self._account_id is None:
            details = json_or_none(self._get("/account-details"))
            self._account_id = (
                str(details.get("id")) if isinstance(details, Mapping) and details.get("id") else ""
            )
        return not self._account_id or str(linked["id"]) == self._account_id

    def _listing(self, **filters: str) -> dict[str, Any]:
        return {**filters, "page_size": self._page_size}

    def _pages(self, path: str, params: Mapping[str, Any]) -> Iterator[Sequence[Mapping[str, Any]]]:
        """Yield each page's `results`, sending `next` back as `cursor` with the same filters ("Ensure that
        all query parameters, aside from cursor and page_size, remain consistent across pagination",
        https://docs.merge.dev/merge-unified/ats/merge-api-basics/pagination); `next` null ends it."""
        if self._headers is None:
            self._request("GET", path)  # raises the missing-key error
        pages = iter_token_pages(
            self._http,
            "GET",
            PREFIX + path,
            items=_results,
            next_token=body_token("next"),
            token_param="cursor",
            params=params,
            headers=self._headers,
        )
        for page in pages:
            yield page.items

    def _linked(self) -> LinkedAccount:
        """Return the linked account's available actions (`GET /ats/v1/available-actions`), cached."""
        account = self._account.get("account")
        if account is None:
            account = _linked_account(json_or_none(self._get("/available-actions")))
            self._account.put("account", account)
            self._lookup_failed_at = None
        return account

    def _linked_or_none(self) -> LinkedAccount | None:
        cached = self._account.get("account")
        if cached is not None:
            return cached
        if self._headers is None:
            return None
        if self._lookup_failed_at is not None and self._now() - self._lookup_failed_at < FAILED_LOOKUP_PAUSE:
            return None
        try:
            return self._linked()
        except AtsError as exc:
            log.warning("Merge: the linked account's available actions could not be read (%s)", exc.code)
            self._lookup_failed_at = self._now()
            return None

    def _for_writes(self, *, applications: bool, candidates: bool = True) -> LinkedAccount:
        """Return the linked account, refusing before any write when it cannot take one or lacks its user."""
        account = self._linked()
        refusal = account.export_refusal()
        if candidates and refusal is not None:
            raise NotSupported(
                SPEC.label,
                f"{refusal}: this account serves to leave out people the ATS already has",
                hint="Nothing to fix in ScaleUp; people already in the ATS are still left out of exports.",
            )
        needs = account.needs_remote_user(
            candidates=candidates, applications=applications and account.creates_applications
        )
        if needs and not self._remote_user_id:
            raise PermissionMissing(
                SPEC.label,
                f"{account.integration} through Merge needs a Remote user ID to create candidates",
                hint=REMOTE_USER_HINT,
            )
        return account

    def _for_applications(self, job_id: str, *, candidates: bool, cannot: str, hint: str) -> LinkedAccount:
        """Return the linked account for a write that adds an application on `job_id` (and, with `candidates`,
        creates the candidate first), refusing before anything is written: `NotSupported` ("Merge cannot
        <cannot> in this <ATS> account", with `hint`) where the account takes no applications, and NotFound
        where the job is not open."""
        account = self._for_writes(applications=True, candidates=candidates)
        if not account.creates_applications:
            raise NotSupported(
                SPEC.label, f"Merge cannot {cannot} in this {account.integration} account", hint=hint
            )
        self._open_job(job_id)
        return account

    def _checked_remote_user(self, account: LinkedAccount) -> str | None:
        """Return who exports act as; refuse a missing remote user the ATS needs, or an unknown or disabled one."""
        if not self._remote_user_id:
            if account.needs_remote_user(applications=account.creates_applications):
                raise PermissionMissing(
                    SPEC.label,
                    f"{account.integration} through Merge needs a Remote user ID to create candidates",
                    hint=REMOTE_USER_HINT,
                )
            return None
        try:
            user = json_or_none(self._get(f"/users/{_q(self._remote_user_id)}"))
        except NotFound:
            raise PermissionMissing(
                SPEC.label,
                f"the Remote user ID {self._remote_user_id[:40]} is not a user of this {account.integration} account",
                hint=REMOTE_USER_HINT,
            ) from None
        user = user if isinstance(user, Mapping) else {}
        name = " ".join(str(p) for p in (user.get("first_name"), user.get("last_name")) if p) or None
        if user.get("disabled") is True:
            raise PermissionMissing(
                SPEC.label,
                f"the Remote user {name or self._remote_user_id[:40]} is disabled in {account.integration}",
                hint=REMOTE_USER_HINT,
            )
        return name or str(user.get("email") or self._remote_user_id)

    def _open_job(self, job_id: str) -> None:
        job = self._jobs.get(job_id) or self.get_job(job_id)
        if not job.is_open:
            raise NotFound(SPEC.label, f"the job “{job.name or job_id}” is not open ({job.status.lower()})")

    def _post(self, path: str, model: Mapping[str, Any]) -> Mapping[str, Any]:
        """Send a write (`{"model": …, "remote_user_id": …}`, the `*EndpointRequest` schemas) and return its model.

        `remote_user_id` goes whenever the connection has one. The request schema marks it required, while the
        writes guide says only "Some ATS integrations need" it and the 2021 changelog made it optional for all
        ATS POST endpoints ("certain integrations still require a remote_user_id … via our Available Actions
        endpoint", https://www.merge.dev/changelog/week-4-june-2021): without one it is left out, and
        `_for_writes` has already refused where the account requires it. No `run_async`: the reference says
        no more of it than "Whether or not third-party updates should be run asynchronously", and a
        synchronous write answers the ATS's refusal at once.
        """
        body: dict[str, Any] = {"model": dict(model)}
        if self._remote_user_id:
            body["remote_user_id"] = self._remote_user_id
        payload = json_or_none(self._request("POST", path, json=body))
        payload = payload if isinstance(payload, Mapping) else {}
        for warning in _problems({"errors": payload.get("warnings")}):
            # "Warnings … notify you about issues with the request that did not prevent the Common Model
            # instance from being created" (troubleshooting-tools): kept in the log, not failed.
            log.info("Merge %s accepted with a warning: %s", path, warning.get("problem_type") or "?")
        created = payload.get("model")
        if not isinstance(created, Mapping) or not created.get("id"):
            raise VendorUnavailable(
                SPEC.label, f"accepted the {path.strip('/')} write but returned no record"
            )
        return created

    def _create_candidate(self, person: NewCandidate, account: LinkedAccount) -> Mapping[str, Any]:
        support = account.candidate or ModelSupport(frozenset(), frozenset(), frozenset())
        has = _person_fields(person)
        missing = sorted(r.split(".")[0] for r in support.required if not has.get(r.split(".")[0], True))
        if missing:
            # Checked before a request, like every vendor's refused data: the field and what fixes it.
            raise ValidationFailed(
                SPEC.label,
                f"{account.integration} needs more to create a candidate",
                field_errors={name: f"required by {account.integration}" for name in dict.fromkeys(missing)},
                hint="Add what is missing to the candidate (an email: Add email), then press Retry.",
            )
        return self._post("/candidates", _candidate_model(person, support))

    def _apply_new(
        self,
        candidate: Mapping[str, Any],
        job_id: str,
        stage_id: str | None,
        person: NewCandidate,
        account: LinkedAccount,
    ) -> Mapping[str, Any]:
        # Two calls are not atomic: when the application fails the candidate stays, and the export's retry
        # finds them by email and adds them to the job instead of creating them twice.
        try:
            return self._apply(str(candidate["id"]), job_id, stage_id, person, account)
        except AtsError as exc:
            log.warning(
                "Merge candidate %s created, but the application failed: %s", candidate["id"], exc.code
            )
            raise

    def _apply(
        self,
        candidate_id: str,
        job_id: str,
        stage_id: str | None,
        person: NewCandidate | None,
        account: LinkedAccount,
    ) -> Mapping[str, Any]:
        support = account.application or ModelSupport(frozenset(), frozenset(), frozenset())
        model: dict[str, Any] = {"candidate": candidate_id, "job": job_id}
        if stage_id is None and "current_stage" in support.required:
            # Workday's applications need a stage ("Field support by integration", POST /applications): the
            # job's first one when the link chose none.
            stages = self._stages.get(job_id) or self.list_stages(job_id)
            if not stages:
                raise NotFound(
                    SPEC.label, f"the job {job_id} has no interview stage to place the application at"
                )
            stage_id = stages[0].id
        if stage_id and support.supports("current_stage"):
            model["current_stage"] = stage_id
        if person is not None and person.source and support.supports("source"):
            model["source"] = person.source  # ApplicationRequest `source`: "The application's source."
        return self._post("/applications", model)


def _signature(secret: str, body: bytes) -> str:
    """Return Merge's signature of `body`: base64url HMAC-SHA256 under the webhook's key, without padding."""
    return base64.urlsafe_b64encode(hmac_sha256(secret, body)).decode().rstrip("=")


def _created(candidate: Mapping[str, Any], application: Mapping[str, Any] | None) -> CreatedApplication:
    return CreatedApplication(
        candidate_id=str(candidate["id"]),
        application_id=str(application["id"]) if application and application.get("id") else None,
        # In the ATS once it has the ATS's own id (SPEC: delayed_visibility); read back until then.
        visible=bool(candidate.get("remote_id")),
        raw={"candidate": candidate, "application": application},
    )
