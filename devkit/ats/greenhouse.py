"""A loopback Greenhouse Harvest **v3**: OAuth client-credentials tokens, cursor pagination, candidates.

Built to the v3 notes in shared/research/ats-apis.md ("Greenhouse Harvest v3 (verified)"):
https://harvestdocs.greenhouse.io/docs/authentication, /docs/pagination, /docs/list-endpoints.
The token endpoint is served on the same host at `POST /token` (the real one is auth.greenhouse.io/token).
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar

from core.vocabulary import Vendor
from devkit.ats.base import Emulator
from devkit.ats.wire import EmuRequest, Reply, Route, iso

DEMO_CLIENT_ID = "gh-demo-client"
DEMO_CLIENT_SECRET = "gh-demo-secret"
CURSOR_ONLY = "When passing a cursor, do not include other query params."
EMAIL_TYPES = frozenset({"personal", "work", "other"})
_DATE_OPERATORS = {"gte": "__ge__", "lte": "__le__", "gt": "__gt__", "lt": "__lt__"}


class Invalid(Exception):
    """A request the emulator answers with 422 (or `status`)."""

    def __init__(self, message: str, *, field: str | None = None, status: int = 422) -> None:
        super().__init__(message)
        self.field = field
        self.status = status


class GreenhouseEmulator(Emulator):
    """Harvest v3 jobs, interview stages, candidates, applications (create, reject), rejection reasons, tokens.

    Args:
        token_ttl: seconds an issued access token lives (tests shorten it to force refreshes).
        **kwargs: see `Emulator`.
    """

    create_path = "/v3/candidates"

    vendor = Vendor.GREENHOUSE
    # v3 limits in fixed 30-second windows (3rd-party: Airbyte source-greenhouse BEHAVIOR.md).
    # https://harvestdocs.greenhouse.io/docs/api-rate-limiting
    default_rate_window = 30.0
    demo_secrets: ClassVar[Mapping[str, str]] = {
        "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET,
    }
    demo_fields: ClassVar[Mapping[str, str]] = {"user_id": "4080", "source_id": "7"}

    def __init__(self, *, token_ttl: float = 3600.0, **kwargs: Any) -> None:
        self.token_ttl = token_ttl
        self.tokens: dict[str, float] = {}
        self.tokens_issued = 0
        self.token_subjects: list[str | None] = []  # the `sub` of each issued token, for tests
        super().__init__(**kwargs)

    def normalize_seed(self, collection: str, record: dict[str, Any]) -> dict[str, Any]:
        """Give seeded rows integer ids and v3's standard timestamps."""
        record.setdefault("id", int(self.new_id()))
        record["id"] = int(record["id"])
        now = iso(self.clock())
        record.setdefault("created_at", now)
        record.setdefault("updated_at", record["created_at"])
        if collection == "candidates":
            for key in ("email_addresses", "tags", "phone_numbers", "social_media_addresses"):
                record.setdefault(key, [])
        return record

    def routes(self) -> list[Route]:
        """Return the v3 routes this project uses."""
        return [
            Route("POST", r"/token", self.issue_token, public=True),
            Route("GET", r"/v3/jobs", self.list_jobs),
            Route("GET", r"/v3/job_interview_stages", self.list_stages),
            Route("GET", r"/v3/candidates", self.list_candidates),
            Route("POST", r"/v3/candidates", self.create_candidate),
            Route("GET", r"/v3/applications", self.list_applications),
            Route("POST", r"/v3/applications", self.create_application),
            Route("POST", r"/v3/applications/(?P<application_id>[^/]+)/reject", self.reject_application),
            Route("GET", r"/v3/rejection_reasons", self.list_rejection_reasons),
        ]

    # --- auth, errors, limits ---------------------------------------------------------------------------

    def error_reply(
        self, status: int, message: str, *, field_errors: Mapping[str, str] | None = None
    ) -> Reply:
        """Answer v1's documented error shape; v3 publishes no schema (clients must parse defensively)."""
        errors = [{"field": name, "message": text} for name, text in (field_errors or {}).items()]
        return Reply(status, {"message": message, "errors": errors})

    def rate_headers(self, limit: int, remaining: int, reset_at: float) -> dict[str, str]:
        """Return Harvest's X-RateLimit-* headers (Reset is an epoch timestamp)."""
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(int(reset_at)),
        }

    def authenticate(self, request: EmuRequest) -> Reply | None:
        """Accept `Authorization: Bearer <token>` for an unexpired token this emulator issued."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        expires = self.tokens.get(token) if scheme.lower() == "bearer" else None
        if expires is None or expires <= self.clock():
            return Reply(401, {"error": "invalid_token", "message": "Access token is invalid or expired"})
        return None

    def revoke_tokens(self) -> None:
        """Invalidate every issued token (the next API call answers 401)."""
        with self.lock:
            self.tokens.clear()

    def issue_token(self, request: EmuRequest) -> Reply:
        """Answer `POST /token`: Basic client_id:client_secret, form grant_type=client_credentials[, sub]."""
        # The auth server answers RFC 6749 errors, not Harvest's shape (3rd-party: Airbyte BEHAVIOR.md).
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            client_id, _, client_secret = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            client_id = client_secret = ""
        expected = (self.demo_secrets["client_id"], self.demo_secrets["client_secret"])
        if scheme.lower() != "basic" or (client_id, client_secret) != expected:
            return Reply(401, {"error": "invalid_client"})
        if request.form.get("grant_type") != ["client_credentials"]:
            return Reply(400, {"error": "unsupported_grant_type"})
        token = secrets.token_urlsafe(24)
        expires_at = self.clock() + self.token_ttl
        self.tokens[token] = expires_at
        self.tokens_issued += 1
        self.token_subjects.append((request.form.get("sub") or [None])[0])
        return Reply(200, {"token_type": "Bearer", "access_token": token, "expires_at": iso(expires_at)})

    # --- lists ------------------------------------------------------------------------------------------

    def _page(
        self, request: EmuRequest, rows: Callable[[Mapping[str, list[str]]], list[dict[str, Any]]]
    ) -> Reply:
        """Answer a list endpoint with v3 cursor pagination (Link rel="next" only, cursor-only follow-ups)."""
        # https://harvestdocs.greenhouse.io/docs/pagination: the cursor embeds the original filters.
        query: Mapping[str, list[str]] = request.query
        offset = 0
        if "cursor" in query:
            if len(query) > 1:
                return Reply(422, {"errors": [CURSOR_ONLY]})
            try:
                state = json.loads(base64.urlsafe_b64decode(query["cursor"][0]))
                query, offset = state["q"], int(state["o"])
            except (ValueError, KeyError, TypeError, binascii.Error):
                return Reply(422, {"errors": ["Invalid cursor."]})
        try:
            per_page = int(query.get("per_page", ["100"])[0])
            if not 1 <= per_page <= 500:
                raise ValueError
            found = rows(query)
        except ValueError:
            return self.error_reply(422, "Validation error", field_errors={"per_page": "must be 1 to 500"})
        except Invalid as exc:
            return self.error_reply(
                exc.status, str(exc), field_errors={exc.field: str(exc)} if exc.field else None
            )
        # Results come in descending primary-key order (3rd-party: Airbyte BEHAVIOR.md).
        found.sort(key=lambda r: -int(r["id"]))
        headers = {}
        if offset + per_page < len(found):
            cursor = base64.urlsafe_b64encode(
                json.dumps({"q": query, "o": offset + per_page}).encode()
            ).decode()
            path = request.path
            headers["Link"] = f'<{request.host_url}{path}?cursor={cursor}>; rel="next"'
        page = [self.public(r) for r in found[offset : offset + per_page]]
        return Reply(200, page, headers)

    def list_jobs(self, request: EmuRequest) -> Reply:
        """Answer `GET /v3/jobs` (filters: status, ids)."""

        def rows(query: Mapping[str, list[str]]) -> list[dict[str, Any]]:
            status = _first(query, "status")
            return [
                j for j in _by_ids(self.table("jobs"), query) if status is None or j.get("status") == status
            ]

        return self._page(request, rows)

    def list_stages(self, request: EmuRequest) -> Reply:
        """Answer `GET /v3/job_interview_stages` (filters: job_ids, active, ids)."""

        def rows(query: Mapping[str, list[str]]) -> list[dict[str, Any]]:
            job_ids = _id_list(query, "job_ids")
            active = _first(query, "active")
            return [
                s
                for s in _by_ids(self.table("job_interview_stages"), query)
                if (not job_ids or str(s["job_id"]) in job_ids)
                and (active is None or str(s.get("active", True)).lower() == active.lower())
            ]

        return self._page(request, rows)

    def list_candidates(self, request: EmuRequest) -> Reply:
        """Answer `GET /v3/candidates` (filters: email, ids, updated_at/created_at pipe ranges)."""

        def rows(query: Mapping[str, list[str]]) -> list[dict[str, Any]]:
            # The email filter matches any of the candidate's addresses, case-insensitively
            # (HD-ref get_v3-candidates).
            email = (_first(query, "email") or "").lower() or None
            return [
                c
                for c in _by_ids(self.table("candidates"), query)
                if self.is_visible(c)
                and (email is None or email in {e["value"].lower() for e in c.get("email_addresses", [])})
                and _in_range(c, query, "updated_at")
                and _in_range(c, query, "created_at")
            ]

        return self._page(request, rows)

    def list_applications(self, request: EmuRequest) -> Reply:
        """Answer `GET /v3/applications` (filters: ids, candidate_ids, job_ids)."""

        def rows(query: Mapping[str, list[str]]) -> list[dict[str, Any]]:
            candidates, jobs = _id_list(query, "candidate_ids"), _id_list(query, "job_ids")
            return [
                a
                for a in _by_ids(self.table("applications"), query)
                if self.is_visible(a)
                and (not candidates or str(a["candidate_id"]) in candidates)
                and (not jobs or str(a.get("job_id")) in jobs)
            ]

        return self._page(request, rows)

    def list_rejection_reasons(self, request: EmuRequest) -> Reply:
        """Answer `GET /v3/rejection_reasons` (filters: ids, include_defaults).

        "Defaults to false, in which case only reasons created by the organization are returned. Set to true
        to also surface the standard set" (harvestdocs.greenhouse.io/reference/get_v3-rejection-reasons).
        Seeded reasons with `_default: true` stand for that standard set.
        """

        def rows(query: Mapping[str, list[str]]) -> list[dict[str, Any]]:
            defaults = (_first(query, "include_defaults") or "false").lower() == "true"
            return [
                r
                for r in _by_ids(self.table("rejection_reasons"), query)
                if defaults or not r.get("_default")
            ]

        return self._page(request, rows)

    # --- writes -----------------------------------------------------------------------------------------

    def reject_application(self, request: EmuRequest, application_id: str) -> Reply:
        """Answer `POST /v3/applications/{id}/reject` → 204 with no body; the application becomes rejected.

        Body: `rejection_reason_id` (integer, required), `notes`, `rejection_email`, `custom_fields`; answers
        204, 401, 403, 422 (harvestdocs.greenhouse.io/reference/post_v3-applications-id-reject). That page
        lists no 404: an unknown id is answered 404 as Harvest answers a missing record elsewhere (docs
        silent). Only an `in_process` application can be rejected (v1: "only applications in the `active`
        state can be rejected"), else 422. A rejected application's `stage_id` and `job_interview_stage_id`
        are null ("`null` for … applications in a terminal state", the v3 application object). The notes
        land in a `rejection_details` row ("capturing who rejected it, when, why (the rejection reason), the
        linked rejection note", get_v3-rejection-details); this emulator serves no route for it.
        """
        body = request.json if isinstance(request.json, dict) else {}
        with self.lock:
            application = self.table("applications").get(application_id)
            if application is None or not self.is_visible(application):
                return self.error_reply(404, "Application not found")
            reason_id = body.get("rejection_reason_id")
            if not isinstance(reason_id, int) or isinstance(reason_id, bool):
                return self.error_reply(
                    422, "Validation error", field_errors={"rejection_reason_id": "is required (integer)"}
                )
            if str(reason_id) not in self.table("rejection_reasons"):
                return self.error_reply(
                    422, "Validation error", field_errors={"rejection_reason_id": "is not a rejection reason"}
                )
            if application.get("status") != "in_process":
                return self.error_reply(
                    422, f"Application is {application.get('status')} and cannot be rejected"
                )
            now = iso(self.clock())
            application.update(
                status="rejected",
                rejected_at=now,
                rejection_reason_id=reason_id,
                stage_id=None,
                job_interview_stage_id=None,
                updated_at=now,
                last_activity_at=now,
            )
            detail_id = int(self.new_id())
            self.table("rejection_details")[str(detail_id)] = {
                "id": detail_id,
                "application_id": application["id"],
                "rejection_reason_id": reason_id,
                "notes": body.get("notes"),
                "created_at": now,
                "updated_at": now,
            }
        return Reply(204)

    def create_candidate(self, request: EmuRequest) -> Reply:
        """Answer `POST /v3/candidates`: the person plus at most one nested `application` → 201."""
        body = request.json if isinstance(request.json, dict) else {}
        try:
            candidate = self._new_candidate(body)
            spec = body.get("application")
            application = None
            if spec is not None:
                application = self._new_application(dict(spec), candidate["id"])
        except Invalid as exc:
            return self.error_reply(
                exc.status, str(exc), field_errors={exc.field: str(exc)} if exc.field else None
            )
        emails = [e["value"] for e in candidate["email_addresses"]]
        self._store("candidates", candidate, emails)
        if application is not None:
            self._store("applications", application, emails)
        return Reply(
            201,
            {"candidate": self.public(candidate), "application": application and self.public(application)},
        )

    def create_application(self, request: EmuRequest) -> Reply:
        """Answer `POST /v3/applications` for an existing candidate → 201 with the application."""
        body = request.json if isinstance(request.json, dict) else {}
        candidate = self.table("candidates").get(str(body.get("candidate_id")))
        if candidate is None:
            return self.error_reply(404, "Candidate not found")
        try:
            application = self._new_application(body, candidate["id"])
        except Invalid as exc:
            return self.error_reply(
                exc.status, str(exc), field_errors={exc.field: str(exc)} if exc.field else None
            )
        self._store("applications", application, [e["value"] for e in candidate.get("email_addresses", [])])
        return Reply(201, self.public(application))

    def _store(self, collection: str, record: dict[str, Any], emails: list[str]) -> None:
        self.stamp_visibility(record)
        self.table(collection)[str(record["id"])] = record
        self.record_created(
            collection.removesuffix("s"),
            str(record["id"]),
            emails,
            job_id=record.get("job_id") or next(iter(record.get("prospective_job_ids") or []), None),
            stage_id=record.get("job_interview_stage_id"),
            prospect=record.get("prospect"),
        )

    def _new_candidate(self, body: Mapping[str, Any]) -> dict[str, Any]:
        for name in ("first_name", "last_name"):
            value = body.get(name)
            if not isinstance(value, str) or not value.strip():
                raise Invalid(f"{name} is required", field=name)
            if len(value) > 255:
                raise Invalid(f"{name} is too long (maximum is 255 characters)", field=name)
        for index, email in enumerate(body.get("email_addresses") or []):
            if email.get("type") not in EMAIL_TYPES:
                raise Invalid(
                    "type must be one of personal, work, other", field=f"email_addresses[{index}].type"
                )
            if "@" not in str(email.get("value", "")):
                raise Invalid("is not a valid email address", field=f"email_addresses[{index}].value")
        now = iso(self.clock())
        keys = ("first_name", "last_name", "company", "title", "tags", "phone_numbers", "email_addresses")
        record = {
            k: body.get(k) or ([] if k in ("tags", "phone_numbers", "email_addresses") else None)
            for k in keys
        }
        record["social_media_addresses"] = [
            {"value": s["value"]} for s in body.get("social_media_addresses") or []
        ]
        record["website_addresses"] = body.get("website_addresses") or []
        return {
            "id": int(self.new_id()),
            **record,
            "created_at": now,
            "updated_at": now,
            "last_activity_at": now,
        }

    def _new_application(self, spec: dict[str, Any], candidate_id: int) -> dict[str, Any]:
        now = iso(self.clock())
        common = {
            "candidate_id": candidate_id,
            "source_id": spec.get("source_id"),
            "created_at": now,
            "updated_at": now,
        }
        if spec.get("prospect"):
            job_ids = [self._job(j, "application.job_ids")["id"] for j in spec.get("job_ids") or []]
            return {
                "id": int(self.new_id()),
                **common,
                "prospect": True,
                "job_id": None,
                "prospective_job_ids": job_ids,
                "status": "in_process",
                "stage_id": None,
                "job_interview_stage_id": None,
                "stage_name": None,
            }
        if spec.get("job_id") is None:
            raise Invalid("job_id is required unless prospect is true", field="application.job_id")
        job = self._job(spec["job_id"], "application.job_id")
        if job.get("status") != "open":
            raise Invalid("Job is not open", field="application.job_id")
        stages = sorted(
            (s for s in self.table("job_interview_stages").values() if s["job_id"] == job["id"]),
            key=lambda s: s.get("sort_order", 0),
        )
        wanted = spec.get("initial_stage_id")
        stage = next((s for s in stages if wanted is None or str(s["id"]) == str(wanted)), None)
        if stage is None:
            raise Invalid("initial_stage_id is not a stage of this job", field="application.initial_stage_id")
        return {
            "id": int(self.new_id()),
            **common,
            "prospect": False,
            "job_id": job["id"],
            "prospective_job_ids": [],
            "status": "in_process",
            "stage_id": int(self.new_id()),
            "job_interview_stage_id": stage["id"],
            "stage_name": stage["name"],
        }

    def _job(self, job_id: Any, field: str) -> dict[str, Any]:
        job = self.table("jobs").get(str(job_id))
        if job is None:
            raise Invalid(f"Job {job_id} not found", field=field, status=404)
        return job


def _first(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _id_list(query: Mapping[str, list[str]], name: str) -> set[str]:
    """Return the comma-separated ids of `name`; v3 caps id filters at 50 (HD-list /docs/list-endpoints)."""
    ids = {part for value in query.get(name, []) for part in value.split(",") if part}
    if len(ids) > 50:
        raise Invalid(f"{name} accepts at most 50 ids", field=name)
    return ids


def _by_ids(table: Mapping[str, dict[str, Any]], query: Mapping[str, list[str]]) -> list[dict[str, Any]]:
    ids = _id_list(query, "ids")
    return [r for key, r in table.items() if not ids or key in ids]


def _in_range(record: Mapping[str, Any], query: Mapping[str, list[str]], name: str) -> bool:
    """Apply a pipe-delimited date filter like `updated_at=gte|2024-01-01T00:00:00Z|lte|…`."""
    raw = _first(query, name)
    if not raw:
        return True
    parts = raw.split("|")
    if len(parts) % 2 or any(op not in _DATE_OPERATORS for op in parts[::2]):
        raise Invalid(f"{name} must look like gte|<ISO-8601 time>", field=name)
    value = _parse_time(str(record.get(name)))
    for op, when in zip(parts[::2], parts[1::2], strict=True):
        if not getattr(value, _DATE_OPERATORS[op])(_parse_time(when)):
            return False
    return True


def _parse_time(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(f"{text!r} is not an ISO-8601 time") from None
