"""BambooHR adapter, exclusion only: it reads applicants so ScaleUp skips people BambooHR already has.

BambooHR's applicant-tracking API has no email filter and ScaleUp does not write to it: every export call
raises `NotSupported`. References: https://documentation.bamboohr.com/docs/api-details (auth, base URL,
throttling) and the official SDK's ApplicantTrackingApi.md / ApplicationsList*.md
(https://github.com/BambooHR/bhr-api-python/tree/main/docs).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from ats.base import ConnectionConfig, RateBudget, visible_one_by_one
from ats.classify import odd_answers_are_errors
from ats.errors import AtsError, NotFound, NotSupported, RateLimited, ValidationFailed, VendorUnavailable
from ats.http import AtsHttp, HttpOptions, StatusClassifier, build_http, json_or_none, parse_retry_after
from ats.pagination import paginate
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
    Withdrawn,
)
from core.ttl import TtlMemory
from core.vocabulary import Vendor

log = logging.getLogger(__name__)

BASE_URL_TEMPLATE = "https://api.bamboohr.com/api/gateway.php/{company}/v1"
EXPORT_REFUSED = "BambooHR's API cannot take exports; ScaleUp only excludes candidates already in BambooHR"

_COMPANY = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")

SPEC = VendorSpec(
    vendor=Vendor.BAMBOOHR,
    label="BambooHR",
    credentials=(
        CredentialField("api_key", "API key", secret=True, hint="Your profile → API Keys"),
        CredentialField("subdomain", "Company domain", secret=False, hint="the NAME in NAME.bamboohr.com"),
    ),
    primary_secret="api_key",
    # Not published: "API requests can be throttled … be ready for a 503"; keep it gentle.
    # https://documentation.bamboohr.com/docs/api-details
    rate_limit=VendorLimit(limit=5, window=1.0),
    capabilities=Capabilities(
        export_prospects=False,
        export_applicants=False,
        multiple_emails=False,
        linkedin_search=False,
        candidate_sync=True,  # GET /applicant_tracking/applications?newSince=
        add_to_job=False,
        delayed_visibility=False,
    ),
)

# --- vendor vocabulary ---------------------------------------------------------------------------------

OPEN_JOB_STATUS_GROUP = "Open"
"""`statusGroups` value for jobs that take applicants (others: Draft, Filled, On Hold, Canceled, ALL)."""

ALL_JOBS_STATUS_GROUP = "ALL"
OPEN_JOB_STATUSES = frozenset({"open"})
"""Job `status.label` values (lower-cased) that count as open."""

NEW_SINCE_FORMAT = "%Y-%m-%d %H:%M:%S"
"""`newSince`: "Only get applications newer than a given UTC timestamp, for example 2024-01-01 13:00:00"."""

INDEX_TTL = 120.0
"""Seconds an email index built by `find_candidates` is reused (exclusion tolerates that staleness)."""

ERROR_MESSAGE_HEADER = "X-BambooHR-Error-Message"
"""BambooHR explains most errors in this header; bodies are often empty."""


def base_url(config: ConnectionConfig) -> str:
    """Return the API root for `config`: its `base_url` override, else the company's gateway URL.

    Raises:
        ValidationFailed: no override and the company domain is missing or malformed.
    """
    if config.base_url:
        return config.base_url
    company = (config.fields.get("subdomain") or "").strip().lower().removesuffix(".bamboohr.com")
    if not _COMPANY.match(company):
        raise ValidationFailed(
            SPEC.label,
            "the connection's company domain is missing or invalid",
            hint="Reconnect BambooHR with the NAME in NAME.bamboohr.com: /scaleup connect.",
        )
    return BASE_URL_TEMPLATE.format(company=company)


# --- classification ------------------------------------------------------------------------------------


class BambooHRClassifier:
    """Map BambooHR statuses to typed errors; a 503 with `Retry-After` is throttling, as a 429 is."""

    def __init__(self) -> None:
        self._status = StatusClassifier(SPEC.label)

    def __call__(self, response: httpx.Response) -> AtsError | None:
        """Return the error `response` stands for, or None for a success."""
        status = response.status_code
        if status < 400:
            return None
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        # "API requests can be throttled … be ready for a 503 Service Unavailable" (api-details); a 503 that
        # names a wait is the rate limit, so the budget is penalised like after any 429.
        if status == 429 or (status == 503 and retry_after is not None):
            return RateLimited(SPEC.label, "rate limit reached", retry_after=retry_after)
        error = self._status(response)
        message = response.headers.get(ERROR_MESSAGE_HEADER)
        if error is not None and message and not isinstance(error, VendorUnavailable):
            error.message = f"{error.message} ({message})"
            error.args = (error.message,)
        return error


# --- payload converters --------------------------------------------------------------------------------


def _label(value: Any) -> str | None:
    # BambooHR wraps names as {"id": …, "label": "…"}.
    if isinstance(value, Mapping):
        value = value.get("label")
    return str(value) if value else None


@odd_answers_are_errors(SPEC.label, "a job opening")
def _to_job(item: Mapping[str, Any]) -> Job:
    status = _label(item.get("status")) or ""
    return Job(
        id=str(item["id"]),
        name=_label(item.get("title")) or "",
        status=status,
        is_open=status.lower() in OPEN_JOB_STATUSES,
        location=_label(item.get("location")),
        department=_label(item.get("department")),
        raw=item,
    )


@odd_answers_are_errors(SPEC.label, "a status")
def _to_stage(item: Mapping[str, Any], index: int) -> Stage:
    # Applicant statuses are account-wide, so the stage belongs to no job.
    return Stage(
        id=str(item["id"]),
        name=str(item.get("name") or item.get("translatedName") or ""),
        order=index,
        raw=item,
    )


def _merge_applicants(applications: Sequence[Mapping[str, Any]]) -> list[AtsCandidate]:
    """Return one candidate per applicant id, keeping the order in which applicants first appear."""
    people: dict[str, dict[str, Any]] = {}
    for application in applications:
        applicant = application.get("applicant")
        if not isinstance(applicant, Mapping) or applicant.get("id") is None:
            continue
        person = people.setdefault(
            str(applicant["id"]), {"applicant": applicant, "applications": [], "newest": None}
        )
        person["applications"].append(application)
        applied = application.get("appliedDate")
        if applied and (person["newest"] is None or str(applied) > person["newest"]):
            person["newest"] = str(applied)
    found = []
    for person_id, person in people.items():
        applicant = person["applicant"]
        email = str(applicant.get("email") or "").strip().lower()
        name = " ".join(filter(None, (applicant.get("firstName"), applicant.get("lastName"))))
        found.append(
            AtsCandidate(
                id=person_id,
                name=name,
                emails=(email,) if email else (),
                updated_at=person["newest"],
                raw={"applicant": applicant, "applications": person["applications"]},
            )
        )
    return found


def _applications(response: httpx.Response) -> Sequence[Mapping[str, Any]]:
    body = json_or_none(response)
    rows = body.get("applications") if isinstance(body, Mapping) else None
    return [r for r in rows if isinstance(r, Mapping)] if isinstance(rows, list) else []


def _next_page(response: httpx.Response) -> str | None:
    body = json_or_none(response)
    if not isinstance(body, Mapping) or body.get("paginationComplete", True):
        return None
    url = body.get("nextPageUrl")
    return str(url) if url else None


def to_new_since(cursor: str) -> str:
    """Return the `newSince` value for a cursor (an ISO-8601 `appliedDate`), in UTC."""
    try:
        moment = datetime.fromisoformat(cursor)
    except ValueError:
        return cursor  # already in BambooHR's format
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(NEW_SINCE_FORMAT)


# --- adapter -------------------------------------------------------------------------------------------


class BambooHRAdapter(NoSyncBack):
    """BambooHR behind `ats.base.AtsAdapter`, for exclusion only.

    Connection: `secrets["api_key"]` (HTTP Basic user; BambooHR ignores the password, "x" by convention)
    and `fields["subdomain"]`, the company domain.
    """

    spec = SPEC
    capabilities = SPEC.capabilities

    def __init__(self, config: ConnectionConfig, http: AtsHttp) -> None:
        self._http = http
        self._root = str(http.client.base_url).rstrip("/")
        self._auth = httpx.BasicAuth(config.secrets["api_key"], "x")
        self._company = (config.fields.get("subdomain") or "").strip() or None
        self._index: TtlMemory[str, dict[str, list[Mapping[str, Any]]]] = TtlMemory(
            INDEX_TTL, clock=http.options.now
        )

    @classmethod
    def create(cls, config: ConnectionConfig, *, budget: RateBudget, options: HttpOptions) -> BambooHRAdapter:
        """Build the adapter with its own HTTP client for `config` (the registry's factory)."""
        http = build_http(
            config,
            label=SPEC.label,
            default_base_url=base_url(config),
            classifier=BambooHRClassifier(),
            budget=budget,
            options=options,
        )
        return cls(config, http)

    def __repr__(self) -> str:
        return f"BambooHRAdapter(base_url={self._root!r})"

    # --- transport ---

    def _get(self, path_or_url: str, params: Mapping[str, Any] | None = None) -> httpx.Response:
        # Without `Accept: application/json` BambooHR answers XML; the shared client sends it on every call.
        return self._http.get(path_or_url, params=params, auth=self._auth)

    def _application_pages(self, params: Mapping[str, Any]) -> Iterator[Sequence[Mapping[str, Any]]]:
        def fetch(next_url: str | None) -> httpx.Response:
            if next_url is None:
                return self._get("/applicant_tracking/applications", params)
            return self._get(self._on_our_host(next_url))

        for page in paginate(fetch, items=_applications, next_token=_next_page, vendor=SPEC.label):
            yield page.items

    def _on_our_host(self, next_url: str) -> str:
        # `nextPageUrl` may be absolute (on api.bamboohr.com or the company host) or a path; the key is only
        # ever sent to our own root, so keep the part from `/applicant_tracking/` on and put it there.
        tail = httpx.URL(next_url).raw_path.decode()
        start = tail.find("/applicant_tracking/")
        if start < 0:
            raise AtsError(SPEC.label, "sent a next-page link outside the applicant API; stopped listing")
        return self._root + tail[start:]

    def _jobs(self, status_group: str) -> list[Mapping[str, Any]]:
        body = json_or_none(self._get("/applicant_tracking/jobs", {"statusGroups": status_group}))
        return (
            [j for j in body if isinstance(j, Mapping) and j.get("id") is not None]
            if isinstance(body, list)
            else []
        )

    # --- AtsAdapter ---

    def check(self) -> AccountInfo:
        """Verify the key (and its ATS access) with the applicant-status list."""
        self._get("/applicant_tracking/statuses")
        return AccountInfo(vendor=SPEC.vendor, account_name=self._company)

    def iter_jobs(self) -> Iterator[Job]:
        """Yield every open job opening (BambooHR returns them in one unpaginated list)."""
        for item in self._jobs(OPEN_JOB_STATUS_GROUP):
            job = _to_job(item)
            if job.is_open:
                yield job

    def get_job(self, job_id: str) -> Job:
        """Return one job opening, whatever its status (there is no single-job endpoint)."""
        for item in self._jobs(ALL_JOBS_STATUS_GROUP):
            if str(item["id"]) == str(job_id):
                return _to_job(item)
        raise NotFound(SPEC.label, f"job opening {job_id} was not found")

    def list_stages(self, job_id: str) -> list[Stage]:
        """Return the account's enabled applicant statuses (they are not per job)."""
        body = json_or_none(self._get("/applicant_tracking/statuses"))
        rows = (
            [r for r in body if isinstance(r, Mapping) and r.get("id") is not None]
            if isinstance(body, list)
            else []
        )
        return [_to_stage(r, i) for i, r in enumerate(r for r in rows if r.get("enabled", True))]

    def find_candidates(
        self, *, email: str | None = None, linkedin_url: str | None = None
    ) -> list[AtsCandidate]:
        """Return applicants whose email matches, comparing case-insensitively over every application page.

        BambooHR has no email filter: `GET /applicant_tracking/applications` takes `page`, `jobId`,
        `applicationStatusId`, `applicationStatus`, `jobStatusGroups`, `searchString` ("A general search
        criteria by which to find applications", not documented to match emails), `sortBy`, `sortOrder` and
        `newSince` (BambooHR/bhr-api-python, docs/ApplicantTrackingApi.md). So one scan of every page builds
        an email index that later look-ups reuse for `INDEX_TTL` seconds: an export pass checking many
        candidates reads the applications once, not once per candidate.
        """
        if not email:
            return []
        index = self._index.get("by_email")
        if index is None:
            index = {}
            for items in self._application_pages({}):
                for application in items:
                    applicant = application.get("applicant")
                    address = str(applicant.get("email") or "") if isinstance(applicant, Mapping) else ""
                    if address.strip():
                        index.setdefault(address.strip().lower(), []).append(application)
            self._index.put("by_email", index)
        return _merge_applicants(index.get(email.strip().lower(), []))

    def iter_candidate_pages(self, since: str | None) -> Iterator[CandidatePage]:
        """Yield applicants with applications newer than `since`; the last page's cursor is the newest `appliedDate`."""
        params = {"newSince": to_new_since(since)} if since else {}
        newest = since
        pending: tuple[AtsCandidate, ...] | None = None
        for items in self._application_pages(params):
            if pending is not None:
                yield CandidatePage(pending, None)
            pending = tuple(_merge_applicants(items))
            stamps = [str(a["appliedDate"]) for a in items if a.get("appliedDate")]
            newest = max([newest, *stamps] if newest else stamps, key=to_new_since, default=newest)
        yield CandidatePage(pending or (), newest)

    def create_prospect(
        self, person: NewCandidate, *, job_id: str | None, stage_id: str | None = None
    ) -> CreatedApplication:
        """Refuse: ScaleUp never writes to BambooHR."""
        raise NotSupported(SPEC.label, EXPORT_REFUSED)

    def create_applicant(
        self, person: NewCandidate, *, job_id: str, stage_id: str | None
    ) -> CreatedApplication:
        """Refuse: ScaleUp never writes to BambooHR."""
        raise NotSupported(SPEC.label, EXPORT_REFUSED)

    def add_to_job(
        self, candidate_id: str, *, job_id: str, stage_id: str | None, prospect: bool
    ) -> CreatedApplication:
        """Refuse: ScaleUp never writes to BambooHR."""
        raise NotSupported(SPEC.label, EXPORT_REFUSED)

    def withdraw(self, record: CreatedRecord, *, reason: str) -> Withdrawn:
        """Refuse: ScaleUp never writes to BambooHR, so there is nothing of its own to take back."""
        raise NotSupported(SPEC.label, EXPORT_REFUSED)

    def get_candidate(self, candidate_id: str) -> AtsCandidate | None:
        """Return the applicant with this id, or None (a scan: BambooHR looks up applications, not people)."""
        for items in self._application_pages({}):
            for person in _merge_applicants(items):
                if person.id == str(candidate_id):
                    return person
        return None

    def visible_candidates(self, candidate_ids: Sequence[str]) -> set[str]:
        """Return those of these ids the vendor shows (it shows a record at once; asked one by one)."""
        return visible_one_by_one(self, candidate_ids)

    def close(self) -> None:
        """Release the HTTP connections."""
        self._http.close()
