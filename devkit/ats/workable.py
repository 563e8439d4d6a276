"""A loopback Workable SPI v3: bearer tokens, `paging.next` URLs, `{"error": …}` bodies, 10 req / 10 s.

Modelled on https://workable.readme.io/reference (jobs, stages, job-candidates-index/-create/-show,
talent-pool-candidates-create, copy-candidate, disqualify-candidate) and
https://workable.readme.io/docs/rate-limits. Where the documentation is silent (error statuses and bodies
of a refused create or disqualify, how `updated_after` treats the same second) the comment beside the code
says so and what was assumed.

Webhooks: `POST /subscriptions` (https://workable.readme.io/reference/webhook-subscriptions) registers a
target for one event; candidate events go out as the candidate under `data`
(https://workable.readme.io/reference/candidate-events) in the envelope public integrations read (`id`,
`event_type`, `fired_at`, `resource_type`; the documentation shows only `data`), signed in
`X-Workable-Signature` with the HMAC-SHA256 of the body keyed with the token that subscribed, written in hex
(the page names no encoding). A person's moves come through `move_application` (`POST /_emulator/move`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlencode

from core.vocabulary import Vendor
from devkit.ats.base import Emulator
from devkit.ats.webhooks import WebhookTarget
from devkit.ats.wire import EmuRequest, Reply, Route

DEMO_TOKEN = "workable-demo-token"
DEMO_SUBDOMAIN = "scaleup-demo"
DEFAULT_LIMIT = 50
MAX_LIMIT = 100

# route → the token scope it needs (each reference page's "Required scope"; subscriptions need only
# r_candidates, https://workable.readme.io/reference/webhook-subscriptions).
SCOPES = {"jobs": "r_jobs", "candidates": "r_candidates", "write": "w_candidates"}
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
# Registration labels a subscription may name (webhook-subscriptions-candidates-employees).
EVENTS = frozenset(
    {
        "candidate_created",
        "candidate_deleted",
        "candidate_moved",
        "employee_created",
        "employee_updated",
        "employee_published",
        "onboarding_completed",
        "timeoff_updated",
    }
)
# "Response status should be 200 so that Workable won't consider it an error and replays the request"
# (webhook-subscriptions-candidates-employees); how often and when is not documented: three replays, quickly.
WEBHOOK_RETRY_DELAYS = (0.1, 0.3, 0.7)
SUBSCRIPTION_DAYS = 365  # the listing's `valid_until` example is a year after `created_at`


def stamp(seconds: float) -> str:
    """Return `seconds` since the epoch the way Workable renders timestamps.

    "Timestamp fields are rendered in ISO 8601 format (e.g. 2015-06-08T00:00:00Z). Timezone is always UTC"
    (https://workable.readme.io/reference/whats-new-in-v3): whole seconds, no fraction.
    """
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _parse_time(value: str) -> datetime | None:
    """Read a timestamp filter or a stored stamp; None when it is neither of the documented forms.

    "Supported input formats for the timestamp fields created_after & updated_after are: ISO8601 e.g.
    20150708T115616Z; Unix time (e.g. 1436356721)" (https://workable.readme.io/reference/jobs). The
    candidates page lists the same `updated_after` filter without restating the formats
    (https://workable.readme.io/reference/job-candidates-index); both ISO 8601 forms (basic, as in the
    example, and extended, as Workable renders its own stamps) are read.
    """
    text = value.strip()
    try:
        if text.isdigit():
            return datetime.fromtimestamp(int(text), UTC)
        moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _second(moment: datetime) -> datetime:
    # Both the documented filter formats and the rendered stamps carry whole seconds, so "updated after"
    # can only be decided per second: a record stamped in the filter's own second is not after it. The
    # documentation does not say more than "after"; this is the reading that follows from whole seconds.
    return moment.replace(microsecond=0)


class WorkableEmulator(Emulator):
    """Workable's job, stage and candidate endpoints under `/spi/v3`.

    Collections: `accounts` (one; its `subdomain`), `tokens` (id = the token; `scopes`), `members`,
    `stages` (account pipeline, in order), `jobs` (id = shortcode), `candidates` (one record per job, as
    in Workable; `job` None for the talent pool), `subscriptions` (webhook targets; `_token` signs).
    Candidates created with `sourced: false` are counted in `applied_emails` — the "thank you for applying"
    mail Workable would send.

    Args:
        talent_pool_refusal: None (default) accepts `POST /talent_pool/candidates` as its reference page
            documents it (https://workable.readme.io/reference/talent-pool-candidates-create); an HTTP
            status makes that route refuse every create with it, for the accounts where the API does not
            take talent-pool candidates. Which status Workable answers then is not documented.
    """

    create_path = "/spi/v3/jobs/"

    vendor = Vendor.WORKABLE
    api_prefix = "/spi/v3"
    default_rate_window = 10.0
    demo_secrets: ClassVar[Mapping[str, str]] = {"api_key": DEMO_TOKEN}
    demo_fields: ClassVar[Mapping[str, str]] = {"subdomain": DEMO_SUBDOMAIN}

    def __init__(
        self,
        *,
        talent_pool_refusal: int | None = None,
        webhook_retry_delays: tuple[float, ...] = WEBHOOK_RETRY_DELAYS,
        **kwargs: Any,
    ) -> None:
        self.applied_emails: list[str] = []
        self.talent_pool_refusal = talent_pool_refusal
        self.webhook_retry_delays = webhook_retry_delays
        super().__init__(**kwargs)

    def reset(self, seed: Mapping[str, Any] | None = None) -> None:
        """Forget everything (see `Emulator.reset`), including the "thank you for applying" mails."""
        self.applied_emails.clear()
        super().reset(seed)

    # --- framework hooks ---

    def routes(self) -> list[Route]:
        """Return the SPI v3 routes."""
        p = self.api_prefix
        return [
            Route("GET", p + "/jobs", self._jobs),
            Route("GET", p + r"/jobs/(?P<shortcode>[^/]+)", self._job),
            Route("GET", p + r"/jobs/(?P<shortcode>[^/]+)/stages", self._job_stages),
            Route("GET", p + "/stages", self._stages),
            Route("POST", p + r"/jobs/(?P<shortcode>[^/]+)/candidates", self._create_in_job),
            Route("POST", p + "/talent_pool/candidates", self._create_in_pool),
            Route("GET", p + "/candidates", self._candidates),
            Route("GET", p + r"/candidates/(?P<candidate_id>[^/]+)", self._candidate),
            Route("POST", p + r"/candidates/(?P<candidate_id>[^/]+)/copy", self._copy),
            Route("POST", p + r"/candidates/(?P<candidate_id>[^/]+)/disqualify", self._disqualify),
            Route("PATCH", p + r"/candidates/(?P<candidate_id>[^/]+)", self._update),
            Route("GET", p + "/subscriptions", self._subscriptions),
            Route("POST", p + "/subscriptions", self._subscribe),
            Route("DELETE", p + r"/subscriptions/(?P<subscription_id>[^/]+)", self._unsubscribe),
        ]

    def error_reply(
        self, status: int, message: str, *, field_errors: Mapping[str, str] | None = None
    ) -> Reply:
        """Return Workable's `{"error": "…"}` body (with `validation_errors` on 422)."""
        body: dict[str, Any] = {"error": message}
        if field_errors:
            body["validation_errors"] = {k: [v] for k, v in field_errors.items()}
        return Reply(status, body)

    def authenticate(self, request: EmuRequest) -> Reply | None:
        """Accept `Authorization: Bearer <token>` for a seeded token with the route's scope."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        record = self.table("tokens").get(token) if scheme.lower() == "bearer" else None
        if record is None:
            return self.error_reply(401, "Not authorized")
        path = request.path.removeprefix(self.api_prefix)
        if path.startswith("/subscriptions"):
            needed = SCOPES["candidates"]
        elif request.method in WRITE_METHODS:
            needed = SCOPES["write"]
        else:
            needed = SCOPES["jobs" if path.startswith(("/jobs", "/stages")) else "candidates"]
        if needed not in record.get("scopes", list(SCOPES.values())):
            return self.error_reply(403, f"The access token is missing the {needed} scope")
        return None

    def rate_headers(self, limit: int, remaining: int, reset_at: float) -> dict[str, str]:
        """Return `X-Rate-Limit-*`; the reset is the epoch second the next interval starts."""
        # Whole seconds like Workable; sub-second windows (tests) keep the fraction so retries stay short.
        reset = str(int(reset_at + 0.999)) if self.limiter.window >= 1 else f"{reset_at:.3f}"
        return {
            "X-Rate-Limit-Limit": str(limit),
            "X-Rate-Limit-Remaining": str(remaining),
            "X-Rate-Limit-Reset": reset,
        }

    def handle(self, request: EmuRequest) -> Reply:
        """Answer like the base, minus `Retry-After` on 429s: Workable documents only `X-Rate-Limit-Reset`."""
        reply = super().handle(request)
        if reply.status != 429:
            return reply
        return Reply(429, reply.body, {k: v for k, v in reply.headers.items() if k.lower() != "retry-after"})

    def normalize_seed(self, collection: str, record: dict[str, Any]) -> dict[str, Any]:
        """Key jobs by shortcode and fill the candidate fields Workable always returns."""
        if collection == "jobs":
            record.setdefault("id", record["shortcode"])
        if collection == "candidates":
            record.setdefault("id", secrets.token_hex(4)[:7])
            self._fill_candidate(record)
        return record

    # --- helpers ---

    def _account(self) -> dict[str, Any]:
        account = next(iter(self.table("accounts").values()), None)
        return (
            {"subdomain": DEMO_SUBDOMAIN, "name": "ScaleUp Demo"} if account is None else self.public(account)
        )

    def _fill_candidate(self, record: dict[str, Any]) -> None:
        now = stamp(self.clock())
        record.setdefault("name", " ".join(filter(None, (record.get("firstname"), record.get("lastname")))))
        record.setdefault("account", self._account())
        record.setdefault("job", None)
        record.setdefault("disqualified", False)
        record.setdefault("disqualification_reason", None)
        record.setdefault("disqualified_at", None)
        record.setdefault("sourced", True)
        record.setdefault("social_profiles", [])
        record.setdefault("tags", [])
        record.setdefault("created_at", now)
        record.setdefault("updated_at", record["created_at"])
        record.setdefault(
            "profile_url",
            f"https://{record['account']['subdomain']}.workable.com/backend/candidates/{record['id']}",
        )

    def _limit(self, request: EmuRequest) -> int | Reply:
        raw = request.arg("limit", str(DEFAULT_LIMIT)) or str(DEFAULT_LIMIT)
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
            return self.error_reply(422, f"limit must be between 1 and {MAX_LIMIT}")
        return int(raw)

    def _page(self, request: EmuRequest, key: str, rows: list[dict[str, Any]]) -> Reply:
        limit = self._limit(request)
        if isinstance(limit, Reply):
            return limit
        since_id = request.arg("since_id")
        if since_id:
            # "Returns results with an ID greater than or equal to the specified ID", ids in creation order.
            ids = [r["id"] for r in rows]
            rows = rows[ids.index(since_id) :] if since_id in ids else []
        chunk, rest = rows[:limit], rows[limit:]
        body: dict[str, Any] = {key: [self.public(r) for r in chunk]}
        if rest:
            query = {k: v[0] for k, v in request.query.items() if k != "since_id"} | {
                "since_id": rest[0]["id"]
            }
            body["paging"] = {"next": f"{request.host_url}{request.path}?{urlencode(query)}"}
        return Reply(200, body)

    def _job_or_404(self, shortcode: str) -> dict[str, Any] | None:
        return self.table("jobs").get(shortcode)

    def _pipeline(self, job: Mapping[str, Any]) -> list[dict[str, Any]]:
        stages = sorted(self.table("stages").values(), key=lambda s: s.get("position", 0))
        wanted = job.get("stage_slugs")
        return [self.public(s) for s in stages if not wanted or s["slug"] in wanted]

    # --- jobs and stages ---

    def _jobs(self, request: EmuRequest) -> Reply:
        state = request.arg("state")
        rows = [j for j in self.table("jobs").values() if not state or j.get("state") == state]
        return self._page(request, "jobs", rows)

    def _job(self, request: EmuRequest, shortcode: str) -> Reply:
        job = self._job_or_404(shortcode)
        return Reply(200, self.public(job)) if job else self.error_reply(404, "Not found")

    def _job_stages(self, request: EmuRequest, shortcode: str) -> Reply:
        job = self._job_or_404(shortcode)
        return Reply(200, {"stages": self._pipeline(job)}) if job else self.error_reply(404, "Not found")

    def _stages(self, request: EmuRequest) -> Reply:
        return Reply(200, {"stages": self._pipeline({})})

    # --- candidates ---

    def _candidates(self, request: EmuRequest) -> Reply:
        rows = [c for c in self.table("candidates").values() if self.is_visible(c)]
        email = (request.arg("email") or "").strip().lower()
        if email:
            rows = [c for c in rows if str(c.get("email", "")).strip().lower() == email]
        if request.arg("shortcode"):
            rows = [c for c in rows if (c.get("job") or {}).get("shortcode") == request.arg("shortcode")]
        for name, field in (("created_after", "created_at"), ("updated_after", "updated_at")):
            after = request.arg(name)
            if not after:
                continue
            cutoff = _parse_time(after)
            if cutoff is None:
                # The documentation does not say how a malformed filter is answered; 422 is assumed.
                return self.error_reply(422, f"{name} is not a valid timestamp")
            rows = [c for c in rows if _second(_parse_time(str(c.get(field))) or cutoff) > _second(cutoff)]
        return self._page(request, "candidates", rows)

    def _candidate(self, request: EmuRequest, candidate_id: str) -> Reply:
        candidate = self.table("candidates").get(candidate_id)
        if candidate is None or not self.is_visible(candidate):
            return self.error_reply(404, "Not found")
        return Reply(200, {"candidate": self.public(candidate)})

    def _create_in_job(self, request: EmuRequest, shortcode: str) -> Reply:
        job = self._job_or_404(shortcode)
        if job is None:
            return self.error_reply(404, "Not found")
        if job.get("state") != "published":
            return self.error_reply(422, f"The job is {job.get('state')} and does not accept candidates")
        return self._create(request, job)

    def _create_in_pool(self, request: EmuRequest) -> Reply:
        if self.talent_pool_refusal is not None:
            # The reference documents this route (https://workable.readme.io/reference/talent-pool-candidates-create)
            # while the Getting started guide (https://workable.readme.io/reference/generate-an-access-token)
            # is reported (issue 24) to say creating talent-pool candidates is not supported. What a refusal
            # looks like is documented nowhere: the status is the caller's, the body Workable's `{"error": …}`.
            message = "Not found" if self.talent_pool_refusal == 404 else "Not supported"
            return self.error_reply(self.talent_pool_refusal, message)
        return self._create(request, None)

    def _create(self, request: EmuRequest, job: Mapping[str, Any] | None) -> Reply:
        body = request.json if isinstance(request.json, Mapping) else {}
        fields = body.get("candidate") if isinstance(body.get("candidate"), Mapping) else {}
        errors: dict[str, str] = {}
        # "name (required) … optional if firstname and lastname are provided", "email (required)"
        # (https://workable.readme.io/reference/job-candidates-create and
        # https://workable.readme.io/reference/talent-pool-candidates-create, the fields table). The pages
        # do not document the status or body of a create missing them: 422 with the field named is assumed.
        if not fields.get("name") and not (fields.get("firstname") and fields.get("lastname")):
            errors["name"] = "can't be blank"
        if not str(fields.get("email") or "").strip():
            errors["email"] = "can't be blank"
        elif "@" not in str(fields["email"]):
            errors["email"] = "is invalid"
        if errors:
            return self.error_reply(422, "Validation failed", field_errors=errors)
        # "if the sourced flag is not included, candidates are considered as uploaded" (no email sent).
        sourced = body.get("sourced", True) is not False
        stage = None
        if job is not None:
            pipeline = self._pipeline(job)
            slug = request.arg("stage")
            if slug:
                stage = next((s for s in pipeline if s["slug"] == slug), None)
                if stage is None:
                    return self.error_reply(422, f"Stage {slug} does not exist in this job")
            else:
                default_kind = "sourced" if sourced else "applied"
                stage = next(
                    (s for s in pipeline if s.get("kind") == default_kind), pipeline[0] if pipeline else None
                )
        record = self._new_candidate(fields, job, stage, sourced=sourced)
        if not sourced:
            self.applied_emails.append(record["email"])
        return Reply(201, {"status": "created", "candidate": self.public(record)})

    def _new_candidate(
        self,
        fields: Mapping[str, Any],
        job: Mapping[str, Any] | None,
        stage: Mapping[str, Any] | None,
        *,
        sourced: bool,
    ) -> dict[str, Any]:
        allowed = (
            "name",
            "firstname",
            "lastname",
            "email",
            "headline",
            "summary",
            "address",
            "phone",
            "social_profiles",
            "tags",
        )
        record: dict[str, Any] = {k: fields[k] for k in allowed if k in fields}
        record["id"] = secrets.token_hex(4)[:7]
        record["sourced"] = sourced
        record["job"] = {"shortcode": job["shortcode"], "title": job["title"]} if job else None
        if stage is not None:
            record |= {"stage": stage["name"], "stage_kind": stage.get("kind")}
        record["created_at"] = stamp(self.clock())
        self._fill_candidate(record)
        self.stamp_visibility(record)
        self.table("candidates")[record["id"]] = record
        self.record_created(
            "candidate",
            record["id"],
            [str(record.get("email", ""))],
            job_id=job["shortcode"] if job else None,
            stage_id=stage["slug"] if stage else None,
            prospect=stage is None or stage.get("kind") == "sourced",
        )
        self.deliver("candidate_created", record)
        return record

    def _copy(self, request: EmuRequest, candidate_id: str) -> Reply:
        source = self.table("candidates").get(candidate_id)
        if source is None:
            return self.error_reply(404, "Not found")
        body = request.json if isinstance(request.json, Mapping) else {}
        if str(body.get("member_id")) not in self.table("members"):
            return self.error_reply(422, "Validation failed", field_errors={"member_id": "is invalid"})
        job = self._job_or_404(str(body.get("target_job_shortcode")))
        if job is None:
            return self.error_reply(404, "Not found")
        for other in self.table("candidates").values():
            if (other.get("job") or {}).get("shortcode") == job["shortcode"] and other.get(
                "email"
            ) == source.get("email"):
                return self.error_reply(409, "The candidate is already in this job")
        pipeline = self._pipeline(job)
        slug = body.get("target_stage")
        stage = (
            next((s for s in pipeline if s["slug"] == slug), None)
            if slug
            else (pipeline[0] if pipeline else None)
        )
        if slug and stage is None:
            return self.error_reply(422, f"Stage {slug} does not exist in this job")
        record = self._new_candidate(
            self.public(source), job, stage, sourced=bool(source.get("sourced", True))
        )
        # "This endpoint creates a new candidate on the specified job and stage. To get the new candidate,
        # follow the URL from the body of the response" (https://workable.readme.io/reference/copy-candidate).
        # The answer names the copy by `id` and its API `url` only: 201 `{"candidate": {"id", "url"}}`, the
        # `url` on the account's API root (…/spi/v3/candidates/<id>), as in the page's response example; the
        # page's text says no more than "follow the URL", and nothing of a `profile_url`.
        url = f"{request.host_url}{self.api_prefix}/candidates/{record['id']}"
        return Reply(201, {"candidate": {"id": record["id"], "url": url}})

    def _disqualify(self, request: EmuRequest, candidate_id: str) -> Reply:
        """`POST /candidates/:id/disqualify` (https://workable.readme.io/reference/disqualify-candidate).

        "Disqualifies a candidate. Required scope: w_candidates" (checked by `authenticate`, as for every
        POST). "A complete request would be: {"member_id": "13e0eb0e", "disqualification_reason": "Very
        tardy"}". The record then shows `disqualified`, `disqualification_reason` and `disqualified_at`
        (the keys of https://workable.readme.io/reference/candidate-events). The page documents no response
        body and no error answers: assumed are 200 with the candidate, 404 for an unknown id, 422 naming
        `member_id` when it is missing or not a member, and 422 for a talent-pool candidate or one already
        disqualified.
        """
        candidate = self.table("candidates").get(candidate_id)
        if candidate is None or not self.is_visible(candidate):
            return self.error_reply(404, "Not found")
        body = request.json if isinstance(request.json, Mapping) else {}
        if str(body.get("member_id")) not in self.table("members"):
            return self.error_reply(422, "Validation failed", field_errors={"member_id": "is invalid"})
        if candidate.get("job") is None:
            return self.error_reply(422, "The candidate is not in a job and cannot be disqualified")
        if candidate.get("disqualified"):
            return self.error_reply(422, "The candidate is already disqualified")
        self._disqualified(candidate, body.get("disqualification_reason") or None)
        return Reply(200, {"candidate": self.public(candidate)})

    def _disqualified(self, candidate: dict[str, Any], reason: str | None) -> None:
        now = stamp(self.clock())
        candidate |= {
            "disqualified": True,
            "disqualification_reason": reason,
            "disqualified_at": now,
            "updated_at": now,
        }
        # No event is documented for a disqualification; the emulator sends candidate_moved for it, so the
        # app is tested with the rejection arriving either way (a webhook here, the poll where Workable sends
        # nothing).
        self.deliver("candidate_moved", candidate)

    def edit_person(self, person_id: str, **changes: Any) -> dict[str, Any]:
        """Edit a candidate as a recruiter does in Workable (see `Emulator.edit_person`): one `email` and one
        `phone` (the first of each list; an empty list clears it); the LinkedIn URL replaces the `linkedin`
        social profile."""
        with self.lock:
            candidate = self.table("candidates")[str(person_id)]
            for key, field in (("first_name", "firstname"), ("last_name", "lastname")):
                if key in changes:
                    candidate[field] = changes[key]
            candidate["name"] = " ".join(
                filter(None, (candidate.get("firstname"), candidate.get("lastname")))
            )
            for key, field in (("emails", "email"), ("phones", "phone")):
                if key in changes:
                    candidate[field] = next(iter(changes[key]), None)
            if "linkedin_url" in changes:
                profiles = [
                    p
                    for p in candidate.get("social_profiles") or []
                    if str(p.get("type")).lower() != "linkedin"
                ]
                url = changes["linkedin_url"]
                candidate["social_profiles"] = (
                    [*profiles, {"type": "linkedin", "url": url}] if url else profiles
                )
            candidate["updated_at"] = stamp(self.clock())
            return dict(candidate)

    def delete_person(self, person_id: str) -> None:
        """Delete a candidate as a recruiter does; `candidate_deleted` goes to the subscriptions asking."""
        with self.lock:
            candidate = self.table("candidates").pop(str(person_id))
        self.deliver("candidate_deleted", candidate)

    def move_application(
        self,
        application_id: str,
        *,
        stage_id: str | None = None,
        status: str | None = None,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """Do what a recruiter does in Workable: move the candidate (one record per job, so the application
        id is the candidate id) to the stage slug `stage_id`, to the hired stage ("hired"), or disqualify it
        with `reason` ("rejected"). Workable has no archived candidates: "archived" disqualifies too."""
        with self.lock:
            candidate = self.table("candidates")[application_id]
            job = candidate.get("job")
            if job is None:
                raise ValueError("a talent-pool candidate has no stage to move")
            if status in ("rejected", "archived"):
                self._disqualified(candidate, reason)
                return candidate
            pipeline = self._pipeline(self.table("jobs").get(job["shortcode"]) or {})
            if status == "hired":
                stage = next(s for s in pipeline if s.get("kind") == "hired")
            elif status is None and stage_id:
                stage = next(s for s in pipeline if s["slug"] == stage_id)
            else:
                raise ValueError(f"move needs a stage_id or a status of rejected or hired, not {status!r}")
            now = stamp(self.clock())
            candidate |= {"stage": stage["name"], "stage_kind": stage.get("kind"), "updated_at": now}
            if stage.get("kind") == "hired":
                candidate["hired_at"] = now[:10]  # "hired_at | date" (job-candidates-index)
            self.deliver("candidate_moved", candidate)
            return candidate

    def _update(self, request: EmuRequest, candidate_id: str) -> Reply:
        """`PATCH /candidates/:id` with `{"candidate": {...}}` (https://workable.readme.io/reference/update-candidate,
        scope w_candidates). The page documents the fields, not the errors: 404 for an unknown id and 422
        naming a field are assumed, as for the creates."""
        candidate = self.table("candidates").get(candidate_id)
        if candidate is None or not self.is_visible(candidate):
            return self.error_reply(404, "Not found")
        body = request.json if isinstance(request.json, Mapping) else {}
        fields = body.get("candidate")
        if not isinstance(fields, Mapping) or not fields:
            return self.error_reply(422, "Validation failed", field_errors={"candidate": "can't be blank"})
        allowed = (
            "firstname",
            "lastname",
            "email",
            "headline",
            "summary",
            "address",
            "phone",
            "social_profiles",
        )
        unknown = sorted(set(fields) - set(allowed))
        if unknown:
            return self.error_reply(
                422, "Validation failed", field_errors={unknown[0]: "is not a known field"}
            )
        if "email" in fields and "@" not in str(fields["email"]):
            return self.error_reply(422, "Validation failed", field_errors={"email": "is invalid"})
        profiles = fields.get("social_profiles", [])
        # `social_profiles` entries are `{type, url}` (the page's complete example); the array is replaced.
        if not isinstance(profiles, list) or any(
            not isinstance(p, Mapping) or not p.get("type") or not p.get("url") for p in profiles
        ):
            return self.error_reply(
                422, "Validation failed", field_errors={"social_profiles": "entries need a type and a url"}
            )
        for key in ("firstname", "lastname"):
            if key in fields and (not isinstance(fields[key], str) or not fields[key].strip()):
                return self.error_reply(422, "Validation failed", field_errors={key: "can't be blank"})
        candidate |= dict(fields) | {"updated_at": stamp(self.clock())}
        if "firstname" in fields or "lastname" in fields:
            candidate["name"] = " ".join(
                filter(None, (candidate.get("firstname"), candidate.get("lastname")))
            )
        return Reply(200, {"candidate": self.public(candidate)})

    # --- webhooks ---

    def _subscriptions(self, request: EmuRequest) -> Reply:
        """`GET /subscriptions`: the active subscriptions (`id`, `target`, `valid_until`, `created_at`,
        `stage_slug`, `job_shortcode`, as in the reference's example)."""
        now = stamp(self.clock())
        rows = [
            {k: s[k] for k in ("id", "target", "valid_until", "created_at", "stage_slug", "job_shortcode")}
            for s in self.table("subscriptions").values()
            if s["valid_until"] > now
        ]
        return Reply(200, {"subscriptions": rows})

    def _subscribe(self, request: EmuRequest) -> Reply:
        """`POST /subscriptions` {target, event, args?}: "If the args object is present, job_shortcode and
        stage_slug are required"; "The target URLs should be unique. If a target URL is already registered,
        the service will respond with 409 - Conflict" (https://workable.readme.io/reference/webhook-subscriptions).
        The answer's body is assumed to be `{"id": …}` (what integrations read)."""
        body = request.json if isinstance(request.json, Mapping) else {}
        target, event, args = body.get("target"), body.get("event"), body.get("args")
        if not isinstance(target, str) or not target.startswith(("http://", "https://")):
            return self.error_reply(422, "Validation failed", field_errors={"target": "is invalid"})
        if event not in EVENTS:
            return self.error_reply(422, "Validation failed", field_errors={"event": "is not supported"})
        if args is not None and (
            not isinstance(args, Mapping) or not {"job_shortcode", "stage_slug"} <= set(args)
        ):
            return self.error_reply(
                422, "Validation failed", field_errors={"args": "needs job_shortcode and stage_slug"}
            )
        now = self.clock()
        with self.lock:
            if any(s["target"] == target for s in self.table("subscriptions").values()):
                return self.error_reply(409, "Conflict")
            token = request.headers.get("authorization", "").partition(" ")[2]
            record = {
                "id": int(self.new_id()),
                "target": target,
                "event": event,
                "created_at": stamp(now),
                "valid_until": stamp(now + SUBSCRIPTION_DAYS * 86400),
                "job_shortcode": str((args or {}).get("job_shortcode") or ""),
                "stage_slug": str((args or {}).get("stage_slug") or ""),
                "_token": token,
            }
            self.table("subscriptions")[str(record["id"])] = record
        return Reply(201, {"id": record["id"]})

    def _unsubscribe(self, request: EmuRequest, subscription_id: str) -> Reply:
        if self.table("subscriptions").pop(subscription_id, None) is None:
            return self.error_reply(404, "Not found")
        return Reply(200, {})

    def deliver(self, event: str, candidate: Mapping[str, Any]) -> None:
        """Send `event` for `candidate` to the subscriptions asking for it (their job and stage filters
        applied) and to the targets an admin pasted (`POST /_emulator/webhooks`)."""
        job = (candidate.get("job") or {}).get("shortcode") or ""
        stage = next(
            (s["slug"] for s in self.table("stages").values() if s.get("name") == candidate.get("stage")), ""
        )
        now = stamp(self.clock())
        targets = [
            WebhookTarget(s["target"], s["_token"], (event,), str(s["id"]))
            for s in self.table("subscriptions").values()
            if s["event"] == event
            and s["valid_until"] > now
            and s["job_shortcode"] in ("", job)
            and s["stage_slug"] in ("", stage)
        ]
        targets += self.webhooks.targets_for(event)
        if not targets:
            return
        payload = {
            "id": str(uuid.uuid4()),
            "event_type": event,
            "fired_at": now,
            "resource_type": "candidate",
            "data": self.public(candidate),
        }
        body = json.dumps(payload).encode()
        for target in targets:
            digest = hmac.new(target.secret.encode(), body, hashlib.sha256).hexdigest()
            headers = {"X-Workable-Signature": digest}
            self.webhooks.send(target, event, body, headers, retry_delays=self.webhook_retry_delays)
