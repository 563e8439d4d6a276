"""A loopback Merge: the unified ATS API under `/api/ats/v1`, for linked accounts standing in for the ATSs behind.

Built to Merge's published ATS OpenAPI document (the part ScaleUp uses, devkit/ats/specs/merge-ats-openapi.yml):
every request is checked against it, and one that breaks it (an undeclared query parameter, a body outside
the request schema) is answered 400 with the problem, so a test sees it at once; a model field the schema does
not declare, or the linked account does not list, is ignored with a warning, as Merge says it does ("if the
request contains an unrecognized field, we will ignore the field and notify you with a warning",
https://docs.merge.dev/merge-unified/writing-data/troubleshooting-writes/troubleshooting-tools). Emulator
choices where Merge's documentation is silent are marked "(emulator)".

Collections: `api_keys` (id = the key), `linked_accounts` (id = the account token; `integration`, `slug`,
`organization`, `status`, `category` and `models`: {model name: {operations, required, fields}}, which
`GET /available-actions` returns), `users`, `jobs`, `job_interview_stages`, `candidates`, `applications`,
`tags`. The records are shared by the linked accounts; what each may do comes from its `models`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import jsonschema
import yaml

from core.vocabulary import Vendor
from devkit.ats.base import Emulator
from devkit.ats.wire import EmuRequest, Reply, Route, iso

DEMO_API_KEY = "merge-demo-api-key"
DEMO_ACCOUNT_TOKEN = "merge-demo-workday-token"
DEFAULT_PAGE_SIZE = 100  # (emulator) the reference gives the maximum, 100, not the default
MAX_PAGE_SIZE = 100
SPEC_PATH = Path(__file__).with_name("specs") / "merge-ats-openapi.yml"
PREFIX = "/api"
WRITE_REQUESTS = {"CandidateEndpointRequest", "ApplicationEndpointRequest"}


@functools.cache
def published_spec() -> Mapping[str, Any]:
    """Return Merge's OpenAPI document (the part ScaleUp uses), parsed once."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(SPEC_PATH.read_text(), Loader=loader)


def _template(path: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)) + r"\Z")


@functools.cache
def _operations() -> list[tuple[re.Pattern[str], str, Mapping[str, Any]]]:
    document = published_spec()
    return [
        (_template(path), method.upper(), operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


def _resolve(node: Any) -> Any:
    document = published_spec()
    while isinstance(node, Mapping) and "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


@functools.cache
def _validator(schema_name: str) -> jsonschema.Draft202012Validator:
    schemas = dict(published_spec()["components"]["schemas"])
    root = dict(schemas[schema_name])
    if schema_name in WRITE_REQUESTS:
        # The request schemas mark `remote_user_id` required; the writes guide says "Some ATS integrations
        # need" it and the 2021 changelog made it optional, listing who needs it in Available Actions
        # (https://www.merge.dev/changelog/week-4-june-2021): the linked account's `required` decides here.
        root["required"] = [name for name in root.get("required", []) if name != "remote_user_id"]
    document = {**root, "components": {"schemas": schemas}}
    return jsonschema.Draft202012Validator(document, format_checker=jsonschema.FormatChecker())


def _problem(
    detail: str, problem_type: str, pointer: str | None = None, title: str = "Error"
) -> dict[str, Any]:
    problem: dict[str, Any] = {"title": title, "detail": detail, "problem_type": problem_type}
    if pointer is not None:
        problem["source"] = {"pointer": pointer}
    return problem


class SchemaProblem(Exception):
    """A request outside the published schema, or refused data: answered `status` with Merge's `errors`."""

    def __init__(self, *problems: dict[str, Any], status: int = 400) -> None:
        super().__init__("; ".join(str(p["detail"]) for p in problems))
        self.problems = list(problems)
        self.status = status


def _encode(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def _decode(cursor: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return int(data["o"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise SchemaProblem(_problem("Invalid cursor", "ERROR", title="Bad cursor")) from None


def _instant(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        raise SchemaProblem(_problem(f"{value[:40]!r} is not an ISO 8601 date-time", "ERROR")) from None


def _present(body: Mapping[str, Any], dotted: str) -> bool:
    """Return True when the required parameter `dotted` ("email_addresses.value") has a value in `body`."""
    if dotted == "remote_user_id":
        return bool(body.get("remote_user_id"))
    model = body.get("model") if isinstance(body.get("model"), Mapping) else {}
    head, _, rest = dotted.partition(".")
    value = model.get(head)
    if not rest:
        return value not in (None, "", [], {})
    items = value if isinstance(value, list) else [value]
    return any(isinstance(i, Mapping) and i.get(rest) not in (None, "") for i in items)


class MergeEmulator(Emulator):
    """Merge's ATS endpoints ScaleUp uses, for several linked accounts at once."""

    vendor = Vendor.MERGE
    api_prefix = PREFIX
    create_path = PREFIX + "/ats/v1/candidates"
    # "Launch: 100 / minute (per Linked Account)" (https://docs.merge.dev/merge-unified/ats/merge-api-basics/
    # rate-limits); one window for the whole emulator (emulator).
    default_rate_window = 60.0
    demo_secrets: ClassVar[Mapping[str, str]] = {"account_token": DEMO_ACCOUNT_TOKEN}
    demo_fields: ClassVar[Mapping[str, str]] = {"remote_user_id": "6bd4e1f0-1a2b-4c3d-8e9f-0a1b2c3d4e5f"}
    install_settings: ClassVar[Mapping[str, str]] = {"SCALEUP_MERGE_API_KEY": DEMO_API_KEY}

    def __init__(self, **kwargs: Any) -> None:
        self.warnings: list[dict[str, Any]] = []  # every warning answered, for tests to inspect
        super().__init__(**kwargs)

    def reset(self, seed: Mapping[str, Any] | None = None) -> None:
        """Forget everything (see `Emulator.reset`), the warnings too."""
        self.warnings.clear()
        super().reset(seed)

    # --- framework hooks ---

    def routes(self) -> list[Route]:
        """Return one route per operation of the published document the emulator answers."""
        handlers: dict[tuple[str, str], Callable[..., Any]] = {
            ("GET", "/ats/v1/account-details"): self._account_details,
            ("GET", "/ats/v1/available-actions"): self._available_actions,
            ("GET", "/ats/v1/jobs"): self._list("jobs", self._job_filter),
            ("GET", "/ats/v1/jobs/{id}"): self._get("jobs"),
            ("GET", "/ats/v1/job-interview-stages"): self._list("job_interview_stages", self._stage_filter),
            ("GET", "/ats/v1/job-interview-stages/{id}"): self._get("job_interview_stages"),
            ("GET", "/ats/v1/candidates"): self._list("candidates", self._candidate_filter),
            ("GET", "/ats/v1/candidates/{id}"): self._get("candidates"),
            ("POST", "/ats/v1/candidates"): self._create_candidate,
            ("GET", "/ats/v1/applications"): self._list("applications", self._application_filter),
            ("GET", "/ats/v1/applications/{id}"): self._get("applications"),
            ("POST", "/ats/v1/applications"): self._create_application,
            ("GET", "/ats/v1/users"): self._list("users", lambda r, q: True),
            ("GET", "/ats/v1/users/{id}"): self._get("users"),
            ("GET", "/ats/v1/tags"): self._list("tags", lambda r, q: True),
        }
        routes = []
        for (method, path), handler in handlers.items():
            pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(PREFIX + path))
            routes.append(Route(method, pattern, self._checked(method, path, handler)))
        return routes

    def error_reply(
        self, status: int, message: str, *, field_errors: Mapping[str, str] | None = None
    ) -> Reply:
        """Return a write's `errors` for refused data (400, 422), else a `detail` (emulator: DRF's shape)."""
        if status in (400, 422):
            problems = [_problem(message, "ERROR")] + [
                _problem(text, "ERROR", f"/model/{name}") for name, text in (field_errors or {}).items()
            ]
            return Reply(status, {"warnings": [], "errors": problems})
        return Reply(status, {"detail": message})

    def authenticate(self, request: EmuRequest) -> Reply | None:
        """Accept `Authorization: Bearer <API key>` with a known linked account's `X-Account-Token`."""
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or key not in self.table("api_keys"):
            return Reply(401, {"detail": "Invalid API key."})
        if request.headers.get("x-account-token", "") not in self.table("linked_accounts"):
            return Reply(401, {"detail": "Invalid account token."})
        return None

    def normalize_seed(self, collection: str, record: dict[str, Any]) -> dict[str, Any]:
        """Give seeded records Merge ids, stamps and the fields Merge always returns."""
        if collection in ("api_keys", "linked_accounts"):
            return record
        record.setdefault("id", str(uuid.uuid4()))
        record.setdefault("remote_id", f"r-{str(record['id'])[:8]}")
        record.setdefault("created_at", "2026-11-02T09:00:00.000Z")
        record.setdefault("modified_at", record["created_at"])
        record.setdefault("remote_was_deleted", False)
        if collection == "candidates":
            for key in ("email_addresses", "phone_numbers", "urls", "tags", "applications", "attachments"):
                record.setdefault(key, [])
        return record

    def move_application(
        self,
        application_id: str,
        *,
        stage_id: str | None = None,
        status: str | None = None,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """Move an application to `stage_id` or reject it, as a person in the ATS would; Merge's next sync
        stamps it and its "Changed data" webhook (`Application.changed`) goes to every registered target.

        Merge's Application has `rejected_at` but no hired or archived state: only "rejected" is taken.
        """
        with self.lock:
            application = self.table("applications")[application_id]
            if stage_id is not None:
                stage = self.table("job_interview_stages").get(stage_id)
                if stage is None or stage.get("job") not in (None, application["job"]):
                    raise ValueError(f"stage {stage_id} is not a stage of the application's job")
                application["current_stage"] = stage_id
            if status == "rejected":
                application["rejected_at"] = iso(self.clock())
            elif status is not None:
                raise ValueError(f"Merge's Application has no {status!r} state (only rejected_at)")
            self._stamp(application)
            changed = dict(application)
        self.deliver("Application.changed", changed)
        return changed

    def deliver(
        self, event: str, data: Mapping[str, Any], *, account_token: str = DEMO_ACCOUNT_TOKEN
    ) -> None:
        """Send `event` about `data` to every target that wants it, signed as Merge signs.

        The payload is `hook`, `linked_account` and `data` (help.merge.dev article 5389453, "Creating webhooks
        in Merge"); webhooks serve the whole Merge organization, so `linked_account` says whose data it is.
        """
        account = self.table("linked_accounts")[account_token]
        for target in self.webhooks.targets_for(event):
            hook = {"id": target.id or str(uuid.uuid5(uuid.NAMESPACE_URL, target.url)), "event": event}
            payload = {
                "hook": {**hook, "target": target.url},
                "linked_account": self._details(account),
                "data": self._view(data),
            }
            body = json.dumps(payload).encode()
            self.webhooks.send(
                target, event, body, {"X-Merge-Webhook-Signature": signature(target.secret, body)}
            )

    # --- plumbing ---

    def _checked(self, method: str, path: str, handler: Callable[..., Any]) -> Callable[..., Reply]:
        operation = next(op for regex, m, op in _operations() if m == method and regex.match(path))

        def serve(request: EmuRequest, **params: str) -> Reply:
            try:
                self._check_query(operation, request)
                for value in params.values():
                    if not _is_uuid(value):
                        # Path ids are `format: uuid`; anything else names no record (emulator: 404, DRF's).
                        return Reply(404, {"detail": "Not found."})
                account = self.table("linked_accounts")[request.headers["x-account-token"]]
                return handler(request, account, **params)
            except SchemaProblem as problem:
                return Reply(problem.status, {"warnings": [], "errors": problem.problems})

        serve.__name__ = f"{method} {path}"
        return serve

    @staticmethod
    def _check_query(operation: Mapping[str, Any], request: EmuRequest) -> None:
        declared = {p["name"]: p for p in operation.get("parameters", []) if p.get("in") == "query"}
        for name, values in request.query.items():
            if name not in declared:
                raise SchemaProblem(_problem(f"query parameter {name!r} is not in the reference", "ERROR"))
            schema = _resolve(declared[name].get("schema", {}))
            for value in values:
                if schema.get("type") == "integer" and not value.lstrip("-").isdigit():
                    raise SchemaProblem(_problem(f"{name} must be an integer", "INCORRECT_FIELD_TYPE"))
                if "enum" in schema and value not in schema["enum"]:
                    raise SchemaProblem(
                        _problem(f"{name} must be one of {schema['enum']}", "INVALID_FIELD_CHOICE")
                    )
                if schema.get("format") == "date-time":
                    _instant(value)

    def _body(self, request: EmuRequest, schema_name: str) -> dict[str, Any]:
        if not isinstance(request.json, dict):
            raise SchemaProblem(_problem("The request body must be a JSON object", "ERROR"))
        errors = sorted(_validator(schema_name).iter_errors(request.json), key=lambda e: list(e.path))
        if errors:
            problems = []
            for error in errors:
                kind = "MISSING_REQUIRED_FIELD" if error.validator == "required" else "INCORRECT_FIELD_TYPE"
                pointer = "/" + "/".join(str(p) for p in error.path)
                problems.append(_problem(error.message, kind, pointer, title="Invalid field"))
            raise SchemaProblem(*problems)
        return dict(request.json)

    def _page(self, rows: list[dict[str, Any]], request: EmuRequest) -> dict[str, Any]:
        size = int(request.arg("page_size") or DEFAULT_PAGE_SIZE)
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise SchemaProblem(_problem(f"page_size must be between 1 and {MAX_PAGE_SIZE}", "ERROR"))
        offset = _decode(request.arg("cursor")) if request.arg("cursor") else 0
        chunk = rows[offset : offset + size]
        more = offset + len(chunk) < len(rows)
        return {
            "next": _encode(offset + len(chunk)) if more else None,
            "previous": _encode(max(0, offset - size)) if offset else None,
            "results": [self._view(r) for r in chunk],
        }

    def _view(self, record: Mapping[str, Any]) -> dict[str, Any]:
        view = self.public(record)
        if not self.is_visible(record):
            # Merge holds the record, the ATS has not given it its own id yet (see SPEC's delayed_visibility).
            view["remote_id"] = None
        return view

    def _list(
        self, collection: str, keep: Callable[[Mapping[str, Any], EmuRequest], bool]
    ) -> Callable[..., Reply]:
        def serve(request: EmuRequest, account: Mapping[str, Any]) -> Reply:
            rows = [r for r in self.table(collection).values() if not r.get("remote_was_deleted")]
            if request.arg("modified_after"):
                after = _instant(str(request.arg("modified_after")))
                rows = [r for r in rows if _instant(r["modified_at"]) > after]
            return Reply(200, self._page([r for r in rows if keep(r, request)], request))

        return serve

    def _get(self, collection: str) -> Callable[..., Reply]:
        def serve(request: EmuRequest, account: Mapping[str, Any], id: str) -> Reply:
            record = self.table(collection).get(id)
            if record is None:
                return Reply(404, {"detail": "Not found."})
            return Reply(200, self._view(record))

        return serve

    @staticmethod
    def _job_filter(job: Mapping[str, Any], request: EmuRequest) -> bool:
        return request.arg("status") in (None, job.get("status"))

    @staticmethod
    def _stage_filter(stage: Mapping[str, Any], request: EmuRequest) -> bool:
        return request.arg("job_id") in (None, stage.get("job"))

    @staticmethod
    def _candidate_filter(candidate: Mapping[str, Any], request: EmuRequest) -> bool:
        wanted = request.arg("email_addresses")
        if wanted is None:
            return True
        # "multiple addresses can be separated by commas"; the reference says nothing of case (emulator:
        # compared without it, as addresses are).
        addresses = {a.strip().lower() for a in wanted.split(",") if a.strip()}
        return any(
            str(e.get("value") or "").strip().lower() in addresses
            for e in candidate.get("email_addresses") or []
        )

    @staticmethod
    def _application_filter(application: Mapping[str, Any], request: EmuRequest) -> bool:
        return request.arg("candidate_id") in (None, application.get("candidate")) and request.arg(
            "job_id"
        ) in (
            None,
            application.get("job"),
        )

    def _model(self, account: Mapping[str, Any], name: str) -> Mapping[str, Any]:
        model = (account.get("models") or {}).get(name)
        if not model or "CREATE" not in model.get("operations", []):
            # "The resource was not found with the given identifier - the integration does not support that
            # endpoint" (help.merge.dev article 9660257).
            raise SchemaProblem(
                _problem(f"{account['integration']} does not support creating {name}s", "ERROR"), status=404
            )
        return model

    def _write(
        self, account: Mapping[str, Any], name: str, body: dict[str, Any]
    ) -> tuple[dict[str, Any], list]:
        """Check the linked account's required parameters and remote user; return the kept model and warnings."""
        model_support = self._model(account, name)
        missing = [r for r in model_support.get("required", []) if not _present(body, r)]
        if missing:
            raise SchemaProblem(
                *[
                    _problem(
                        f"{r} is required by {account['integration']}", "MISSING_REQUIRED_FIELD", "/" + r
                    )
                    for r in missing
                ]
            )
        remote_user = body.get("remote_user_id")
        if remote_user is not None:
            user = self.table("users").get(str(remote_user))
            if user is None or user.get("disabled"):
                raise SchemaProblem(_problem("No active user with this id", "ERROR", "/remote_user_id"))
        declared = set(_resolve({"$ref": f"#/components/schemas/{name}Request"})["properties"])
        supported = set(model_support.get("fields") or declared)
        kept, warnings = {}, []
        for key, value in body["model"].items():
            if key in declared and key in supported:
                kept[key] = value
            else:
                warnings.append(
                    _problem(f"{key} is not written to {account['integration']}", "UNRECOGNIZED_FIELD")
                )
        self.warnings.extend(warnings)
        return kept, warnings

    def _stamp(self, record: dict[str, Any]) -> None:
        record["modified_at"] = iso(self.clock())

    # --- linked account ---

    def _account_details(self, request: EmuRequest, account: Mapping[str, Any]) -> Reply:
        return Reply(200, self._details(account))

    def _details(self, account: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, account["id"])),
            "integration": account["integration"],
            "integration_slug": account.get("slug", account["integration"].lower()),
            "category": account.get("category", "ats"),
            "end_user_origin_id": account.get("origin_id", "scaleup-demo"),
            "end_user_organization_name": account.get("organization", "ScaleUp Demo"),
            "end_user_email_address": "talent@scaleup-demo.example",
            "status": account.get("status", "COMPLETE"),
            "is_duplicate": False,
            "account_type": "PRODUCTION",
        }

    def _available_actions(self, request: EmuRequest, account: Mapping[str, Any]) -> Reply:
        models = [
            {
                "model_name": name,
                "available_operations": list(model.get("operations", [])),
                "required_post_parameters": list(model.get("required", [])),
                "supported_fields": list(model.get("fields", [])),
            }
            for name, model in (account.get("models") or {}).items()
        ]
        integration = {"name": account["integration"], "categories": ["ats"], "slug": account.get("slug", "")}
        return Reply(
            200,
            {"integration": integration, "passthrough_available": True, "available_model_operations": models},
        )

    # --- writes ---

    def _create_candidate(self, request: EmuRequest, account: Mapping[str, Any]) -> Reply:
        body = self._body(request, "CandidateEndpointRequest")
        model, warnings = self._write(account, "Candidate", body)
        now = iso(self.clock())
        record: dict[str, Any] = {
            **model,
            "id": str(uuid.uuid4()),
            "remote_id": f"{account.get('slug', 'ats')}-{self.new_id()}",
            "created_at": now,
            "modified_at": now,
            "remote_created_at": now,
            "remote_was_deleted": False,
        }
        self.normalize_seed("candidates", record)
        self.stamp_visibility(record)
        self.table("candidates")[record["id"]] = record
        emails = [str(e.get("value") or "") for e in record.get("email_addresses") or []]
        self.record_created("candidate", record["id"], emails, prospect=True)
        return Reply(201, {"model": self._view(record), "warnings": warnings, "errors": []})

    def _create_application(self, request: EmuRequest, account: Mapping[str, Any]) -> Reply:
        body = self._body(request, "ApplicationEndpointRequest")
        model, warnings = self._write(account, "Application", body)
        candidate = self.table("candidates").get(str(model.get("candidate")))
        job = self.table("jobs").get(str(model.get("job")))
        if candidate is None:
            raise SchemaProblem(_problem("No candidate with this id", "ERROR", "/model/candidate"))
        if job is None:
            raise SchemaProblem(_problem("No job with this id", "ERROR", "/model/job"))
        if job.get("status") != "OPEN":
            raise SchemaProblem(_problem("The job is not open", "ERROR", "/model/job"))
        stage_id = model.get("current_stage")
        if stage_id is not None:
            stage = self.table("job_interview_stages").get(str(stage_id))
            if stage is None or stage.get("job") not in (None, job["id"]):
                raise SchemaProblem(_problem("No such stage on this job", "ERROR", "/model/current_stage"))
        for other in self.table("applications").values():
            if other["candidate"] == candidate["id"] and other["job"] == job["id"]:
                raise SchemaProblem(
                    _problem(
                        "The candidate already has an application for this job", "DUPLICATE_MODEL_EXISTS"
                    )
                )
        now = iso(self.clock())
        application = {
            "id": str(uuid.uuid4()),
            "remote_id": f"{account.get('slug', 'ats')}-app-{self.new_id()}",
            "created_at": now,
            "modified_at": now,
            "candidate": candidate["id"],
            "job": job["id"],
            "applied_at": now,
            "rejected_at": None,
            "offers": [],
            "source": model.get("source"),
            "credited_to": body.get("remote_user_id"),
            "screening_question_answers": [],
            "current_stage": stage_id,
            "reject_reason": None,
            "remote_was_deleted": False,
        }
        self.table("applications")[application["id"]] = application
        candidate["applications"] = [*candidate.get("applications", []), application["id"]]
        self._stamp(candidate)
        emails = [str(e.get("value") or "") for e in candidate.get("email_addresses") or []]
        self.record_created(
            "application", application["id"], emails, job_id=job["id"], stage_id=stage_id, prospect=False
        )
        return Reply(201, {"model": application, "warnings": warnings, "errors": []})


def signature(secret: str, body: bytes) -> str:
    """Return `X-Merge-Webhook-Signature` for `body`: base64url HMAC-SHA256 under the webhook's signature key,
    padding stripped (merge-api/merge-unified-skills, skills/merge-onboarding/references/webhooks.md)."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
