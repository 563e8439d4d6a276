"""A loopback Lever (https://hire.lever.co/developer/documentation): postings, global stages, opportunities.

Basic auth with the API key as username and an empty password; writes need `perform_as=<user id>`;
errors are `{code, message}`; lists are `{data, hasNext, next}` with `next` sent back as `offset`.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

from core.vocabulary import Vendor
from devkit.ats.base import Emulator
from devkit.ats.wire import EmuRequest, Reply, Route

DEMO_API_KEY = "lever-demo-key"
DEMO_USER_ID = "8d49b010-cc6a-4f40-ace5-e86061c677ed"
SHOW_URL = "https://hire.lever.co/candidates/{id}"
DEFAULT_STAGE = "lead-new"  # "stage … defaults to New Lead" (3rd-party Lever type declaration)
ORIGINS = frozenset({"agency", "applied", "internal", "referred", "sourced", "university"})
# Error codes are 3rd-party and UNSURE (Knit Lever use cases); the body shape {code, message} is the point.
ERROR_CODES = {
    400: "BadRequestError",
    401: "UnauthorizedError",
    403: "ForbiddenError",
    404: "ResourceNotFound",
    422: "UnprocessableEntity",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
}


class Refused(Exception):
    """A request the emulator answers with a Lever error."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class LeverEmulator(Emulator):
    """Lever's postings, stages, users and opportunities (with email dedupe onto one contact)."""

    create_path = "/v1/opportunities"

    vendor = Vendor.LEVER
    api_prefix = "/v1"
    # 10 requests/s per key with bursts to 20 (3rd-party: rate-limits.apis.io Lever profile).
    default_rate_window = 1.0
    demo_secrets: ClassVar[Mapping[str, str]] = {"api_key": DEMO_API_KEY}
    demo_fields: ClassVar[Mapping[str, str]] = {"perform_as": DEMO_USER_ID}

    def routes(self) -> list[Route]:
        """Return the Lever routes this project uses."""
        return [
            Route("GET", r"/v1/postings", self.list_postings),
            Route("GET", r"/v1/postings/(?P<posting_id>[^/]+)", self.get_posting),
            Route("GET", r"/v1/stages", self.list_stages),
            Route("GET", r"/v1/users/(?P<user_id>[^/]+)", self.get_user),
            Route("GET", r"/v1/opportunities", self.list_opportunities),
            Route("GET", r"/v1/opportunities/(?P<opportunity_id>[^/]+)", self.get_opportunity),
            Route("POST", r"/v1/opportunities", self.create_opportunity),
        ]

    def error_reply(
        self, status: int, message: str, *, field_errors: Mapping[str, str] | None = None
    ) -> Reply:
        """Answer Lever's `{code, message}`; field problems are named inside the message."""
        details = "; ".join(f"{name}: {text}" for name, text in (field_errors or {}).items())
        return Reply(status, {"code": ERROR_CODES.get(status, "Error"), "message": details or message})

    def authenticate(self, request: EmuRequest) -> Reply | None:
        """Accept Basic auth with the demo key as username (any password)."""
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            key = base64.b64decode(encoded).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            key = ""
        if scheme.lower() != "basic" or key != self.demo_secrets["api_key"]:
            return self.error_reply(401, "Invalid API key")
        return None

    def normalize_seed(self, collection: str, record: dict[str, Any]) -> dict[str, Any]:
        """Give seeded rows string ids and Lever's millisecond timestamps."""
        record.setdefault("id", str(uuid.uuid4()))
        now = self._now_ms()
        record.setdefault("createdAt", now)
        record.setdefault("updatedAt", record["createdAt"])
        if collection == "opportunities":
            for key in ("emails", "links", "tags", "sources", "applications", "_postings"):
                record.setdefault(key, [])
            record.setdefault("contact", str(uuid.uuid4()))
            record.setdefault("stage", DEFAULT_STAGE)
            record.setdefault("urls", {"show": SHOW_URL.format(id=record["id"])})
        return record

    # --- reads ------------------------------------------------------------------------------------------

    def _list(self, request: EmuRequest, rows: list[dict[str, Any]]) -> Reply:
        """Answer `{data, hasNext, next}`; `next` is an opaque token sent back as `offset`."""
        try:
            limit = int(request.arg("limit") or 100)
            if not 1 <= limit <= 100:
                raise ValueError
            token = request.arg("offset")
            start = int(base64.urlsafe_b64decode(token).decode()) if token else 0
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return self.error_reply(400, "Invalid limit or offset")
        page = rows[start : start + limit]
        more = start + limit < len(rows)
        body: dict[str, Any] = {"data": [self.public(r) for r in page], "hasNext": more}
        if more:
            body["next"] = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
        return Reply(200, body)

    def list_postings(self, request: EmuRequest) -> Reply:
        """Answer `GET /postings` (filter: state)."""
        state = request.arg("state")
        rows = [p for p in self.table("postings").values() if state is None or p.get("state") == state]
        return self._list(request, sorted(rows, key=lambda p: p["createdAt"]))

    def get_posting(self, request: EmuRequest, posting_id: str) -> Reply:
        """Answer `GET /postings/{id}`."""
        posting = self.table("postings").get(posting_id)
        if posting is None:
            return self.error_reply(404, f"Posting {posting_id} not found")
        return Reply(200, {"data": self.public(posting)})

    def list_stages(self, request: EmuRequest) -> Reply:
        """Answer `GET /stages`: the account's stages, in pipeline order (they are not per posting)."""
        return self._list(request, list(self.table("stages").values()))

    def get_user(self, request: EmuRequest, user_id: str) -> Reply:
        """Answer `GET /users/{id}`."""
        user = self.table("users").get(user_id)
        if user is None:
            return self.error_reply(404, f"User {user_id} not found")
        return Reply(200, {"data": self.public(user)})

    def list_opportunities(self, request: EmuRequest) -> Reply:
        """Answer `GET /opportunities` (filters: email, contact_id, updated_at_start in ms)."""
        email = (request.arg("email") or "").strip().lower()
        contact = request.arg("contact_id")
        try:
            since = int(request.arg("updated_at_start") or 0)
        except ValueError:
            return self.error_reply(400, "updated_at_start must be a timestamp in milliseconds")

        def matches(o: Mapping[str, Any]) -> bool:
            return (
                (not email or email in {e.lower() for e in o["emails"]})
                and (contact is None or o["contact"] == contact)
                and o["updatedAt"] >= since
            )

        rows = [o for o in self.table("opportunities").values() if matches(o)]
        return self._list(request, sorted(rows, key=lambda o: o["updatedAt"]))

    def get_opportunity(self, request: EmuRequest, opportunity_id: str) -> Reply:
        """Answer `GET /opportunities/{id}`."""
        found = self.table("opportunities").get(opportunity_id)
        if found is None:
            return self.error_reply(404, f"Opportunity {opportunity_id} not found")
        return Reply(200, {"data": self.public(found)})

    # --- writes -----------------------------------------------------------------------------------------

    def create_opportunity(self, request: EmuRequest) -> Reply:
        """Answer `POST /opportunities?perform_as=…` → 201 `{data: opportunity}`."""
        body = request.json if isinstance(request.json, dict) else {}
        try:
            opportunity = self._new_opportunity(request.arg("perform_as"), body)
        except Refused as exc:
            return self.error_reply(exc.status, str(exc))
        self.table("opportunities")[opportunity["id"]] = opportunity
        self.record_created(
            "opportunity",
            opportunity["id"],
            opportunity["emails"],
            job_id=next(iter(opportunity["_postings"]), None),
            stage_id=opportunity["stage"],
            prospect=opportunity["stage"].startswith("lead-"),
        )
        return Reply(201, {"data": self.public(opportunity)})

    def _new_opportunity(self, perform_as: str | None, body: Mapping[str, Any]) -> dict[str, Any]:
        # perform_as is required on POST /opportunities (3rd-party, consistent across client libraries).
        if not perform_as:
            raise Refused(400, "perform_as: the perform_as query parameter is required")
        if perform_as not in self.table("users"):
            raise Refused(400, f"perform_as: user {perform_as} does not exist")
        emails = [str(e).strip() for e in body.get("emails") or []]
        contact = body.get("contact")
        if contact:
            # An opportunity for an existing contact carries that person's addresses.
            known = [o for o in self.table("opportunities").values() if o["contact"] == contact]
            if not known:
                raise Refused(404, f"Contact {contact} not found")
            emails = list(dict.fromkeys([*emails, *(e for o in known for e in o["emails"])]))
        if not contact and not (body.get("name") or "").strip():
            raise Refused(400, "name: is required when contact is not given")
        bad = [e for e in emails if "@" not in e]
        if bad:
            raise Refused(400, f"emails: {bad[0]!r} is not a valid email address")
        postings = list(body.get("postings") or [])
        if len(postings) > 1:
            raise Refused(400, "postings: only one posting can be given per request")
        for posting_id in postings:
            if posting_id not in self.table("postings"):
                raise Refused(404, f"Posting {posting_id} not found")
        stage = body.get("stage") or DEFAULT_STAGE
        if stage not in self.table("stages"):
            raise Refused(400, f"stage: {stage} is not a stage of this account")
        origin = body.get("origin")
        if origin is not None and origin not in ORIGINS:
            raise Refused(400, f"origin: must be one of {', '.join(sorted(ORIGINS))}")
        # Without `contact`, "Lever will attempt to dedupe by the provided email(s)" onto one contact.
        contact = contact or self._contact_for(emails) or str(uuid.uuid4())
        opportunity_id, now = str(uuid.uuid4()), self._now_ms()
        return {
            "id": opportunity_id,
            "name": body.get("name") or "",
            "headline": body.get("headline") or "",
            "contact": contact,
            "emails": emails,
            "phones": body.get("phones") or [],
            "links": list(body.get("links") or []),
            "tags": list(body.get("tags") or []),
            "sources": list(body.get("sources") or []),
            "origin": origin or "sourced",
            "stage": stage,
            "owner": perform_as,
            "applications": [str(uuid.uuid4()) for _ in postings],
            "_postings": postings,
            "createdAt": now,
            "updatedAt": now,
            "archived": None,
            "urls": {"show": SHOW_URL.format(id=opportunity_id)},
        }

    def _contact_for(self, emails: list[str]) -> str | None:
        wanted = {e.lower() for e in emails}
        for existing in self.table("opportunities").values():
            if wanted & {e.lower() for e in existing["emails"]}:
                return str(existing["contact"])
        return None

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)
