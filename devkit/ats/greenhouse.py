"""A loopback Greenhouse Harvest **v3**: OAuth client-credentials tokens, cursor pagination, candidates.

Built to Greenhouse's Harvest v3 documentation:
https://harvestdocs.greenhouse.io/docs/authentication, /docs/pagination, /docs/list-endpoints.
The token endpoint is served on the same host at `POST /token` (the real one is auth.greenhouse.io/token).

Web hooks (https://developers.greenhouse.io/webhooks.html): an admin creates them in the Dev Center
(`POST /_emulator/webhooks` stands in, one event per web hook or several), and `move_application` — a person
moving, rejecting, unrejecting or hiring in Greenhouse — delivers the documented `{"action", "payload"}` bodies,
Unicode-escaped as Greenhouse's are, signed `Signature: sha256 <hex HMAC-SHA256 of the body>` with the web
hook's Secret Key, with a `Greenhouse-Event-ID` header per delivery. `POST /v3/webhooks` is "Greenhouse partners
exclusive" (HD-OAS) and not served.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar

from core.vocabulary import Vendor
from devkit.ats.base import Emulator
from devkit.ats.webhooks import Delivery
from devkit.ats.wire import EmuRequest, Reply, Route, iso

DEMO_CLIENT_ID = "gh-demo-client"
DEMO_CLIENT_SECRET = "gh-demo-secret"
CURSOR_ONLY = "When passing a cursor, do not include other query params."
EMAIL_TYPES = frozenset({"personal", "work", "other"})
PHONE_TYPES = frozenset({"home", "work", "mobile", "skype", "other"})
# PATCH /v3/candidates/{id}'s body (HD-OAS "Update candidate", `additionalProperties: false`).
CANDIDATE_FIELDS = frozenset(
    {"first_name", "last_name", "preferred_name", "time_zone", "company", "title", "is_private", "can_email"}
    | {"phone_numbers", "addresses", "email_addresses", "website_addresses", "social_media_addresses"}
    | {"tags", "linked_user_ids", "custom_fields"}
)
# The v3 application `status` as a web hook's `application.status` says it ("One of: rejected, hired, active").
HOOK_STATUS = {"in_process": "active", "rejected": "rejected", "hired": "hired", "converted": "active"}
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
        if collection in ("candidates", "applications"):
            record.setdefault("last_activity_at", record["updated_at"])
        return record

    def routes(self) -> list[Route]:
        """Return the v3 routes this project uses."""
        return [
            Route("POST", r"/token", self.issue_token, public=True),
            Route("GET", r"/v3/jobs", self.list_jobs),
            Route("GET", r"/v3/job_interview_stages", self.list_stages),
            Route("GET", r"/v3/candidates", self.list_candidates),
            Route("POST", r"/v3/candidates", self.create_candidate),
            Route("PATCH", r"/v3/candidates/(?P<candidate_id>[^/]+)", self.update_candidate),
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
        """Answer `GET /v3/applications` (filters: ids, candidate_ids, job_ids, status, and the pipe ranges
        updated_at, created_at, last_activity_at; HD-OAS "List applications").

        `status` filters with `active` while the items say `in_process` ("`active` returns applications still
        in process").
        """

        def rows(query: Mapping[str, list[str]]) -> list[dict[str, Any]]:
            candidates, jobs = _id_list(query, "candidate_ids"), _id_list(query, "job_ids")
            status = _first(query, "status")
            if status not in (None, "active", "rejected", "hired", "converted"):
                raise Invalid("status must be one of rejected, hired, converted, active", field="status")
            wanted = "in_process" if status == "active" else status
            return [
                a
                for a in _by_ids(self.table("applications"), query)
                if self.is_visible(a)
                and (not candidates or str(a["candidate_id"]) in candidates)
                and (not jobs or str(a.get("job_id")) in jobs)
                and (wanted is None or a.get("status") == wanted)
                and all(
                    _in_range(a, query, name) for name in ("updated_at", "created_at", "last_activity_at")
                )
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

    def update_candidate(self, request: EmuRequest, candidate_id: str) -> Reply:
        """Answer `PATCH /v3/candidates/{id}` → 200 with the candidate.

        "Only the keys included in the request body are modified … Array fields … replace the existing
        collection wholesale — send the full desired list, not a delta"; the body allows no other keys, email
        types are personal|work|other and phone types home|work|mobile|skype|other; answers 200, 401, 403,
        422 (HD-OAS "Update candidate"). An unknown id is answered 404 as Harvest answers a missing record
        elsewhere (docs silent).
        """
        body = request.json if isinstance(request.json, dict) else {}
        candidate = self.table("candidates").get(candidate_id)
        if candidate is None or not self.is_visible(candidate):
            return self.error_reply(404, "Candidate not found")
        unknown = sorted(set(body) - CANDIDATE_FIELDS)
        if unknown:
            return self.error_reply(
                422, "Validation error", field_errors={unknown[0]: "is not a candidate field"}
            )
        for name in ("first_name", "last_name"):
            # `first_name`/`last_name`: string, maxLength 255 (HD-OAS "Update candidate").
            value = body.get(name, "kept")
            if not isinstance(value, str) or not value.strip() or len(value) > 255:
                return self.error_reply(
                    422, "Validation error", field_errors={name: "must be text of 1 to 255 characters"}
                )
        for index, entry in enumerate(body.get("social_media_addresses") or []):
            # Untyped `{value}` entries, `value` required (HD-OAS).
            if not isinstance(entry, dict) or not entry.get("value") or set(entry) - {"value"}:
                return self.error_reply(
                    422,
                    "Validation error",
                    field_errors={f"social_media_addresses[{index}]": "needs a value and nothing else"},
                )
        for field, types in (("email_addresses", EMAIL_TYPES), ("phone_numbers", PHONE_TYPES)):
            for index, entry in enumerate(body.get(field) or []):
                if not isinstance(entry, dict) or entry.get("type") not in types or not entry.get("value"):
                    return self.error_reply(
                        422,
                        "Validation error",
                        field_errors={
                            f"{field}[{index}]": f"needs a value and a type of {', '.join(sorted(types))}"
                        },
                    )
                if field == "email_addresses" and "@" not in str(entry["value"]):
                    return self.error_reply(
                        422, "Validation error", field_errors={f"{field}[{index}].value": "is not an email"}
                    )
        candidate.update(body)
        candidate["updated_at"] = iso(self.clock())
        return Reply(200, self.public(candidate))

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
            "last_activity_at": now,
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

    # --- a person in Greenhouse, and the web hooks it sends ----------------------------------------------

    def move_application(
        self,
        application_id: str,
        *,
        stage_id: str | None = None,
        status: str | None = None,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """Move an application to the job interview stage `stage_id`, or reject it (`reason`: a rejection
        reason's name or id), hire it, or bring it back (`status` "active": unreject or unhire), as a person
        does in Greenhouse; then deliver the matching web hook. Greenhouse has no "archived".

        A rejected or hired application's `stage_id` and `job_interview_stage_id` are `null` ("`null` for …
        applications in a terminal state", HD-OAS application object); the stage it left is what the web
        hook's `current_stage` names (the rejection example's `current_stage` is "Offer").
        """
        with self.lock:
            application = self.table("applications").get(str(application_id))
            if application is None:
                raise KeyError(f"Greenhouse has no application {application_id}")
            now = iso(self.clock())
            current = application.get("status")
            if stage_id is not None:
                stage = self.table("job_interview_stages").get(str(stage_id))
                if (
                    stage is None
                    or application.get("prospect")
                    or stage["job_id"] != application.get("job_id")
                ):
                    raise ValueError(f"stage {stage_id} is not a stage of this application's job")
                if current != "in_process":
                    raise ValueError(f"a {current} application does not move; bring it back first")
                application.update(
                    stage_id=int(self.new_id()), job_interview_stage_id=stage["id"], stage_name=stage["name"]
                )
                action = "candidate_stage_change"
            elif status == "rejected" and current == "in_process":
                chosen = self._rejection_reason(reason)
                application.update(
                    status="rejected",
                    rejected_at=now,
                    rejection_reason_id=chosen["id"],
                    **_terminal(application),
                )
                action = "reject_candidate"
            elif status == "hired" and current == "in_process" and not application.get("prospect"):
                application.update(status="hired", **_terminal(application))
                application["_offer"] = {"id": int(self.new_id()), "version": 1, "resolved_at": now}
                action = "hire_candidate"
            elif status == "active" and current in ("rejected", "hired"):
                back = self.table("job_interview_stages").get(str(application.get("_left_stage_id")))
                application.update(status="in_process", rejected_at=None, rejection_reason_id=None)
                if back is not None:
                    application.update(stage_id=int(self.new_id()), job_interview_stage_id=back["id"])
                action = "unreject_candidate" if current == "rejected" else "unhire_candidate"
            else:
                raise ValueError(f"Greenhouse cannot make a {current} application {status or 'move'}")
            application.update(updated_at=now, last_activity_at=now)
            candidate = self.table("candidates").get(str(application["candidate_id"]))
            if candidate is not None:
                candidate.update(updated_at=now, last_activity_at=now)
            message = {
                "action": action,
                "payload": {"application": self._hook_application(action, application)},
            }
            changed = dict(application)
        self.deliver(action, message)
        return changed

    def edit_person(self, person_id: str, **changes: Any) -> dict[str, Any]:
        """Edit a candidate's profile as a person does in Greenhouse (see `Emulator.edit_person`): new
        addresses are `personal`, new phones `mobile`; the LinkedIn URL replaces the social entry naming
        LinkedIn. Greenhouse sends no web hook for a profile edit (none of its events is one)."""
        with self.lock:
            candidate = self.table("candidates")[str(person_id)]
            for name in ("first_name", "last_name"):
                if name in changes:
                    candidate[name] = changes[name]
            if "emails" in changes:
                candidate["email_addresses"] = _retyped(
                    candidate.get("email_addresses"), changes["emails"], "personal"
                )
            if "phones" in changes:
                candidate["phone_numbers"] = _retyped(
                    candidate.get("phone_numbers"), changes["phones"], "mobile"
                )
            if "linkedin_url" in changes:
                social = [
                    s for s in candidate.get("social_media_addresses") or [] if "linkedin." not in s["value"]
                ]
                url = changes["linkedin_url"]
                candidate["social_media_addresses"] = [*social, {"value": url}] if url else social
            now = iso(self.clock())
            candidate.update(updated_at=now)
            return dict(candidate)

    def delete_person(self, person_id: str) -> None:
        """Delete the candidate `person_id` and their applications (`delete_candidate`)."""
        self.delete_candidate(person_id)

    def delete_candidate(self, candidate_id: str) -> None:
        """Delete a candidate and their applications, as a person does; deliver `delete_candidate`.

        "In the case of the applications that this delete causes, we will include an array of those
        Application IDs" (Candidate deleted, webhooks.html).
        """
        with self.lock:
            candidate = self.table("candidates").pop(str(candidate_id))
            applications = self.table("applications")
            gone = [
                int(k) for k, a in list(applications.items()) if str(a["candidate_id"]) == str(candidate_id)
            ]
            for key in gone:
                applications.pop(str(key))
            person = {
                **{
                    k: candidate.get(k)
                    for k in ("id", "first_name", "last_name", "company", "title", "created_at")
                },
                "is_private": False,
                "can_email": True,
                "deleted_application_ids": gone,
            }
        self.deliver("delete_candidate", {"action": "delete_candidate", "payload": {"person": person}})

    def deliver(self, action: str, message: Mapping[str, Any]) -> None:
        """Send `message` to every web hook created for `action`, each signed with its own Secret Key."""
        body = _greenhouse_json(message)
        for target in self.webhooks.targets_for(action):
            self.webhooks.send(target, action, body, self._hook_headers(target.secret, body))

    def redeliver(self, delivery: Delivery) -> None:
        """Send a delivery again, as Greenhouse's retries do: the same body, a new `Greenhouse-Event-ID`."""
        target = next(t for t in self.webhooks.targets if t.url == delivery.url)
        self.webhooks.send(
            target, delivery.event, delivery.body, self._hook_headers(target.secret, delivery.body)
        )

    @staticmethod
    def _hook_headers(secret: str, body: bytes) -> dict[str, str]:
        # "Signature: sha256 37d2…" — "the SHA algorithm used to generate the signature, a space, and the
        # signature"; "Each delivery will include a Greenhouse-Event-ID header" (webhooks.html).
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return {"Signature": f"sha256 {digest}", "Greenhouse-Event-ID": str(uuid.uuid4())}

    def _rejection_reason(self, wanted: str | None) -> dict[str, Any]:
        reasons = list(self.table("rejection_reasons").values())
        text = (wanted or "").strip().casefold()
        found = [r for r in reasons if text in (str(r["id"]), str(r.get("name") or "").casefold())]
        if not found and wanted is not None:
            raise ValueError(f"Greenhouse has no rejection reason {wanted!r}")
        return (found or reasons)[0]

    def _hook_application(self, action: str, application: Mapping[str, Any]) -> dict[str, Any]:
        """Return `payload.application` shaped as the Application/Candidate Events examples (webhooks.html)."""
        candidate = self.table("candidates").get(str(application["candidate_id"])) or {}
        people = f"https://app.greenhouse.io/people/{application['candidate_id']}"
        job_ids = (
            [application["job_id"]] if application.get("job_id") else application.get("prospective_job_ids")
        )
        jobs = [self._hook_job(j) for j in job_ids or [] if str(j) in self.table("jobs")]
        hook_candidate = {
            "id": application["candidate_id"],
            "url": people,
            "is_private": False,
            "can_email": True,
            **{k: candidate.get(k) for k in ("first_name", "last_name", "title", "company", "created_at")},
            **{
                k: candidate.get(k) or []
                for k in ("phone_numbers", "email_addresses", "social_media_addresses")
            },
            "tags": candidate.get("tags") or [],
        }
        common = {
            "id": application["id"],
            "url": f"{people}?application_id={application['id']}",
            "candidate": hook_candidate,
            "jobs": jobs,
            "credited_to": None,
            "source": {"id": application["source_id"]} if application.get("source_id") else None,
            "custom_fields": {},
        }
        if action == "hire_candidate":
            # The hired example has no `status`, `current_stage` or `last_activity_at`, and an `offer`.
            offer = application.get("_offer") or {}
            return {
                **common,
                "opening": {"opening_id": None},
                "offer": {**offer, "created_at": offer.get("resolved_at")},
            }
        stage_id = application.get("job_interview_stage_id") or application.get("_left_stage_id")
        stage = self.table("job_interview_stages").get(str(stage_id)) if stage_id else None
        reason = self.table("rejection_reasons").get(str(application.get("rejection_reason_id")))
        return {
            **common,
            "prospect": bool(application.get("prospect")),
            "status": HOOK_STATUS.get(str(application.get("status")), "active"),
            "applied_at": application.get("created_at"),
            "rejected_at": application.get("rejected_at"),
            "last_activity_at": application.get("last_activity_at"),
            "rejection_reason": self.public(reason)
            if reason and application.get("status") == "rejected"
            else None,
            "rejection_details": None,
            "current_stage": None
            if application.get("prospect") or stage is None
            else {"id": stage["id"], "name": stage["name"], "interviews": []},
            "prospect_detail": {"prospect_pool": None, "prospect_stage": None, "prospect_owner": None},
        }

    def _hook_job(self, job_id: Any) -> dict[str, Any]:
        job = self.table("jobs")[str(job_id)]
        return {k: job.get(k) for k in ("id", "name", "requisition_id", "status", "created_at", "opened_at")}

    def _job(self, job_id: Any, field: str) -> dict[str, Any]:
        job = self.table("jobs").get(str(job_id))
        if job is None:
            raise Invalid(f"Job {job_id} not found", field=field, status=404)
        return job


def _retyped(entries: Any, values: list[str], default: str) -> list[dict[str, str]]:
    """Return `values` as `{value, type}` entries, keeping the type an unchanged value had."""
    types = {str(e["value"]).lower(): e.get("type") for e in entries or [] if isinstance(e, dict)}
    return [{"value": v, "type": types.get(v.lower()) or default} for v in values]


def _terminal(application: Mapping[str, Any]) -> dict[str, Any]:
    """Return the fields a rejected or hired application changes: no stage any more (it left `_left_stage_id`)."""
    left = application.get("job_interview_stage_id") or application.get("_left_stage_id")
    return {"stage_id": None, "job_interview_stage_id": None, "_left_stage_id": left}


def _greenhouse_json(message: Mapping[str, Any]) -> bytes:
    """Encode a web hook body as Greenhouse does: "Greenhouse will escape Unicode characters when they are
    encoded as JSON before computing the signature … `<p>hello</p>` … as `\\u003cp\\u003ehello\\u003c/p\\u003e`"
    (webhooks.html, Authentication)."""
    text = json.dumps(message, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode()


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
