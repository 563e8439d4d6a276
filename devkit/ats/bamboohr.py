"""A loopback BambooHR applicant-tracking API (read side): jobs, statuses and paged applications.

Modelled on https://documentation.bamboohr.com/docs/api-details and the official SDK's
ApplicantTrackingApi.md / ApplicationsList*.md. Errors carry no body, only `X-BambooHR-Error-Message`;
throttling answers 503 with `Retry-After` ("be ready for a 503 Service Unavailable").
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlencode

from core.vocabulary import Vendor
from devkit.ats.base import Emulator
from devkit.ats.wire import EmuRequest, Reply, Route

DEMO_API_KEY = "bamboohr-demo-key"
DEMO_COMPANY = "scaleup-demo"
DEFAULT_PAGE_SIZE = 100
NEW_SINCE_FORMAT = "%Y-%m-%d %H:%M:%S"

# `statusGroups` → the job status labels it selects.
STATUS_GROUPS: Mapping[str, frozenset[str]] = {
    "Open": frozenset({"Open"}),
    "Draft": frozenset({"Draft"}),
    "Filled": frozenset({"Filled"}),
    "On Hold": frozenset({"On Hold"}),
    "Canceled": frozenset({"Canceled"}),
    "DRAFT_AND_OPEN": frozenset({"Draft", "Open"}),
    "ALL": frozenset({"Open", "Draft", "Filled", "On Hold", "Canceled"}),
}


def _parse(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class BambooHREmulator(Emulator):
    """BambooHR's `/applicant_tracking/{jobs,statuses,applications}` under the company's gateway path.

    Collections: `api_keys` (id = the key; `ats_access`), `statuses`, `jobs`, `applications` (each with
    its `applicant`). `page_size` sets how many applications a page holds (tests make it tiny).
    """

    vendor = Vendor.BAMBOOHR
    api_prefix = f"/api/gateway.php/{DEMO_COMPANY}/v1"
    default_rate_window = 1.0
    demo_secrets: ClassVar[Mapping[str, str]] = {"api_key": DEMO_API_KEY}
    demo_fields: ClassVar[Mapping[str, str]] = {"subdomain": DEMO_COMPANY}

    def __init__(self, *, page_size: int = DEFAULT_PAGE_SIZE, **kwargs: Any) -> None:
        self.page_size = page_size
        super().__init__(**kwargs)

    # --- framework hooks ---

    def routes(self) -> list[Route]:
        """Return the applicant-tracking read routes."""
        root = r"/api/gateway\.php/(?P<company>[^/]+)/v1/applicant_tracking"
        return [
            Route("GET", root + "/jobs", self._jobs),
            Route("GET", root + "/statuses", self._statuses),
            Route("GET", root + "/applications", self._applications),
            Route("GET", root + r"/applications/(?P<application_id>\d+)", self._application),
        ]

    def error_reply(
        self, status: int, message: str, *, field_errors: Mapping[str, str] | None = None
    ) -> Reply:
        """Return an empty body with the reason in `X-BambooHR-Error-Message`."""
        return Reply(status, None, {"X-BambooHR-Error-Message": message})

    def authenticate(self, request: EmuRequest) -> Reply | None:
        """Accept HTTP Basic with a known key as the user (any password) whose owner has ATS access."""
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            key = base64.b64decode(encoded).decode().partition(":")[0] if scheme.lower() == "basic" else ""
        except (ValueError, binascii.Error):
            key = ""
        record = self.table("api_keys").get(key)
        if record is None:
            return self.error_reply(401, "Invalid API key")
        if not record.get("ats_access", True):
            return self.error_reply(403, "The API key's user has no access to ATS settings")
        if "json" not in request.headers.get("accept", ""):
            # BambooHR answers XML unless JSON is asked for; this emulator only speaks JSON.
            return self.error_reply(406, "Send Accept: application/json")
        return None

    def handle(self, request: EmuRequest) -> Reply:
        """Answer like the base, but throttle with 503 + Retry-After the way BambooHR does."""
        reply = super().handle(request)
        if reply.status == 429:
            headers = {
                "Retry-After": "1",
                **reply.headers,
                "X-BambooHR-Error-Message": "Service Unavailable: throttled",
            }
            return Reply(503, None, headers)
        return reply

    def normalize_seed(self, collection: str, record: dict[str, Any]) -> dict[str, Any]:
        """Keep numeric ids numeric, as BambooHR returns them."""
        if collection in ("jobs", "statuses", "applications") and "id" in record:
            record["id"] = int(record["id"])
        return record

    # --- routes ---

    def _wrong_company(self, company: str) -> Reply | None:
        return None if company == DEMO_COMPANY else self.error_reply(404, "Unknown company domain")

    def _jobs(self, request: EmuRequest, company: str) -> Reply:
        wrong = self._wrong_company(company)
        if wrong:
            return wrong
        group = request.arg("statusGroups", "ALL") or "ALL"
        labels = STATUS_GROUPS.get(group)
        if labels is None:
            return self.error_reply(400, f"Unknown statusGroups value {group!r}")
        jobs = [self.public(j) for j in self.table("jobs").values() if j["status"]["label"] in labels]
        return Reply(200, sorted(jobs, key=lambda j: j["id"]))

    def _statuses(self, request: EmuRequest, company: str) -> Reply:
        return self._wrong_company(company) or Reply(
            200, [self.public(s) for s in self.table("statuses").values()]
        )

    def _applications(self, request: EmuRequest, company: str) -> Reply:
        wrong = self._wrong_company(company)
        if wrong:
            return wrong
        rows = sorted(self.table("applications").values(), key=lambda a: a["id"])
        since_text = request.arg("newSince")
        if since_text:
            try:
                since = datetime.strptime(since_text, NEW_SINCE_FORMAT).replace(tzinfo=UTC)
            except ValueError:
                return self.error_reply(400, "newSince must look like 2024-01-01 13:00:00")
            rows = [a for a in rows if (_parse(str(a.get("appliedDate", ""))) or since) > since]
        if request.arg("jobId"):
            rows = [a for a in rows if str(a["job"]["id"]) == request.arg("jobId")]
        page_text = request.arg("page", "1") or "1"
        if not page_text.isdigit() or int(page_text) < 1:
            return self.error_reply(400, "page must be a positive integer")
        page = int(page_text)
        start = (page - 1) * self.page_size
        chunk = rows[start : start + self.page_size]
        complete = start + self.page_size >= len(rows)
        next_url = None
        if not complete:
            query = {k: v[0] for k, v in request.query.items() if k != "page"} | {"page": page + 1}
            next_url = f"{request.host_url}{request.path}?{urlencode(query)}"
        return Reply(
            200,
            {
                "paginationComplete": complete,
                "nextPageUrl": next_url,
                "applications": [self.public(a) for a in chunk],
            },
        )

    def _application(self, request: EmuRequest, company: str, application_id: str) -> Reply:
        application = self.table("applications").get(application_id)
        if self._wrong_company(company) or application is None:
            return self.error_reply(404, "Application not found")
        return Reply(200, self.public(application))
