"""Greenhouse Harvest **v3** adapter (v1/v2 were switched off on 2026-08-31).

Auth is OAuth client credentials: `POST https://auth.greenhouse.io/token` with Basic client_id:client_secret
and `grant_type=client_credentials` (+ `sub`, the acting user), then `Authorization: Bearer …`
(https://harvestdocs.greenhouse.io/docs/authentication). Lists use cursor pagination through the `Link`
header (https://harvestdocs.greenhouse.io/docs/pagination).

Connection: secrets `client_id`, `client_secret`; fields `user_id` (sent as `sub`), `source_id`, and
optionally `auth_url`. Token URL choice: `auth_url` when set; else, when `base_url` is overridden (an
emulator or proxy), `<scheme://host of base_url>/token`; else the real auth server.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Self

import httpx

from ats.base import ConnectionConfig, RateBudget
from ats.classify import odd_answers_are_errors
from ats.errors import (
    AuthFailed,
    ChangedSince,
    NotFound,
    NotSupported,
    ValidationFailed,
    VendorUnavailable,
)
from ats.http import AtsHttp, HttpOptions, StatusClassifier, build_http, json_or_none, remaining_reset_hint
from ats.pagination import Page, link_next, paginate
from ats.spec import CredentialField, VendorLimit, VendorSpec
from ats.sync_refusals import NoSyncBack
from ats.types import (
    AccountInfo,
    AtsCandidate,
    CandidatePage,
    Capabilities,
    CreatedApplication,
    CreatedRecord,
    Job,
    NewCandidate,
    Stage,
    WithdrawAction,
    Withdrawn,
)
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
        tags=True,
        notes=False,
        # POST /v3/applications/{id}/reject ("Reject application", harvestdocs.greenhouse.io/reference/
        # post_v3-applications-id-reject): applications and prospect applications alike.
        withdraw=True,
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
        """Yield candidates updated at or after `since` (ISO time); each cursor is the newest time seen."""
        params = {"updated_at": f"gte|{since}"} if since else {}
        newest = since
        for page in self._pages("/v3/candidates", params):
            candidates = tuple(_to_candidate(item) for item in page.items)
            # Results come newest id first, not by updated_at, so the cursor is a running maximum.
            stamps = [c.updated_at for c in candidates if c.updated_at]
            newest = max([newest, *stamps], key=_sort_time) if stamps else newest
            yield CandidatePage(candidates, newest)

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
        found = json_or_none(self._request("GET", "/v3/applications", params={"ids": application_id}))
        if not isinstance(found, list):
            raise VendorUnavailable(SPEC.label, "answered the applications list with something not a list")
        return next(
            (a for a in found if isinstance(a, Mapping) and str(a.get("id")) == str(application_id)), None
        )

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
        reasons = [
            item
            for page in self._pages("/v3/rejection_reasons", {"include_defaults": "true"})
            for item in page.items
            if isinstance(item, Mapping) and item.get("id") is not None
        ]

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

    def _source(self) -> dict[str, Any]:
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
