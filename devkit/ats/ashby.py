"""A loopback Ashby: RPC `POST /<object>.<action>` with JSON, Basic auth (key, empty password).

Built to the OpenAPI document in tests/specs/ashby-openapi.yml (https://developers.ashbyhq.com/). Like
Ashby, it answers most failures with HTTP 200 and `{"success": false, "errorInfo": {...}}`; only bad keys
(401), missing permissions (403) and the rate limit (429) use HTTP status codes.

Webhooks: settings made with webhook.create (or pasted by an admin, `POST /_emulator/webhooks`) receive the
spec's payloads (`{"action", "data"}`, the `webhooks` section) signed `Ashby-Signature: sha256=<hex HMAC-SHA256
of the body with the secret token>` (https://developers.ashbyhq.com/docs/authenticating-webhooks); a stage
change (application.changeStage, or `move_application` standing in for a person) sends candidateStageChange,
applicationUpdate and, for a hire, candidateHire, as their descriptions say each triggers the others.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from core.vocabulary import Vendor
from devkit.ats.base import Emulator
from devkit.ats.webhooks import WebhookTarget
from devkit.ats.wire import EmuRequest, Reply, Route, iso

DEMO_API_KEY = "ashby-demo-key"
MAX_LIMIT = 100
SYNC_TOKEN_TTL = 7 * 24 * 3600.0  # Ashby expires sync tokens after "about a week" (sync guide)
PROFILE_URL = "https://app.ashbyhq.com/candidate-searches/new/right-side/candidates/{id}"
# Ashby retries a failed delivery "using exponential backoff with a maximum of 10 attempts", (2^n - 1) x 10 s,
# and never after 401, 403, 404, 405 or 410 (https://developers.ashbyhq.com/docs/retries). The emulator keeps
# the shape at a hundredth of the delays and three retries, so tests see redeliveries in well under a second.
WEBHOOK_RETRY_DELAYS = (0.1, 0.3, 0.7)
WEBHOOK_FINAL_STATUSES = frozenset({401, 403, 404, 405, 410})
WEBHOOK_TYPES = frozenset(
    {
        "applicationSubmit",
        "applicationUpdate",
        "candidateHire",
        "candidateStageChange",
        "candidateDelete",
        "candidateMerge",
        "interviewPlanTransition",
        "interviewScheduleCreate",
        "interviewScheduleUpdate",
        "jobPostingUpdate",
        "jobPostingPublish",
        "jobPostingUnpublish",
        "offerCreate",
        "offerUpdate",
        "offerDelete",
        "pushToHRIS",
        "surveySubmit",
    }
)  # webhook.create's `webhookType` enum

# action → the API-key permission it needs (the "Requires the … permission" line of each operation).
PERMISSIONS: Mapping[str, str] = {
    "apiKey.info": "apiKeysRead",
    "job.list": "jobsRead",
    "job.info": "jobsRead",
    "jobInterviewPlan.info": "jobsRead",
    "interviewStage.list": "interviewsRead",
    "candidate.search": "candidatesRead",
    "candidate.list": "candidatesRead",
    "candidate.info": "candidatesRead",
    "candidate.create": "candidatesWrite",
    "candidate.addTag": "candidatesWrite",
    "candidate.createNote": "candidatesWrite",
    "application.create": "candidatesWrite",
    "application.info": "candidatesRead",
    "application.changeStage": "candidatesWrite",
    "application.list": "candidatesRead",
    "candidate.update": "candidatesWrite",
    "webhook.create": "apiKeysWrite",
    "webhook.info": "apiKeysRead",
    "webhook.update": "apiKeysWrite",
    "webhook.delete": "apiKeysWrite",
    "archiveReason.list": "hiringProcessMetadataRead",
    "candidateTag.create": "hiringProcessMetadataWrite",
    "source.list": "hiringProcessMetadataRead",
}
ALL_PERMISSIONS = tuple(sorted(set(PERMISSIONS.values())))


class InputError(Exception):
    """A request the emulator answers with `invalid_input` (or another code); `field` names the culprit."""

    def __init__(self, message: str, code: str = "invalid_input", *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.field = field


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


def _uuid_field(body: Mapping[str, Any], name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not _is_uuid(value):
        raise InputError(f"{name} must be a UUID", field=name)
    return str(value)


def _encode(data: Mapping[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(token: str) -> dict[str, Any]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error) as exc:
        raise InputError("cursor or syncToken is malformed") from exc
    if not isinstance(data, dict):
        raise InputError("cursor or syncToken is malformed")
    return data


class AshbyEmulator(Emulator):
    """Ashby's candidate, job, interview-plan, tag, note and source endpoints, in memory.

    Collections: `api_keys` (id = the key; `permissions`), `jobs`, `locations`, `interview_stages`,
    `candidates`, `applications`, `candidate_tags`, `notes`, `sources`, `archive_reasons`, `webhooks` (the
    webhook settings: `webhookType`, `requestUrl`, `secretToken`, `enabled`).
    """

    create_path = "/candidate.create"

    vendor = Vendor.ASHBY
    default_rate_window = 60.0
    demo_secrets: ClassVar[Mapping[str, str]] = {"api_key": DEMO_API_KEY}

    def __init__(
        self,
        *,
        sync_token_ttl: float = SYNC_TOKEN_TTL,
        webhook_retry_delays: tuple[float, ...] = WEBHOOK_RETRY_DELAYS,
        **kwargs: Any,
    ) -> None:
        self.sync_token_ttl = sync_token_ttl  # seconds a syncToken stays usable; negative expires them all
        self.webhook_retry_delays = webhook_retry_delays
        self._sequence = 0  # bumped on every candidate or application change; sync tokens remember it
        super().__init__(**kwargs)

    # --- framework hooks ---

    def routes(self) -> list[Route]:
        """Return one POST route per supported action."""
        handlers: dict[str, Callable[[dict[str, Any]], Any]] = {
            "apiKey.info": self._api_key_info,
            "job.list": self._job_list,
            "job.info": self._job_info,
            "jobInterviewPlan.info": self._job_interview_plan_info,
            "interviewStage.list": self._interview_stage_list,
            "candidate.search": self._candidate_search,
            "candidate.list": self._candidate_list,
            "candidate.info": self._candidate_info,
            "candidate.create": self._candidate_create,
            "candidate.addTag": self._candidate_add_tag,
            "candidate.createNote": self._candidate_create_note,
            "application.create": self._application_create,
            "application.info": self._application_info,
            "application.changeStage": self._application_change_stage,
            "application.list": self._application_list,
            "candidate.update": self._candidate_update,
            "webhook.create": self._webhook_create,
            "webhook.info": self._webhook_info,
            "webhook.update": self._webhook_update,
            "webhook.delete": self._webhook_delete,
            "archiveReason.list": self._archive_reason_list,
            "candidateTag.create": self._candidate_tag_create,
            "source.list": self._source_list,
        }
        return [
            Route("POST", "/" + action.replace(".", r"\."), self._rpc(action, fn))
            for action, fn in handlers.items()
        ]

    def error_reply(
        self, status: int, message: str, *, field_errors: Mapping[str, str] | None = None
    ) -> Reply:
        """Return Ashby's error envelope (`errorInfo` plus the deprecated `errors` list)."""
        code = {
            401: "invalid_api_key",
            403: "missing_permission",
            404: "not_found",
            429: "rate_limit_exceeded",
        }.get(status, "internal_error" if status >= 500 else "invalid_input")
        return Reply(status, self._failure(code, message))

    def authenticate(self, request: EmuRequest) -> Reply | None:
        """Accept HTTP Basic with a known API key as the user and an empty password."""
        key = self._basic_user(request)
        if key is None or key not in self.table("api_keys"):
            return self.error_reply(401, "The API key is invalid or was revoked")
        action = request.path.lstrip("/")
        needed = PERMISSIONS.get(action)
        if needed and needed not in self.table("api_keys")[key].get("permissions", ALL_PERMISSIONS):
            return self.error_reply(403, f"Missing permission: {needed}")
        return None

    def rate_headers(self, limit: int, remaining: int, reset_at: float) -> dict[str, str]:
        """Return the `X-RateLimit-*` headers a 3rd-party report says Ashby sends (UNSURE)."""
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(int(reset_at)),
        }

    def normalize_seed(self, collection: str, record: dict[str, Any]) -> dict[str, Any]:
        """Give seeded records UUID ids, timestamps and the candidate fields Ashby always returns."""
        record.setdefault("id", str(uuid.uuid4()))
        if collection == "candidates":
            self._fill_candidate(record)
        if collection in ("jobs", "candidates", "applications"):
            record.setdefault("createdAt", iso(self.clock()))
            record.setdefault("updatedAt", record["createdAt"])
        if collection == "applications":
            self._sequence += 1
            record.setdefault("_seq", self._sequence)
        return record

    # --- plumbing ---

    @staticmethod
    def _basic_user(request: EmuRequest) -> str | None:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, sep, password = base64.b64decode(encoded).decode().partition(":")
        except (ValueError, binascii.Error):
            return None
        # The spec: "Send your Ashby API key as the username and leave the password blank."
        return user if sep and not password else None

    @staticmethod
    def _failure(code: str, message: str, field: str | None = None) -> dict[str, Any]:
        info: dict[str, Any] = {"code": code, "message": message, "requestId": uuid.uuid4().hex[:26].upper()}
        if field:
            # The spec types `meta` as a free object; naming the field there is this emulator's choice (UNSURE).
            info["meta"] = {"field": field}
        return {"success": False, "errors": [code], "errorInfo": info}

    def _rpc(self, action: str, handler: Callable[[dict[str, Any]], Any]) -> Callable[..., Reply]:
        def serve(request: EmuRequest) -> Reply:
            if request.body and not isinstance(request.json, dict):
                return Reply(200, self._failure("invalid_input", "Request payload is malformed"))
            try:
                result = handler(dict(request.json or {}))
            except InputError as exc:
                return Reply(200, self._failure(exc.code, str(exc), exc.field))
            return Reply(200, {"success": True, **result})

        serve.__name__ = action
        return serve

    def _touch(self, record: dict[str, Any]) -> None:
        self._sequence += 1
        record["_seq"] = self._sequence
        record["updatedAt"] = iso(self.clock())

    def _get(
        self, collection: str, record_id: str | None, code: str, *, writing: bool = False
    ) -> dict[str, Any]:
        # A record still processing is hidden from reads (info, list, search) but a write that names it — the
        # application, tag and note its creator adds next — finds it, as the creator holds its id.
        record = self.table(collection).get(str(record_id))
        if record is None or not (writing or self.is_visible(record)):
            raise InputError(f"No {collection[:-1].replace('_', ' ')} with id {record_id}", code)
        return record

    def _page(
        self, rows: list[dict[str, Any]], body: Mapping[str, Any], state: dict[str, Any]
    ) -> dict[str, Any]:
        limit = body.get("limit", MAX_LIMIT)
        if not isinstance(limit, int | float) or not 1 <= limit <= MAX_LIMIT:
            raise InputError(f"limit must be between 1 and {MAX_LIMIT}")
        offset = int(state.get("offset", 0))
        chunk = rows[offset : offset + int(limit)]
        more = offset + len(chunk) < len(rows)
        page: dict[str, Any] = {"results": chunk, "moreDataAvailable": more}
        if more:
            page["nextCursor"] = _encode({**state, "offset": offset + len(chunk)})
        return page

    # --- jobs and stages ---

    def _api_key_info(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "results": {
                "title": "ScaleUp emulator key",
                "createdAt": "2026-01-05T09:00:00.000Z",
                "scopes": ["candidates:write", "jobs:read"],
            }
        }

    def _job_view(self, job: Mapping[str, Any], expand: Any) -> dict[str, Any]:
        view = self.public(job)
        if (
            isinstance(expand, list)
            and "location" in expand
            and job.get("locationId") in self.table("locations")
        ):
            view["location"] = self.public(self.table("locations")[job["locationId"]])
        return view

    def _job_list(self, body: dict[str, Any]) -> dict[str, Any]:
        statuses = body.get("status")
        if statuses is not None and not isinstance(statuses, list):
            raise InputError("status must be an array")
        state = _decode(body["cursor"]) if body.get("cursor") else {}
        # Drafts only appear when asked for by name (job.list description).
        wanted = set(statuses or ("Open", "Closed", "Archived"))
        jobs = [j for j in self.table("jobs").values() if j.get("status") in wanted]
        jobs.sort(key=lambda j: (j.get("createdAt", ""), j["id"]))
        page = self._page([self._job_view(j, body.get("expand")) for j in jobs], body, state)
        if not page["moreDataAvailable"]:
            page["syncToken"] = _encode({"seq": self._sequence, "at": self.clock()})
        return page

    def _job_info(self, body: dict[str, Any]) -> dict[str, Any]:
        job = self._get("jobs", _uuid_field(body, "id"), "job_not_found")
        return {"results": self._job_view(job, body.get("expand"))}

    @staticmethod
    def _plan_of(job: Mapping[str, Any]) -> str | None:
        return job.get("defaultInterviewPlanId") or next(iter(job.get("interviewPlanIds") or []), None)

    def _stages_of(self, plan_id: str) -> list[dict[str, Any]]:
        stages = [s for s in self.table("interview_stages").values() if s.get("interviewPlanId") == plan_id]
        return sorted(stages, key=lambda s: s.get("orderInInterviewPlan", 0))

    def _job_interview_plan_info(self, body: dict[str, Any]) -> dict[str, Any]:
        job = self._get("jobs", _uuid_field(body, "jobId"), "job_not_found")
        plan_id = self._plan_of(job)
        if not plan_id:
            raise InputError("The job has no interview plan", "interview_plan_not_found")
        stages = [{**self.public(s), "activities": []} for s in self._stages_of(plan_id)]
        return {"results": {"jobId": job["id"], "interviewPlanId": plan_id, "stages": stages}}

    def _interview_stage_list(self, body: dict[str, Any]) -> dict[str, Any]:
        plan_id = _uuid_field(body, "interviewPlanId")
        stages = self._stages_of(str(plan_id))
        if not stages:
            raise InputError(f"No interview plan with id {plan_id}", "interview_plan_not_found")
        return {"results": [self.public(s) for s in stages], "moreDataAvailable": False}

    def _source_list(self, body: dict[str, Any]) -> dict[str, Any]:
        sources = [
            self.public(s)
            for s in self.table("sources").values()
            if body.get("includeArchived") or not s.get("isArchived")
        ]
        return {"results": sources, "moreDataAvailable": False}

    # --- candidates ---

    def _fill_candidate(self, record: dict[str, Any]) -> None:
        record.setdefault("name", "")
        for key in (
            "emailAddresses",
            "phoneNumbers",
            "socialLinks",
            "tags",
            "applicationIds",
            "fileHandles",
            "customFields",
        ):
            record.setdefault(key, [])
        if record["emailAddresses"] and "primaryEmailAddress" not in record:
            record["primaryEmailAddress"] = record["emailAddresses"][0]
        record.setdefault("profileUrl", PROFILE_URL.format(id=record["id"]))
        self._sequence += 1
        record.setdefault("_seq", self._sequence)

    def _candidate_view(self, candidate: Mapping[str, Any]) -> dict[str, Any]:
        view = self.public(candidate)
        view["tags"] = [
            self.public(self.table("candidate_tags")[t])
            for t in candidate.get("tags", [])
            if t in self.table("candidate_tags")
        ]
        return view

    def _candidate_search(self, body: dict[str, Any]) -> dict[str, Any]:
        email = str(body.get("email") or "").strip().lower()
        name = str(body.get("name") or "").strip().lower()
        if not email and not name:
            raise InputError("Provide an email and/or a name to search by")
        found = []
        for candidate in self.table("candidates").values():
            addresses = {str(e.get("value", "")).strip().lower() for e in candidate.get("emailAddresses", [])}
            if email and email not in addresses:
                continue
            if name and name not in str(candidate.get("name", "")).lower():
                continue
            if self.is_visible(candidate):
                found.append(self._candidate_view(candidate))
        return {"results": found[:MAX_LIMIT]}

    def _sync_state(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Return the listing's window: from the cursor, else from the sync token (or everything) to now."""
        if body.get("cursor"):
            return _decode(str(body["cursor"]))
        since = 0
        if body.get("syncToken"):
            token = _decode(str(body["syncToken"]))
            if self.clock() - float(token.get("at", 0)) > self.sync_token_ttl:
                raise InputError("The sync token has expired; run a full sync", "sync_token_expired")
            since = int(token.get("seq", 0))
        # The snapshot point is fixed on the first page, so later pages and the next token agree.
        return {"since": since, "upto": self._sequence, "at": self.clock()}

    def _candidate_list(self, body: dict[str, Any]) -> dict[str, Any]:
        state = self._sync_state(body)
        rows = [
            c
            for c in self.table("candidates").values()
            if state["since"] < c.get("_seq", 0) <= state["upto"] and self.is_visible(c)
        ]
        rows.sort(key=lambda c: (c["_seq"], c["id"]))
        page = self._page([self._candidate_view(c) for c in rows], body, state)
        if not page["moreDataAvailable"]:
            page["syncToken"] = _encode({"seq": state["upto"], "at": state["at"]})
        return page

    def _candidate_info(self, body: dict[str, Any]) -> dict[str, Any]:
        candidate = self._get("candidates", _uuid_field(body, "id"), "candidate_not_found")
        return {"results": self._candidate_view(candidate)}

    def _candidate_update(self, body: dict[str, Any]) -> dict[str, Any]:
        """candidate.update (https://developers.ashbyhq.com/reference/candidateupdate): `email` is the
        "Primary, personal email", `alternateEmail` "An alternate email address to add", `phoneNumber` the
        "Primary, personal phone number". The page does not say what becomes of a primary address or phone
        that is replaced; the emulator keeps the old one as a secondary entry, so nothing is lost."""
        candidate = self._get("candidates", _uuid_field(body, "candidateId"), "candidate_not_found")
        for key in ("email", "alternateEmail", "phoneNumber", "name"):
            if key in body and (not isinstance(body[key], str) or not body[key].strip()):
                raise InputError(f"{key} must be a non-empty string", field=key)
        for key in ("email", "alternateEmail"):
            if key in body and "@" not in body[key]:
                raise InputError(f"{key} is not a valid email address", field=key)
        if body.get("name"):
            candidate["name"] = body["name"].strip()
        if body.get("email"):
            self._set_primary(candidate, "emailAddresses", "primaryEmailAddress", body["email"].strip())
        if body.get("alternateEmail"):
            address = body["alternateEmail"].strip()
            known = {str(e.get("value", "")).lower() for e in candidate["emailAddresses"]}
            if address.lower() not in known:
                candidate["emailAddresses"].append({"value": address, "type": "Personal", "isPrimary": False})
        if body.get("phoneNumber"):
            self._set_primary(candidate, "phoneNumbers", "primaryPhoneNumber", body["phoneNumber"].strip())
        if "linkedInUrl" in body:
            # `linkedInUrl` is candidate.create's field; candidate.update's `socialLinks` "replaces existing
            # socialLinks", and "If this value is submitted along with linkedInUrl … those values will be
            # ignored". The LinkedIn link replaces the candidate's LinkedIn entry.
            url = body["linkedInUrl"]
            if not isinstance(url, str) or not url.strip():
                raise InputError("linkedInUrl must be a non-empty string", field="linkedInUrl")
            if not isinstance(body.get("socialLinks"), list):
                _set_linkedin(candidate, url.strip())
        if isinstance(body.get("socialLinks"), list):
            candidate["socialLinks"] = [dict(link) for link in body["socialLinks"] if isinstance(link, dict)]
        self._touch(candidate)
        return {"results": self._candidate_view(candidate)}

    @staticmethod
    def _set_primary(candidate: dict[str, Any], many: str, primary: str, value: str) -> None:
        entries = [{**e, "isPrimary": False} for e in candidate[many] if e.get("value") != value]
        entry = {"value": value, "type": "Personal", "isPrimary": True}
        candidate[many] = [entry, *entries]
        candidate[primary] = entry

    def _candidate_create(self, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise InputError("name is required", field="name")
        emails = [body["email"]] if body.get("email") else []
        emails += [e for e in body.get("alternateEmailAddresses") or [] if isinstance(e, str)]
        if any("@" not in e for e in emails):
            raise InputError("email is not a valid email address", field="email")
        record: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "name": name.strip(),
            "createdAt": iso(self.clock()),
            "emailAddresses": [
                {"value": e, "type": "Personal", "isPrimary": i == 0} for i, e in enumerate(emails)
            ],
            "phoneNumbers": [{"value": body["phoneNumber"], "type": "Personal", "isPrimary": True}]
            if body.get("phoneNumber")
            else [],
            "socialLinks": [{"type": "LinkedIn", "url": body["linkedInUrl"]}]
            if body.get("linkedInUrl")
            else [],
        }
        if body.get("sourceId"):
            record["source"] = self.public(
                self._get("sources", _uuid_field(body, "sourceId"), "source_not_found")
            )
        if record["phoneNumbers"]:
            record["primaryPhoneNumber"] = record["phoneNumbers"][0]
        self._fill_candidate(record)
        self._touch(record)
        self.stamp_visibility(record)
        self.table("candidates")[record["id"]] = record
        self.record_created("candidate", record["id"], emails, prospect=True)
        return {"results": self._candidate_view(record)}

    def _candidate_add_tag(self, body: dict[str, Any]) -> dict[str, Any]:
        candidate = self._get(
            "candidates", _uuid_field(body, "candidateId"), "candidate_not_found", writing=True
        )
        tag = self._get("candidate_tags", _uuid_field(body, "tagId"), "tag_not_found")
        if tag["id"] not in candidate["tags"]:
            candidate["tags"].append(tag["id"])
            self._touch(candidate)
        return {"results": self._candidate_view(candidate)}

    def _candidate_create_note(self, body: dict[str, Any]) -> dict[str, Any]:
        candidate = self._get(
            "candidates", _uuid_field(body, "candidateId"), "candidate_not_found", writing=True
        )
        note = body.get("note")
        content = note.get("value") if isinstance(note, Mapping) else note
        if not isinstance(content, str) or not content:
            raise InputError("note is required")
        record = {
            "id": str(uuid.uuid4()),
            "createdAt": iso(self.clock()),
            "isPrivate": bool(body.get("isPrivate", False)),
            "content": content,
            "author": {
                "id": "3ae2b801-19f6-41ef-ad28-214bd731948f",
                "firstName": "ScaleUp",
                "lastName": "API",
            },
            "_candidateId": candidate["id"],
        }
        self.table("notes")[record["id"]] = record
        return {"results": self.public(record)}

    def _candidate_tag_create(self, body: dict[str, Any]) -> dict[str, Any]:
        title = body.get("title")
        if not isinstance(title, str) or not title.strip():
            raise InputError("title is required")
        for tag in self.table("candidate_tags").values():
            if tag["title"].strip().lower() == title.strip().lower():
                # "If a tag already exists with that title, the existing tag will be returned."
                return {"results": self.public(tag)}
        tag = {"id": str(uuid.uuid4()), "title": title.strip(), "isArchived": False}
        self.table("candidate_tags")[tag["id"]] = tag
        return {"results": tag}

    # --- applications ---

    def _application_create(self, body: dict[str, Any]) -> dict[str, Any]:
        candidate = self._get(
            "candidates", _uuid_field(body, "candidateId"), "candidate_not_found", writing=True
        )
        job = self._get("jobs", _uuid_field(body, "jobId"), "job_not_found")
        if job.get("status") != "Open":
            raise InputError("Applications can only be created on open jobs", "job_not_open")
        plan_id = _uuid_field(body, "interviewPlanId", required=False) or self._plan_of(job)
        stages = self._stages_of(str(plan_id))
        stage_id = body.get("interviewStageId")
        if stage_id is None:
            # "If none is provided, the application is placed in the first "Lead" stage."
            stage = next((s for s in stages if s.get("type") == "Lead"), stages[0] if stages else None)
        elif stage_id == "FirstPreInterviewScreen":
            stage = next((s for s in stages if s.get("type") == "PreInterviewScreen"), None)
        else:
            stage = next((s for s in stages if s["id"] == stage_id), None)
        if stage is None:
            raise InputError(
                f"No interview stage {stage_id} on the job's interview plan", "interview_stage_not_found"
            )
        for other in self.table("applications").values():
            if other["candidate"]["id"] == candidate["id"] and other["job"]["id"] == job["id"]:
                raise InputError(
                    "The candidate already has an application for this job", "application_already_exists"
                )
        now = iso(self.clock())
        application: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "createdAt": now,
            "updatedAt": now,
            "status": "Lead" if stage.get("type") == "Lead" else "Active",
            "candidate": {
                "id": candidate["id"],
                "name": candidate["name"],
                **(
                    {"primaryEmailAddress": candidate["primaryEmailAddress"]}
                    if candidate.get("primaryEmailAddress")
                    else {}
                ),
            },
            "currentInterviewStage": self.public(stage),
            "job": {
                "id": job["id"],
                "title": job["title"],
                **{k: job[k] for k in ("locationId", "departmentId") if job.get(k)},
            },
            "hiringTeam": [],
            "customFields": [],
        }
        if body.get("sourceId"):
            application["source"] = self.public(
                self._get("sources", _uuid_field(body, "sourceId"), "source_not_found")
            )
        self._touch(application)
        self.table("applications")[application["id"]] = application
        candidate["applicationIds"].append(application["id"])
        self._touch(candidate)
        emails = [str(e.get("value", "")) for e in candidate.get("emailAddresses", [])]
        self.record_created(
            "application",
            application["id"],
            emails,
            job_id=job["id"],
            stage_id=stage["id"],
            prospect=stage.get("type") == "Lead",
        )
        return {"results": application}

    def _application_info(self, body: dict[str, Any]) -> dict[str, Any]:
        # Lookup by `submittedFormInstanceId` (the other documented form) is not emulated.
        application = self._get("applications", _uuid_field(body, "applicationId"), "application_not_found")
        return {"results": self.public(application)}

    def _application_change_stage(self, body: dict[str, Any]) -> dict[str, Any]:
        application = self._get(
            "applications", _uuid_field(body, "applicationId"), "application_not_found", writing=True
        )
        stage_id = _uuid_field(body, "interviewStageId")
        plan_id = application["currentInterviewStage"].get("interviewPlanId")
        stage = next((s for s in self._stages_of(str(plan_id)) if s["id"] == stage_id), None)
        if stage is None:
            raise InputError(
                f"No interview stage {stage_id} on the application's interview plan",
                "interview_stage_not_found",
            )
        archiving = stage.get("type") == "Archived"
        # The error table of application.changeStage: both `invalid_input`.
        if not archiving and ("archiveReasonId" in body or "archiveEmail" in body):
            raise InputError("Archive fields are not allowed for non-archive stages")
        reason: dict[str, Any] | None = None
        if archiving:
            if body.get("archiveReasonId") is None:
                raise InputError("Archive reason ID is required for archive stages", field="archiveReasonId")
            reason = self._get(
                "archive_reasons", _uuid_field(body, "archiveReasonId"), "archive_reason_not_found"
            )
            if isinstance(body.get("archiveEmail"), Mapping):
                # No communication templates are emulated.
                raise InputError("No such communication template", "communication_template_not_found")
        self._apply_stage(application, stage, reason)
        return {"results": self.public(application)}

    def _apply_stage(
        self, application: dict[str, Any], stage: Mapping[str, Any], reason: Mapping[str, Any] | None
    ) -> None:
        """Put `application` at `stage` (archived with `reason`), stamp it, and send the stage webhooks."""
        self._touch(application)
        application["currentInterviewStage"] = self.public(stage)
        application["status"] = {"Archived": "Archived", "Hired": "Hired", "Lead": "Lead"}.get(
            str(stage.get("type")), "Active"
        )
        if reason is not None:
            application["archiveReason"] = {**self.public(reason), "customFields": []}
            application["archivedAt"] = application["updatedAt"]
        else:
            application.pop("archiveReason", None)
            application.pop("archivedAt", None)
        data = {"application": self.public(application)}
        # candidateStageChange: "Also triggered by candidateHire"; applicationUpdate: "Also triggered by
        # candidateHire and candidateStageChange" (the webhooks' descriptions in the spec).
        self.deliver("candidateStageChange", data)
        self.deliver("applicationUpdate", data)
        if application["status"] == "Hired":
            self.deliver("candidateHire", data)

    def edit_person(self, person_id: str, **changes: Any) -> dict[str, Any]:
        """Edit a candidate as a person does in Ashby (see `Emulator.edit_person`): one `name` (first and last
        joined); the first address and phone are the primary ones; the LinkedIn link replaces the LinkedIn
        social link."""
        with self.lock:
            candidate = self.table("candidates")[str(person_id)]
            first, _, last = str(candidate.get("name") or "").partition(" ")
            if "first_name" in changes or "last_name" in changes:
                names = (changes.get("first_name", first), changes.get("last_name", last))
                candidate["name"] = " ".join(n for n in names if n)
            for key, many, primary in (
                ("emails", "emailAddresses", "primaryEmailAddress"),
                ("phones", "phoneNumbers", "primaryPhoneNumber"),
            ):
                if key in changes:
                    entries = [
                        {"value": v, "type": "Personal", "isPrimary": i == 0}
                        for i, v in enumerate(changes[key])
                    ]
                    candidate[many] = entries
                    if entries:
                        candidate[primary] = entries[0]
                    else:
                        candidate.pop(primary, None)
            if "linkedin_url" in changes:
                _set_linkedin(candidate, changes["linkedin_url"])
            self._touch(candidate)
            return dict(candidate)

    def delete_person(self, person_id: str) -> None:
        """Delete a candidate and their applications (Ashby's UI can; its API cannot)."""
        with self.lock:
            self.table("candidates").pop(str(person_id))
            for key, application in list(self.table("applications").items()):
                if (application.get("candidate") or {}).get("id") == str(person_id):
                    self.table("applications").pop(key)

    def move_application(
        self,
        application_id: str,
        *,
        stage_id: str | None = None,
        status: str | None = None,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """Do what a recruiter does in Ashby: move the application to `stage_id`, hire it (the plan's Hired
        stage), or archive it ("rejected": with the archive reason whose text is `reason`, else the first of
        type RejectedByOrg; "archived": likewise among type Other); then send the webhooks."""
        with self.lock:
            application = self.table("applications")[application_id]
            plan_id = application["currentInterviewStage"].get("interviewPlanId")
            stages = self._stages_of(str(plan_id))
            archive: dict[str, Any] | None = None
            if status in ("rejected", "archived"):
                stage = next(s for s in stages if s.get("type") == "Archived")
                archive = self._archive_reason(reason, "RejectedByOrg" if status == "rejected" else "Other")
            elif status == "hired":
                stage = next(s for s in stages if s.get("type") == "Hired")
            elif status is None and stage_id:
                stage = next(s for s in stages if s["id"] == stage_id)
            else:
                raise ValueError(
                    f"move needs a stage_id or a status of rejected, hired or archived, not {status!r}"
                )
            self._apply_stage(application, stage, archive)
            return application

    def _archive_reason(self, text: str | None, kind: str) -> dict[str, Any]:
        reasons = [r for r in self.table("archive_reasons").values() if not r.get("isArchived")]
        wanted = (text or "").strip().casefold()
        by_text = next((r for r in reasons if wanted and r["text"].casefold() == wanted), None)
        return by_text or next(r for r in reasons if r.get("reasonType") == kind)

    def _application_list(self, body: dict[str, Any]) -> dict[str, Any]:
        """application.list: every application, incremental with `syncToken` like candidate.list (the same
        request schema, opening.list's, plus `status`, `jobId` and `expand`)."""
        state = self._sync_state(body)
        rows = [
            a
            for a in self.table("applications").values()
            if state["since"] < a.get("_seq", 0) <= state["upto"]
        ]
        if body.get("status") is not None:
            rows = [a for a in rows if a.get("status") == body["status"]]
        if body.get("jobId") is not None:
            rows = [a for a in rows if a["job"]["id"] == body["jobId"]]
        if body.get("createdAfter") is not None:
            after = body["createdAfter"]
            if not isinstance(after, int):
                raise InputError("createdAfter must be milliseconds since the epoch")
            rows = [a for a in rows if iso(after / 1000) < a.get("createdAt", "")]
        rows.sort(key=lambda a: (a["_seq"], a["id"]))
        page = self._page([self.public(a) for a in rows], body, state)
        if not page["moreDataAvailable"]:
            page["syncToken"] = _encode({"seq": state["upto"], "at": state["at"]})
        return page

    def _archive_reason_list(self, body: dict[str, Any]) -> dict[str, Any]:
        reasons = [
            self.public(r)
            for r in self.table("archive_reasons").values()
            if body.get("includeArchived") or not r.get("isArchived")
        ]
        return {"results": reasons}

    # --- webhooks ---

    def _webhook_view(self, webhook: Mapping[str, Any]) -> dict[str, Any]:
        # webhook.info's results hold no `secretToken` (webhookInfo in the spec); create and update echo it.
        return {k: webhook[k] for k in ("id", "enabled", "requestUrl", "webhookType")}

    def _webhook_create(self, body: dict[str, Any]) -> dict[str, Any]:
        """webhook.create: `webhookType`, `requestUrl` and `secretToken` are all required (webhookcreate in
        the spec). Ashby accepts several settings for one URL and type ("create multiple webhooks for the same
        event", https://developers.ashbyhq.com/docs/setting-up-webhooks), so a second create is a second one."""
        if body.get("webhookType") not in WEBHOOK_TYPES:
            raise InputError("webhookType is not a known webhook type", field="webhookType")
        for key in ("requestUrl", "secretToken"):
            if not isinstance(body.get(key), str) or not body[key]:
                raise InputError(f"{key} is required", field=key)
        webhook = {
            "id": str(uuid.uuid4()),
            "enabled": True,
            "requestUrl": body["requestUrl"],
            "secretToken": body["secretToken"],
            "webhookType": body["webhookType"],
        }
        self.table("webhooks")[webhook["id"]] = webhook
        self._ping(webhook)
        return {"results": dict(webhook)}

    def _webhook_info(self, body: dict[str, Any]) -> dict[str, Any]:
        webhook = self._get("webhooks", _uuid_field(body, "webhookId"), "webhook_not_found")
        return {"results": self._webhook_view(webhook)}

    def _webhook_update(self, body: dict[str, Any]) -> dict[str, Any]:
        """webhook.update: "One of `enabled`, `requestUrl`, or `secretToken` must be provided"."""
        webhook = self._get("webhooks", _uuid_field(body, "webhookId"), "webhook_not_found")
        changes = {k: body[k] for k in ("enabled", "requestUrl", "secretToken") if k in body}
        if not changes:
            raise InputError("One of enabled, requestUrl, or secretToken must be provided")
        webhook.update(changes)
        self._ping(webhook)
        return {"results": dict(webhook)}

    def _webhook_delete(self, body: dict[str, Any]) -> dict[str, Any]:
        webhook_id = _uuid_field(body, "webhookId")
        self._get("webhooks", webhook_id, "webhook_not_found")
        del self.table("webhooks")[str(webhook_id)]
        return {"results": {"webhookId": webhook_id}}

    def _ping(self, webhook: Mapping[str, Any]) -> None:
        # "When you create or edit a webhook, a "ping" webhook with some basic data about the webhook
        # configuration will be sent to your endpoint" (setting-up-webhooks); the ping payload of the spec.
        # Ashby disables a webhook whose ping fails; the emulator leaves it enabled (tests disable by hand).
        if webhook.get("enabled"):
            target = WebhookTarget(webhook["requestUrl"], webhook["secretToken"], id=webhook["id"])
            self._send(target, "ping", {"webhookActionType": "ping"})

    def deliver(self, action: str, data: Mapping[str, Any]) -> None:
        """Send `{"action", "data"}` to every enabled webhook setting of that type and every pasted target."""
        targets = [
            WebhookTarget(w["requestUrl"], w["secretToken"], (action,), w["id"])
            for w in self.table("webhooks").values()
            if w.get("enabled") and w.get("webhookType") == action
        ]
        for target in [*targets, *self.webhooks.targets_for(action)]:
            self._send(target, action, data)

    def _send(self, target: WebhookTarget, action: str, data: Mapping[str, Any]) -> None:
        body = json.dumps({"action": action, "data": data}).encode()
        headers = {}
        if target.secret:  # "If you provide a secret token, this will be used to create a digest"
            digest = hmac.new(target.secret.encode(), body, hashlib.sha256).hexdigest()
            headers["Ashby-Signature"] = f"sha256={digest}"
        self.webhooks.send(
            target,
            action,
            body,
            headers,
            retry_delays=self.webhook_retry_delays,
            final_statuses=WEBHOOK_FINAL_STATUSES,
        )


def _set_linkedin(candidate: dict[str, Any], url: str | None) -> None:
    """Replace the candidate's LinkedIn social link with `url` (None or "" takes it off)."""
    links = [link for link in candidate.get("socialLinks") or [] if link.get("type") != "LinkedIn"]
    candidate["socialLinks"] = [{"type": "LinkedIn", "url": url}, *links] if url else links
