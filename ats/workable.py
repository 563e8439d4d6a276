"""Workable adapter: REST on the account's own subdomain, `https://{subdomain}.workable.com/spi/v3`.

Reference: https://workable.readme.io/reference (jobs, stages, job-candidates-create,
talent-pool-candidates-create, job-candidates-index, copy-candidate, disqualify-candidate, rate-limits,
update-candidate, webhook-subscriptions, candidate-events).
"""

from __future__ import annotations

import base64
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from ats.base import ConnectionConfig, RateBudget, visible_one_by_one
from ats.classify import Classifier, odd_answers_are_errors
from ats.contact_patch import effective, url_key
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
from core.vocabulary import Vendor

log = logging.getLogger(__name__)

BASE_URL_TEMPLATE = "https://{subdomain}.workable.com/spi/v3"
MAX_PAGE_SIZE = 100  # "The value specified cannot be more than 100 per page."

_SUBDOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")

SPEC = VendorSpec(
    vendor=Vendor.WORKABLE,
    label="Workable",
    # Workable's API lives on the account's own subdomain. https://workable.readme.io/reference
    credentials=(
        CredentialField("api_key", "Access token", secret=True, hint="Settings → Integrations → Apps"),
        CredentialField("subdomain", "Account subdomain", secret=False, hint="the NAME in NAME.workable.com"),
        # Copying a duplicate into another job acts as a member. https://workable.readme.io/reference/copy-candidate
        CredentialField(
            "member_id",
            "Member ID",
            secret=False,
            required=False,
            hint=(
                "Workable member ScaleUp acts as to copy existing candidates into jobs and to undo "
                "exports (GET /members)"
            ),
        ),
    ),
    primary_secret="api_key",
    # Account tokens: 10 requests / 10 s (OAuth and partner tokens get 50).
    # https://workable.readme.io/docs/rate-limits
    rate_limit=VendorLimit(limit=10, window=10.0),
    capabilities=Capabilities(
        export_prospects=True,  # talent pool, or a job candidate left in the "sourced" stage
        prospect_stages=True,  # `?stage=` on a job's sourced candidate; none in the talent pool
        export_applicants=True,  # `?stage=<slug>` places the candidate in one call
        multiple_emails=False,  # a Workable candidate has one `email`
        linkedin_search=False,  # GET /candidates filters by email only
        candidate_sync=True,  # GET /candidates?updated_after=
        add_to_job=False,  # /candidates/{id}/copy needs a `member_id`; enabled when the connection has one
        delayed_visibility=False,
        # POST /candidates/{id}/disqualify needs a `member_id`; enabled when the connection has one
        # (https://workable.readme.io/reference/disqualify-candidate).
        withdraw=False,
        # GET /candidates/:id and GET /candidates?updated_after= (see `record_status`, `iter_status_pages`).
        status_sync=True,
        # POST /subscriptions (scope r_candidates), deliveries signed with the account token in
        # X-Workable-Signature (https://workable.readme.io/reference/webhook-subscriptions-candidates-employees).
        webhooks=True,
        webhook_registration=True,
        # PATCH /candidates/:id takes `firstname`, `lastname`, `email`, `phone` and `social_profiles`
        # (https://workable.readme.io/docs/update-candidate). One `email` per candidate: an address is set
        # where there is none, and none can be taken off without putting another in its place (the page
        # documents no empty value), so no REMOVE_EMAIL.
        contact_fields=frozenset(
            {ContactField.NAME, ContactField.EMAILS, ContactField.PHONE, ContactField.LINKEDIN}
        ),
    ),
)

# --- vendor vocabulary ---------------------------------------------------------------------------------

OPEN_JOB_STATE = "published"
"""Job `state` values are draft, published, closed and archived; only published jobs take candidates."""

SOCIAL_LINKEDIN = "linkedin"
"""`social_profiles[].type` for LinkedIn."""

UPDATED_AFTER_FORMAT = "%Y%m%dT%H%M%SZ"
"""How `updated_after` is sent: "Supported input formats for the timestamp fields created_after &
updated_after are: ISO8601 e.g. 20150708T115616Z; Unix time (e.g. 1436356721)"
(https://workable.readme.io/reference/jobs; the candidates listing takes the same filter,
https://workable.readme.io/reference/job-candidates-index)."""

SYNC_OVERLAP = timedelta(seconds=1)
"""How far before the newest `updated_at` seen the next sync starts. The filter and the stamps carry whole
seconds ("Timestamp fields are rendered in ISO 8601 format (e.g. 2015-06-08T00:00:00Z)",
https://workable.readme.io/reference/whats-new-in-v3) and "after" is all the documentation says, so a
record updated later in the newest second seen is not "after" it: the sync asks from one second earlier
and reads that second again."""

SOURCED_STAGE_KIND = "sourced"
"""Stage `kind` of the stage a `sourced: true` create lands in when no `?stage=` is sent
(https://workable.readme.io/reference/job-candidates-create: "candidates are put into the sourced or
applied stage")."""

MEMBER_HINT = (
    "Add the Workable member id ScaleUp acts as to the connection (/scaleup connect; find it with GET "
    "/members), or disqualify the candidate in Workable by hand."
)

METADATA_TTL = 300.0
"""Seconds the account's stages (slug, name, kind) are reused before being asked again."""

HIRED_STAGE_KIND = "hired"
"""Stage `kind` of the pipeline's hired stage; a candidate there (or with `hired_at`) is hired."""

SIGNATURE_HEADER = "x-workable-signature"
"""Deliveries are signed: "The key for the signature will be either the account token or the oauth application
secret, depending on the type of the integration. The algorithm used for creating the signature is HMAC SHA256
on the payload of the request and the signature itself is sent on the X-Workable-Signature header"
(https://workable.readme.io/reference/webhook-subscriptions-candidates-employees). ScaleUp connects with an
account token, so the token is the key: the app's generated webhook secret has no part in Workable's scheme.
The page does not say how the digest is written; hex (what public integrations compare) and base64 are both
accepted, each compared in constant time."""

MAX_WEBHOOK_BYTES = 1_048_576
"""Bodies above this are refused before any parsing (a candidate with its resume text is tens of kilobytes)."""

SUBSCRIBED_EVENT = "candidate_moved"
"""The one event `register_webhooks` subscribes to. "The target URLs should be unique. If a target URL is
already registered, the service will respond with 409 - Conflict"
(https://workable.readme.io/reference/webhook-subscriptions), so one URL takes one event: stage moves, a hire
among them. No event is documented for a disqualification or an edit; the poll (`iter_status_pages`) reads
those from `updated_at`."""

CANDIDATE_EVENTS = frozenset({"candidate_created", "candidate_moved", "candidate_deleted"})
"""Registration labels of the candidate events (webhook-subscriptions-candidates-employees); the employee
and time-off events are of no use here."""

TALENT_POOL_REFUSALS = frozenset({404, 405, 501})
"""Statuses of `POST /talent_pool/candidates` that mean "this account's API takes no talent-pool creates"
rather than bad data or a bad token. Workable documents none of them for that route (see
`WorkableAdapter.create_prospect`)."""


def base_url(config: ConnectionConfig) -> str:
    """Return the API root for `config`: its `base_url` override, else the account's subdomain URL.

    Raises:
        ValidationFailed: no override and the subdomain is missing or not a valid host label.
    """
    if config.base_url:
        return config.base_url
    subdomain = (config.fields.get("subdomain") or "").strip().lower()
    subdomain = subdomain.removeprefix("https://").removesuffix("/").removesuffix(".workable.com")
    if not _SUBDOMAIN.match(subdomain):
        # Checked before any request: the bearer token must only ever be sent to a *.workable.com host.
        raise ValidationFailed(
            SPEC.label,
            "the connection's account subdomain is missing or invalid",
            hint="Reconnect Workable with the NAME in NAME.workable.com: /scaleup connect.",
        )
    return BASE_URL_TEMPLATE.format(subdomain=subdomain)


# --- classification ------------------------------------------------------------------------------------


def _error_details(body: Any) -> tuple[str | None, dict[str, str]]:
    # Errors look like {"error": "Not authorized"}; validation failures may add `validation_errors`
    # ({field: [messages]}) next to it.
    if not isinstance(body, Mapping):
        return None, {}
    message = body.get("error") if isinstance(body.get("error"), str) else body.get("message")
    fields: dict[str, str] = {}
    details = body.get("validation_errors") or body.get("errors")
    if isinstance(details, Mapping):
        for name, texts in details.items():
            fields[str(name)] = "; ".join(map(str, texts)) if isinstance(texts, list) else str(texts)
    return (str(message) if message else None), fields


def reset_delay(value: str | None, now: float) -> float | None:
    """Return seconds until `X-Rate-Limit-Reset` (epoch seconds, epoch millis or a delta), capped at a window."""
    if not value:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    if number > 1e12:  # milliseconds since the epoch
        number /= 1000
    delay = number - now if number > 1e9 else number
    # Our clock and Workable's disagree a little; a fixed window never needs more than one window's wait.
    return min(max(delay, 0.0), SPEC.rate_limit.window)


class WorkableClassifier:
    """Map Workable statuses to typed errors; 429s wait for `X-Rate-Limit-Reset`."""

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self._status = StatusClassifier(SPEC.label, details=_error_details, now=now)
        self._now = now

    def __call__(self, response: httpx.Response) -> AtsError | None:
        """Return the error `response` stands for, or None for a success."""
        error = self._status(response)
        if isinstance(error, RateLimited) and error.retry_after is None:
            error.retry_after = reset_delay(response.headers.get("X-Rate-Limit-Reset"), self._now())
        return error


# --- payload converters --------------------------------------------------------------------------------


@odd_answers_are_errors(SPEC.label, "a job")
def _to_job(item: Mapping[str, Any]) -> Job:
    location = item.get("location") if isinstance(item.get("location"), Mapping) else {}
    state = str(item.get("state") or "")
    return Job(
        # Every job call after the listing is keyed by `shortcode`, so it is the id the app stores.
        id=str(item["shortcode"]),
        name=str(item.get("title") or item.get("full_title") or ""),
        status=state,
        is_open=state == OPEN_JOB_STATE,
        location=location.get("location_str") or location.get("city") or None,
        department=item.get("department") or None,
        raw=item,
    )


@odd_answers_are_errors(SPEC.label, "a stage")
def _to_stage(item: Mapping[str, Any], index: int, job_id: str) -> Stage:
    position = item.get("position")
    return Stage(
        id=str(item["slug"]),  # `?stage=` and moves take the slug
        name=str(item.get("name") or item["slug"]),
        order=int(position) if isinstance(position, int) else index,
        job_id=job_id,
        raw=item,
    )


@odd_answers_are_errors(SPEC.label, "a candidate")
def _to_candidate(item: Mapping[str, Any]) -> AtsCandidate:
    email = str(item.get("email") or "").strip().lower()
    linkedin = next(
        (
            str(p["url"])
            for p in item.get("social_profiles") or []
            if isinstance(p, Mapping) and str(p.get("type", "")).lower() == SOCIAL_LINKEDIN and p.get("url")
        ),
        None,
    )
    name = item.get("name") or " ".join(filter(None, (item.get("firstname"), item.get("lastname"))))
    return AtsCandidate(
        id=str(item["id"]),
        name=str(name or ""),
        emails=(email,) if email else (),
        linkedin_url=linkedin,
        profile_url=item.get("profile_url") or None,
        updated_at=item.get("updated_at") or None,
        raw=item,
    )


def _candidate_body(person: NewCandidate) -> dict[str, Any]:
    candidate: dict[str, Any] = {}
    if person.first_name and person.last_name:
        candidate |= {"firstname": person.first_name, "lastname": person.last_name}
    else:
        candidate["name"] = person.full_name
    address = next((e.address.strip() for e in person.emails if e.address.strip()), None)
    if address:
        candidate["email"] = address
    headline = " at ".join(filter(None, (person.title, person.company)))
    if headline:
        candidate["headline"] = headline
    if person.location:
        candidate["address"] = person.location
    if person.phone:
        candidate["phone"] = person.phone
    if person.linkedin_url:
        candidate["social_profiles"] = [{"type": SOCIAL_LINKEDIN, "url": person.linkedin_url}]
    tags = list(dict.fromkeys(t.strip() for t in person.tags if t.strip()))
    if tags:
        candidate["tags"] = tags
    # `sourced: true` makes Workable treat the person as uploaded by the team, so no "thank you for
    # applying" email goes out (https://workable.readme.io/reference/job-candidates-create).
    return {"sourced": True, "candidate": candidate}


def _rows(key: str) -> Callable[[httpx.Response], Sequence[Mapping[str, Any]]]:
    """Return an `items` reader for list answers shaped `{key: [...], "paging": {...}}`."""

    def read(response: httpx.Response) -> Sequence[Mapping[str, Any]]:
        body = json_or_none(response)
        rows = body.get(key) if isinstance(body, Mapping) else None
        return [r for r in rows if isinstance(r, Mapping)] if isinstance(rows, list) else []

    return read


def _paging_next(response: httpx.Response) -> str | None:
    body = json_or_none(response)
    paging = body.get("paging") if isinstance(body, Mapping) else None
    value = paging.get("next") if isinstance(paging, Mapping) else None
    return str(value) if value else None


def _instant(stamp: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(stamp.strip())
    except (ValueError, AttributeError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _moment(stamp: str) -> datetime:
    # Compared as instants, not text: "…:00Z" and "…:00.500Z" sort the wrong way round as strings.
    moment = _instant(stamp)
    return datetime.min.replace(tzinfo=UTC) if moment is None else moment  # unreadable: never the cursor


def updated_after(cursor: str) -> str | None:
    """Return the `updated_after` value to send for a sync cursor (the newest `updated_at` seen), or None.

    One second earlier than the cursor's second (`SYNC_OVERLAP`), in the documented basic ISO 8601 form
    (`UPDATED_AFTER_FORMAT`); None when the cursor is unreadable, so the sync lists everyone again.
    """
    moment = _instant(cursor)
    if moment is None:
        return None
    start = moment.astimezone(UTC).replace(microsecond=0)
    try:
        start -= SYNC_OVERLAP
    except OverflowError:
        return None
    return start.strftime(UPDATED_AFTER_FORMAT)


def _q(value: str) -> str:
    # Ids end up in the path; quoting keeps a stray "/" or "?" from changing which endpoint is called.
    try:
        return quote(str(value), safe="")
    except UnicodeError:  # a lone surrogate (valid JSON from the ATS) cannot go in a URL; nothing is sent
        raise ValidationFailed(SPEC.label, "an id holds characters that cannot be sent") from None


def _single(response: httpx.Response, key: str) -> Mapping[str, Any]:
    # Single-record answers are wrapped ({"candidate": {...}}) on some endpoints and bare on others.
    body = json_or_none(response)
    if isinstance(body, Mapping) and isinstance(body.get(key), Mapping):
        return body[key]
    return body if isinstance(body, Mapping) else {}


def _stage_key(value: Any) -> str:
    return str(value or "").strip().casefold()


@odd_answers_are_errors(SPEC.label, "a candidate")
def _to_status(item: Mapping[str, Any], stages: Mapping[str, Mapping[str, Any]]) -> RecordStatus:
    """Read a candidate (GET /candidates/:id, the listing, a candidate event: "similar to candidate
    details") as where the record stands; `stages` maps a stage's slug and name (case-folded) to the stage.

    Workable keeps one candidate record per job, so on a job the record is the application
    (`application_id` = the candidate id); in the talent pool (`job` null) there is none and no stage.
    `disqualified` → rejected with `disqualification_reason`; the hired stage or `hired_at` → hired; else
    active (Workable has no archived candidates). The candidate's `stage` is documented as its "stage slug"
    (job-candidates-index) while answers show the stage's name; either is looked up in the account's stages,
    and a sourced-stage candidate is a prospect.
    """
    candidate_id = str(item["id"])
    updated_at = utc_stamp(item.get("updated_at"))
    record_url = str(item["profile_url"]) if item.get("profile_url") else None
    job = item.get("job")
    if not isinstance(job, Mapping) or not job.get("shortcode"):
        return RecordStatus(
            candidate_id, None, None, True, AtsStatus.ACTIVE, updated_at=updated_at, record_url=record_url
        )
    if not isinstance(item.get("stage"), str | None):
        raise TypeError("stage is not a name")
    raw_stage = str(item.get("stage") or "").strip()
    stage = stages.get(_stage_key(raw_stage), {})
    kind = _stage_key(stage.get("kind")) or _stage_key(raw_stage)
    reason = None
    if item.get("disqualified") is True:
        status = AtsStatus.REJECTED
        reason = str(item["disqualification_reason"]) if item.get("disqualification_reason") else None
    elif item.get("hired_at") or kind == HIRED_STAGE_KIND:
        status = AtsStatus.HIRED
    else:
        status = AtsStatus.ACTIVE
    return RecordStatus(
        candidate_id=candidate_id,
        application_id=candidate_id,
        job_id=str(job["shortcode"]),
        prospect=kind == SOURCED_STAGE_KIND,
        status=status,
        stage=str(stage.get("name") or raw_stage) or None,
        stage_id=str(stage["slug"]) if stage.get("slug") else None,
        reason=reason,
        updated_at=updated_at,
        record_url=record_url,
    )


def _talent_pool_refused(classify: Classifier) -> Classifier:
    """Wrap `classify` so a talent-pool create the account's API does not take becomes `NotSupported`."""

    def classified(response: httpx.Response) -> AtsError | None:
        error = classify(response)
        if error is not None and response.status_code in TALENT_POOL_REFUSALS:
            return NotSupported(
                SPEC.label,
                f"did not take a prospect without a job: its API refused to add them to the talent pool "
                f"(HTTP {response.status_code})",
                hint=(
                    "Choose a job for this export (/scaleup link) so the prospect is created on it, or add "
                    "the person to the talent pool in Workable by hand."
                ),
            )
        return error

    return classified


# --- adapter -------------------------------------------------------------------------------------------


class WorkableAdapter(NoSyncBack):
    """Workable behind `ats.base.AtsAdapter`.

    Connection: `secrets["api_key"]` (bearer access token), `fields["subdomain"]`; optional
    `fields["member_id"]`, the Workable member duplicates are copied into other jobs as.
    """

    spec = SPEC

    def __init__(self, config: ConnectionConfig, http: AtsHttp, *, page_size: int = MAX_PAGE_SIZE) -> None:
        self._http = http
        self._root = str(http.client.base_url).rstrip("/")
        self._headers = {"Authorization": f"Bearer {config.secrets['api_key']}"}
        self._account = (config.fields.get("subdomain") or "").strip() or None
        self._member_id = (config.fields.get("member_id") or "").strip() or None
        self._page_size = max(1, min(page_size, MAX_PAGE_SIZE))
        # The account token signs the webhooks too (`SIGNATURE_HEADER`).
        self._signing_key = str(config.secrets["api_key"])
        self._stages: TtlMemory[str, dict[str, Mapping[str, Any]]] = TtlMemory(
            METADATA_TTL, clock=http.options.now
        )
        self.capabilities = SPEC.capabilities
        if self._member_id:
            # Both the copy and the disqualify act as a member (copy-candidate, disqualify-candidate pages).
            self.capabilities = replace(SPEC.capabilities, add_to_job=True, withdraw=True)

    @classmethod
    def create(cls, config: ConnectionConfig, *, budget: RateBudget, options: HttpOptions) -> WorkableAdapter:
        """Build the adapter with its own HTTP client for `config` (the registry's factory)."""
        http = build_http(
            config,
            label=SPEC.label,
            default_base_url=base_url(config),
            classifier=WorkableClassifier(now=options.now),
            budget=budget,
            options=options,
        )
        return cls(config, http, page_size=options.page_size or MAX_PAGE_SIZE)

    def __repr__(self) -> str:
        return f"WorkableAdapter(base_url={self._root!r})"

    # --- transport ---

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> httpx.Response:
        return self._http.get(path, params=params, headers=self._headers)

    def _post(
        self, path: str, body: Mapping[str, Any], params: Mapping[str, Any] | None = None
    ) -> httpx.Response:
        return self._http.post(path, json=dict(body), params=params, headers=self._headers)

    def _listing(
        self,
        path: str,
        params: Mapping[str, Any],
        items: Callable[[httpx.Response], Sequence[Mapping[str, Any]]],
    ) -> Iterator[Sequence[Mapping[str, Any]]]:
        def fetch(next_url: str | None) -> httpx.Response:
            if next_url is None:
                return self._get(path, params)
            # `paging.next` is an absolute URL; the token must never follow it to another host.
            if not next_url.startswith(self._root + "/"):
                raise AtsError(
                    SPEC.label,
                    "pointed the next page at another host; stopped before sending the token there",
                    hint="Check the connection's subdomain with /scaleup connect.",
                )
            return self._http.get(next_url, headers=self._headers)

        for page in paginate(fetch, items=items, next_token=_paging_next, vendor=SPEC.label):
            yield page.items

    # --- AtsAdapter ---

    def check(self) -> AccountInfo:
        """Verify the token and subdomain with a one-job listing."""
        self._get("/jobs", {"limit": 1})
        return AccountInfo(vendor=SPEC.vendor, account_name=self._account)

    def iter_jobs(self) -> Iterator[Job]:
        """Yield every published job, following `paging.next`."""
        for items in self._listing(
            "/jobs", {"state": OPEN_JOB_STATE, "limit": self._page_size}, _rows("jobs")
        ):
            yield from (_to_job(item) for item in items)

    def get_job(self, job_id: str) -> Job:
        """Return the job with shortcode `job_id`, whatever its state."""
        return _to_job(_single(self._get(f"/jobs/{_q(job_id)}"), "job"))

    def list_stages(self, job_id: str) -> list[Stage]:
        """Return the job's pipeline stages (id = slug) in pipeline order.

        Workable's candidate create page points here for stage values ("Values can be retrieved from the
        jobs/:shortcode/stages endpoint", workable.readme.io/reference/job-candidates-create).
        """
        body = json_or_none(self._get(f"/jobs/{_q(job_id)}/stages"))
        rows = body.get("stages") if isinstance(body, Mapping) else None
        stages = [
            _to_stage(r, i, job_id)
            for i, r in enumerate(rows or [])
            if isinstance(r, Mapping) and r.get("slug")
        ]
        return sorted(stages, key=lambda stage: stage.order)

    def find_candidates(
        self, *, email: str | None = None, linkedin_url: str | None = None
    ) -> list[AtsCandidate]:
        """Return candidates (one per job they are in) whose email matches; LinkedIn search is not offered."""
        if not email:
            return []
        wanted = email.strip().lower()
        found: list[AtsCandidate] = []
        for items in self._listing(
            "/candidates", {"email": wanted, "limit": self._page_size}, _rows("candidates")
        ):
            found.extend(c for c in map(_to_candidate, items) if wanted in c.emails)
        return found

    def iter_candidate_pages(self, since: str | None) -> Iterator[CandidatePage]:
        """Yield candidates updated since `since` (an `updated_at`); the last page's cursor is the newest seen.

        The listing starts one second before the cursor's second (`updated_after`, `SYNC_OVERLAP`), so a
        record updated later in the newest second already seen is read; the few records of that second
        already read come again and are upserted unchanged. Within one listing a record is yielded once:
        `since_id`, which the `paging.next` URLs carry, "Returns results with an ID greater than or equal
        to the specified ID" (https://workable.readme.io/reference/job-candidates-index). Records of the
        overlap are not dropped by comparing them with the previous listing: with whole-second stamps a
        record changed twice in one second looks unchanged, which is the very update the overlap is for.
        """
        for items, cursor in self._changed_since(since):
            yield CandidatePage(tuple(map(_to_candidate, items)), cursor)

    def _changed_since(self, since: str | None) -> Iterator[tuple[tuple[Mapping[str, Any], ...], str | None]]:
        """Yield (candidates, cursor) per page of `GET /candidates?updated_after=`; see `iter_candidate_pages`
        for the overlap and the cursor, which only the last page carries."""
        params: dict[str, Any] = {"limit": self._page_size}
        after = updated_after(since) if since else None
        if after:
            params["updated_after"] = after
        newest = since
        seen: set[str] = set()
        pending: tuple[Mapping[str, Any], ...] | None = None
        for items in self._listing("/candidates", params, _rows("candidates")):
            if pending is not None:
                yield pending, None
            fresh: list[Mapping[str, Any]] = []
            for item in items:
                key = str(item.get("id"))
                if key not in seen:
                    seen.add(key)
                    fresh.append(item)
            pending = tuple(fresh)
            stamps = [str(i["updated_at"]) for i in pending if i.get("updated_at")]
            newest = max([newest, *stamps] if newest else stamps, key=_moment, default=newest)
        yield pending or (), newest

    def create_prospect(
        self, person: NewCandidate, *, job_id: str | None, stage_id: str | None = None
    ) -> CreatedApplication:
        """Create a sourced candidate on the job at `stage_id` (its sourced stage when None), or in the talent
        pool without a job (where no stage parameter is documented).

        Without a job the documentation disagrees with itself: the talent-pool create has its reference page
        ("Creates a candidate in the talent pool. Required scope: w_candidates",
        https://workable.readme.io/reference/talent-pool-candidates-create) while the Getting started guide
        (https://workable.readme.io/reference/generate-an-access-token) is reported (issue 24) to say it is
        not supported. Chosen: call the documented endpoint, since it is the specific and current reference
        and refusing up front would turn away accounts where it works; where an account's API refuses it
        (404, 405 or 501, `TALENT_POOL_REFUSALS`; no status is documented), the prospect fails with
        `NotSupported` saying to choose a job, never with "job closed" or a retryable outage. A 403 stays
        `PermissionMissing` (the token lacks `w_candidates`) and a 422 stays `ValidationFailed`.
        """
        if not job_id:
            return self._create(
                "/talent_pool/candidates",
                person,
                params=None,
                classifier=_talent_pool_refused(self._http.classifier),
            )
        return self._create(
            f"/jobs/{_q(job_id)}/candidates", person, params={"stage": stage_id} if stage_id else None
        )

    def create_applicant(
        self, person: NewCandidate, *, job_id: str, stage_id: str | None
    ) -> CreatedApplication:
        """Create a sourced candidate on `job_id`, placed straight in the stage slug `stage_id`.

        "Depending on the value of the sourced flag, candidates are put into the sourced or applied stage.
        But you can set this if you want to create a candidate directly in another stage"
        (workable.readme.io/reference/job-candidates-create, query parameter `stage`).
        """
        return self._create(
            f"/jobs/{_q(job_id)}/candidates", person, params={"stage": stage_id} if stage_id else None
        )

    def add_to_job(
        self, candidate_id: str, *, job_id: str, stage_id: str | None, prospect: bool
    ) -> CreatedApplication:
        """Copy an existing candidate into `job_id` (needs the connection's `member_id`)."""
        if not self._member_id:
            raise NotSupported(
                SPEC.label,
                "cannot add an existing candidate to another job without a member to act as",
                hint="Add a Workable member id to the connection (/scaleup connect), or add them by hand.",
            )
        # Body: `member_id` and `target_job_shortcode` required, `target_stage` optional
        # (https://workable.readme.io/reference/copy-candidate, Body Params).
        body: dict[str, Any] = {"member_id": self._member_id, "target_job_shortcode": job_id}
        if stage_id:
            body["target_stage"] = stage_id
        # Workable keeps one candidate record per job: the copy gets its own id. The answer is
        # `{"candidate": {"id", "url"}}`, and "To get the new candidate, follow the URL from the body of the
        # response" (https://workable.readme.io/reference/copy-candidate): it has no `profile_url`, which
        # comes from the candidate that `url` (the API record, not a page for people) returns.
        copied = _single(self._post(f"/candidates/{_q(candidate_id)}/copy", body), "candidate")
        if not copied.get("id"):
            raise VendorUnavailable(SPEC.label, "copied the candidate but returned no id")
        new_id = str(copied["id"])
        return CreatedApplication(
            candidate_id=new_id,
            profile_url=self._copied_profile_url(new_id, copied.get("url")),
            raw=copied,
        )

    def get_candidate(self, candidate_id: str) -> AtsCandidate | None:
        """Return the candidate, or None when Workable does not know the id."""
        try:
            item = _single(self._get(f"/candidates/{_q(candidate_id)}"), "candidate")
        except NotFound:
            return None
        return _to_candidate(item) if item.get("id") else None

    def visible_candidates(self, candidate_ids: Sequence[str]) -> set[str]:
        """Return those of these ids the vendor shows (it shows a record at once; asked one by one)."""
        return visible_one_by_one(self, candidate_ids)

    def withdraw(self, record: CreatedRecord, *, reason: str) -> Withdrawn:
        """Undo an export: disqualify the candidate this app created on its job, with `reason`.

        Workable keeps one candidate record per job, so the record *is* the application. Steps:

        1. No `member_id` on the connection: refused (`NotSupported`, `MEMBER_HINT`) before any request —
           the disqualify call acts as a member ("A complete request would be: {"member_id": …,
           "disqualification_reason": …}", https://workable.readme.io/reference/disqualify-candidate).
        2. A talent-pool prospect (no job): refused (`NotSupported`) before any request. Disqualifying is
           a step of a job's pipeline — the candidate's `disqualified` flag sits beside its `stage` on the
           job (https://workable.readme.io/reference/candidate-events, "similar to candidate details") —
           and the disqualify page says nothing of talent-pool candidates; no delete of a candidate is
           documented in the v3 reference either. So nothing is sent and the recruiter is told to remove
           the person in Workable.
        3. `GET /candidates/{id}` (https://workable.readme.io/reference/job-candidates-show) reads it now:
           a 404 is `NotFound`; `disqualified` true, another `job.shortcode`, or a `stage` other than the
           one the app placed it at is `ChangedSince` and nothing is sent (the field names are those of
           https://workable.readme.io/reference/candidate-events). The app keeps the stage's slug; the
           docs do not say whether a candidate's `stage` holds the stage's name or its slug, so the job's
           pipeline is read (`jobs/:shortcode/stages`, which job-candidates-create points to for stage
           values) and either is accepted. A hired candidate is in the "hired" stage, so the same
           comparison leaves it alone. With no `stage_id` the expected stage is the sourced one, where a
           `sourced: true` create lands (job-candidates-create), else the pipeline's first.
        4. `POST /candidates/{id}/disqualify` with `member_id` and `disqualification_reason`
           (https://workable.readme.io/reference/disqualify-candidate). The page documents no response
           body and no error statuses; the answer is not read beyond its status.

        The read and the disqualify are two requests: a person moving the candidate between them is not
        caught (Workable documents no conditional write).
        """
        if not self._member_id:
            raise NotSupported(
                SPEC.label,
                "cannot undo the export without a Workable member to act as (disqualifying needs one)",
                hint=MEMBER_HINT,
            )
        if not record.job_id:
            raise NotSupported(
                SPEC.label,
                "cannot undo an export to the talent pool: its API disqualifies candidates on a job only",
                hint="Remove the person from the talent pool in Workable by hand.",
            )
        candidate = self._withdrawable(record)
        body = {"member_id": self._member_id, "disqualification_reason": reason}
        try:
            self._post(f"/candidates/{_q(record.candidate_id)}/disqualify", body)
        except NotFound:
            raise self._gone(record) from None
        name = str(candidate.get("name") or "the candidate")
        title = str((candidate.get("job") or {}).get("title") or record.job_id)
        return Withdrawn(
            action=WithdrawAction.REJECTED,
            detail=f"{name} was disqualified on {title} in Workable ({reason})",
        )

    # --- two-way sync ---

    def record_status(self, record: CreatedRecord) -> RecordStatus:
        """Return where the record stands: `GET /candidates/:id`
        (https://workable.readme.io/reference/job-candidates-show) read by `_to_status`, the stage named
        through the account's stages (`GET /stages`, cached). A 404 is `NotFound`."""
        item = self._candidate_now(record.candidate_id)
        return _to_status(item, self._stage_table())

    def iter_status_pages(self, since: str | None) -> Iterator[StatusPage]:
        """Yield candidates changed since the cursor `since` (all when None) as statuses: the candidate
        mirror's listing (`_changed_since`: `updated_after`, its overlap, `paging.next`). Every candidate record
        is listed, talent-pool prospects included (without application or stage)."""
        for items, cursor in self._changed_since(since):
            stages = self._stage_table() if items else {}
            yield StatusPage(tuple(_to_status(item, stages) for item in items), cursor)

    def read_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        """Verify `X-Workable-Signature` (HMAC-SHA256 of the raw body keyed with the account token,
        `SIGNATURE_HEADER`) and return the candidate change the delivery announces.

        "Workable will POST a Candidate object when the event is triggered, with a payload similar to candidate
        details" under `data` (https://workable.readme.io/reference/candidate-events); "The payload will reflect
        the state at the time of the request", so `status` is filled from it. The documentation shows only
        `data`; the envelope public integrations read (`id`, `event_type`, `fired_at`, `resource_type`) is used
        when present: `id` as the delivery id, else the event, candidate and `updated_at`. Workable signs no
        timestamp, so staleness cannot be judged; replays are idempotent by `delivery_id`. Bodies over
        `MAX_WEBHOOK_BYTES` are refused unread; employee events give nothing.
        """
        body = capped_body(SPEC.label, body, limit=MAX_WEBHOOK_BYTES)
        signature = header(headers, SIGNATURE_HEADER)
        if not signature:
            raise WebhookRejected(SPEC.label, "sent a webhook without an X-Workable-Signature header")
        digest = hmac_sha256(self._signing_key, body)
        # Hex or base64: the page names no encoding (`SIGNATURE_HEADER`).
        if not signature_matches(signature.strip(), digest.hex(), base64.b64encode(digest).decode()):
            raise WebhookRejected(SPEC.label, "sent a webhook whose X-Workable-Signature does not match")
        return self._webhook_events(json_object(SPEC.label, body), body)

    def _webhook_events(self, payload: Mapping[str, Any], body: bytes) -> list[WebhookEvent]:
        event, resource = payload.get("event_type"), payload.get("resource_type")
        if event is not None and not isinstance(event, str):
            raise WebhookRejected(SPEC.label, "sent a webhook whose event_type is not a name")
        if (event is not None and event not in CANDIDATE_EVENTS) or resource not in (None, "candidate"):
            return []  # employee, onboarding and time-off events
        data = payload.get("data")
        if not isinstance(data, Mapping) or not isinstance(data.get("id"), str) or not data["id"]:
            raise WebhookRejected(SPEC.label, "sent a webhook without the candidate under `data`")
        kind = event or "candidate"
        envelope = payload.get("id")
        if isinstance(envelope, str | int) and not isinstance(envelope, bool) and str(envelope):
            delivery_id = f"workable:{envelope}"
        elif isinstance(data.get("updated_at"), str):
            delivery_id = f"workable:{kind}:{data['id']}:{data['updated_at']}"
        else:
            delivery_id = "workable:" + body_digest(body)
        if kind == "candidate_deleted":
            return [WebhookEvent(delivery_id, kind, str(data["id"]))]
        try:
            status = _to_status(data, self._stages.get("account") or {})  # no request: cached stages only
        except VendorUnavailable:
            raise WebhookRejected(SPEC.label, f"sent a {kind} webhook in an unknown shape") from None
        return [WebhookEvent(delivery_id, kind, status.candidate_id, status.application_id, status)]

    def register_webhooks(self, url: str) -> WebhookSetup:
        """Subscribe `url` to `SUBSCRIBED_EVENT` unless a subscription already targets it.

        `GET /subscriptions` lists the active ones (`id`, `target`, `valid_until`…); `POST /subscriptions` with
        `target` and `event` subscribes, without `args` so every job and stage is included ("If the args object
        is present, job_shortcode and stage_slug are required"); both need r_candidates
        (https://workable.readme.io/reference/webhook-subscriptions). A 409 ("a target URL is already
        registered") means it exists. Subscriptions carry a `valid_until`: registering again, which is
        idempotent, renews one that has lapsed. Deliveries are signed with the account token, so there is no
        secret to give Workable.
        """
        try:
            subscriptions = _rows("subscriptions")(self._get("/subscriptions"))
            if not any(s.get("target") == url for s in subscriptions):
                self._post("/subscriptions", {"target": url, "event": SUBSCRIBED_EVENT})
        except AlreadyExists:
            pass
        except PermissionMissing:
            return WebhookSetup(
                registered=False,
                instructions=(
                    "The Workable access token lacks the r_candidates scope, so ScaleUp could not subscribe "
                    f"to {SUBSCRIBED_EVENT}. Generate a token with r_candidates in Workable (Settings → "
                    "Integrations → Apps) and reconnect with /scaleup connect; until then changes are read "
                    "by the regular poll."
                ),
                events=(SUBSCRIBED_EVENT,),
            )
        return WebhookSetup(
            registered=True,
            instructions=(
                f"Workable sends {SUBSCRIBED_EVENT} to {url}, signed with this connection's access token; "
                "disqualifications and edits are read by the regular poll."
            ),
            events=(SUBSCRIBED_EVENT,),
        )

    def read_contact(self, candidate_id: str) -> ContactDetails:
        """Return the candidate's name, email, phone and LinkedIn profile as Workable holds them.

        `GET /candidates/:id` → `firstname`, `lastname`, `email`, `phone`, `social_profiles [{type, url}]`
        (https://workable.readme.io/reference/job-candidates-show). A deleted candidate answers 404:
        `NotFound`. The docs say nothing of merged candidates: `merged_into` is None.

        Raises:
            NotFound: the candidate does not exist (any more).
        """
        item = self._candidate_now(candidate_id)
        email, phone = str(item.get("email") or "").strip(), str(item.get("phone") or "").strip()
        return ContactDetails(
            first_name=item.get("firstname") or None,
            last_name=item.get("lastname") or None,
            emails=(email,) if email else (),
            phones=(phone,) if phone else (),
            linkedin_url=_to_candidate(item).linkedin_url,
        )

    def update_contact(self, candidate_id: str, patch: ContactPatch, *, current: ContactDetails) -> None:
        """Write what `patch` changes relative to `current` with one `PATCH /candidates/:id`
        `{"candidate": {...}}` (https://workable.readme.io/docs/update-candidate, scope w_candidates).

        `firstname`, `lastname` and `phone` (one number: a new one replaces it) are strings set as given.
        A Workable candidate has one `email` (SPEC: multiple_emails False): the first added address is set
        when the candidate has none; when it holds another, setting one would remove that address, so the
        rest is written and `NotSupported` is raised for the address. `social_profiles` "works like a PUT
        request; i.e the end result will match exactly your input. Any pre-existing entries or values that
        are not included in the request will be deleted" (same page): the candidate is read again
        (`GET /candidates/:id`) and its profiles are sent back whole, the LinkedIn one replaced. Nothing is
        sent when nothing changes. Setting the same values again changes nothing, so a timed-out PATCH may be
        retried.

        Raises:
            NotFound: the candidate does not exist (any more).
            NotSupported: an address was to be added to a candidate that holds another.
        """
        change = effective(patch, current, SPEC.capabilities.contact_fields)
        if change.empty:
            return
        changes: dict[str, Any] = {}
        if change.first_name:
            changes["firstname"] = change.first_name
        if change.last_name:
            changes["lastname"] = change.last_name
        if change.phone:
            changes["phone"] = change.phone
        blocked = bool(change.add_emails) and bool(current.emails)
        if change.add_emails and not current.emails:
            changes["email"] = change.add_emails[0].address
        if change.linkedin_url:
            profiles = [
                {"type": str(p.get("type") or ""), "url": str(p.get("url") or "")}
                for p in self._candidate_now(candidate_id).get("social_profiles") or []
                if isinstance(p, Mapping) and p.get("url")
            ]
            if url_key(change.linkedin_url) not in {url_key(p["url"]) for p in profiles}:
                others = [p for p in profiles if p["type"].lower() != SOCIAL_LINKEDIN]
                changes["social_profiles"] = [*others, {"type": SOCIAL_LINKEDIN, "url": change.linkedin_url}]
        if changes:
            path = f"/candidates/{_q(candidate_id)}"
            self._http.request(
                "PATCH", path, json={"candidate": changes}, headers=self._headers, idempotent=True
            )
        if blocked:
            raise NotSupported(
                SPEC.label,
                "keeps one email per candidate and this one already has another, so the new address was not "
                "added (adding it would remove the one there)",
                hint="If the new address is the right one, change it on the candidate in Workable by hand.",
            )

    def _candidate_now(self, candidate_id: str) -> Mapping[str, Any]:
        """Return `GET /candidates/:id`'s candidate; a 404 (or an answer without one) is `NotFound`."""
        try:
            item = _single(self._get(f"/candidates/{_q(candidate_id)}"), "candidate")
        except NotFound:
            item = {}
        if not item.get("id"):
            raise NotFound(
                SPEC.label,
                f"has no candidate {candidate_id} any more (deleted, or never shown to this token)",
                hint="The record is gone from Workable; nothing is sent to it again.",
            )
        return item

    def _stage_table(self) -> dict[str, Mapping[str, Any]]:
        """Return the account's stages by case-folded slug and name (`GET /stages`, r_jobs; cached).

        https://workable.readme.io/reference/stages lists the pipeline stages with `slug`, `name` and `kind`.
        Without r_jobs the stage stays as the candidate shows it.
        """
        table = self._stages.get("account")
        if table is None:
            try:
                rows = _rows("stages")(self._get("/stages"))
            except PermissionMissing:
                rows = []
            table = {}
            for row in rows:
                for key in (row.get("slug"), row.get("name")):
                    if _stage_key(key):
                        table.setdefault(_stage_key(key), row)
            self._stages.put("account", table)
        return table

    def close(self) -> None:
        """Release the HTTP connections."""
        self._http.close()

    # --- helpers ---

    def _gone(self, record: CreatedRecord) -> NotFound:
        return NotFound(
            SPEC.label,
            f"has no candidate {record.candidate_id} any more (deleted, or never shown to this token)",
            hint="Nothing to undo in Workable: the candidate is already gone.",
        )

    def _withdrawable(self, record: CreatedRecord) -> Mapping[str, Any]:
        """Return the candidate as Workable shows it now, or raise when it must be left alone."""
        try:
            candidate = _single(self._get(f"/candidates/{_q(record.candidate_id)}"), "candidate")
        except NotFound:
            raise self._gone(record) from None
        if not candidate.get("id"):
            raise self._gone(record)
        job = candidate.get("job") if isinstance(candidate.get("job"), Mapping) else None
        if job is None:
            raise NotSupported(
                SPEC.label,
                "cannot undo an export to the talent pool: its API disqualifies candidates on a job only",
                hint="Remove the person from the talent pool in Workable by hand.",
            )
        if str(job.get("shortcode") or "") != record.job_id:
            raise ChangedSince(SPEC.label, "the candidate is on another job now; left as it is")
        if candidate.get("disqualified") is True:
            raise ChangedSince(SPEC.label, "someone already disqualified the candidate; left as it is")
        current = str(candidate.get("stage") or "").strip().casefold()
        expected = self._expected_stage(record)
        if expected is None or current not in {expected.id.casefold(), expected.name.casefold()}:
            shown = candidate.get("stage") or "no stage"
            raise ChangedSince(SPEC.label, f"someone moved the candidate to {shown}; left as it is")
        return candidate

    def _expected_stage(self, record: CreatedRecord) -> Stage | None:
        """Return the stage the app placed the record at: `stage_id`, else the sourced (or first) stage."""
        stages = self.list_stages(str(record.job_id))
        if record.stage_id:
            return next((s for s in stages if s.id == record.stage_id), None)
        sourced = next((s for s in stages if s.raw.get("kind") == SOURCED_STAGE_KIND), None)
        return sourced or (stages[0] if stages else None)

    def _copied_profile_url(self, candidate_id: str, url: Any) -> str | None:
        """Return the copy's `profile_url`, read from the `url` the copy answer gave (else by its id).

        The copy is made by then: a failed read leaves the record link empty rather than failing an export
        whose retry would copy the candidate a second time.
        """
        # Like `paging.next`, the URL is only followed on this connection's own API root.
        where = str(url) if isinstance(url, str) and url.startswith(self._root + "/") else None
        try:
            if where is not None:
                response = self._http.get(where, headers=self._headers)
            else:
                response = self._get(f"/candidates/{_q(candidate_id)}")
        except AtsError as exc:
            log.warning("Workable copy %s: its record link could not be read (%s)", candidate_id, exc.code)
            return None
        found = _single(response, "candidate").get("profile_url")
        return str(found) if found else None

    def _create(
        self,
        path: str,
        person: NewCandidate,
        *,
        params: Mapping[str, Any] | None,
        classifier: Classifier | None = None,
    ) -> CreatedApplication:
        # "email (required)" in the fields table of both creates
        # (https://workable.readme.io/reference/job-candidates-create,
        # https://workable.readme.io/reference/talent-pool-candidates-create): refused here, before a
        # request, like every vendor's rejected data (`ValidationFailed` naming the field). The engine holds
        # people without an email back, so this only guards a caller that did not.
        if not any(e.address.strip() for e in person.emails):
            raise ValidationFailed(
                SPEC.label,
                "needs an email address to create a candidate",
                field_errors={"email": "required by Workable"},
                hint="Add an email to the candidate (Add email), then press Retry.",
            )
        response = self._http.post(
            path, json=_candidate_body(person), params=params, headers=self._headers, classifier=classifier
        )
        created = _single(response, "candidate")
        if not created.get("id"):
            raise VendorUnavailable(SPEC.label, "accepted the candidate but returned no id")
        return CreatedApplication(
            candidate_id=str(created["id"]),
            profile_url=created.get("profile_url") or None,
            raw=created,
        )
