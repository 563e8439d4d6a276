"""A loopback HTTP emulator framework that each vendor emulator builds on (stdlib only).

A vendor emulator subclasses `Emulator`, lists its `routes()`, and formats errors the vendor's way in
`error_reply()`. The base gives every vendor: in-memory records and seeding, a fixed-window rate limit that
answers 429 + Retry-After, injectable faults (5xx, hangs, latency; `emulator.faults`), delayed visibility,
a redacted request log, and control endpoints under `/_emulator/` for out-of-process users:

    GET  /_emulator/state              counts per collection, created records per email, faults, limits
    GET  /_emulator/requests           the redacted request log
    GET  /_emulator/created            every record created through the API (kind, id, emails, job, stage)
    GET  /_emulator/records/<name>     every record of a collection
    POST /_emulator/faults             {"kind": "error"|"hang", "count"?: n, "duration"?: s, "status"?: 503,
                                        "seconds"?: s, "method"?: "POST", "path"?: "/v3/candidates"}
                                        and/or {"latency": 0.5}, {"clear": true}
    POST /_emulator/rate_limit         {"limit": n, "window": s}  (limit null turns it off)
    POST /_emulator/seed               {"<collection>": [records…]}  (added to what is there)
    POST /_emulator/reset              {"seed"?: {...}}  empties everything, then seeds
    POST /_emulator/webhooks           {"url": ..., "secret": ..., "events"?: [...]}  an admin pasting the app's
                                        webhook into the vendor's settings (vendors without a registration API)
    GET  /_emulator/deliveries         the webhooks delivered: event, url, the receiver's status
    POST /_emulator/move               {"application_id": ..., "stage_id"?: ..., "status"?: "rejected"|"hired"|
                                        "archived"|"active", "reason"?: ...}  a person moving a candidate in the
                                        ATS ("active": unreject / unarchive, where the vendor's UI can) (the
                                        vendor's record changes and its webhook goes out)
    POST /_emulator/edit               {"person_id": ..., "first_name"?: ..., "last_name"?: ..., "emails"?: [...],
                                        "phones"?: [...], "linkedin_url"?: ... | null}  a person editing a
                                        candidate's profile in the ATS (`edit_person`); answers the record
    POST /_emulator/delete             {"person_id": ...}  a person deleting the candidate (`delete_person`)
"""

from __future__ import annotations

import functools
import json
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar, Self

from ats.base import ConnectionConfig
from ats.registry import spec_of
from core.vocabulary import Vendor
from devkit.ats.faults import FaultPlan, FixedWindow
from devkit.ats.webhooks import WebhookSender, WebhookTarget
from devkit.ats.wire import EmulatorHandler, EmuRequest, LoggedRequest, Reply, Route, header_number

log = logging.getLogger(__name__)

#: What `POST /_emulator/edit` changes (`Emulator.edit_person`).
PERSON_EDITS = frozenset({"first_name", "last_name", "emails", "phones", "linkedin_url"})


@dataclass(frozen=True)
class CreatedRecord:
    """A record created through the vendor API (not seeded), for tests and the control API to inspect.

    `job_id`/`stage_id` say where an application (Lever: opportunity) was placed, in the vendor's ids, so the
    contract suite can check placement without knowing each vendor's record shape.
    """

    kind: str
    id: str
    emails: tuple[str, ...]
    at: float
    job_id: str | None = None
    stage_id: str | None = None
    prospect: bool | None = None


class Emulator:
    """Base of the vendor emulators: a threaded loopback server with records, faults and rate limits.

    Args:
        host, port: where to listen (port 0 picks a free one; read `url` after `start()`).
        seed: collections to load, e.g. `{"jobs": [...], "candidates": [...]}`.
        rate_limit: requests allowed per `rate_window` seconds (None = unlimited).
        rate_window: the fixed window in seconds (the vendor's by default).
        visibility_delay: seconds a created record stays invisible to reads (vendors with async creates).
        clock: time source for windows, faults and visibility.
        log_size: how many recent requests the log keeps (benchmarks send far more).
    """

    vendor: ClassVar[Vendor]
    default_rate_window: ClassVar[float] = 1.0
    api_prefix: ClassVar[str] = ""
    #: The path (or its start) of the vendor's candidate create, where tests and the demo inject failures.
    create_path: ClassVar[str] = ""
    # The credentials the emulator accepts, and the vendor fields an adapter needs (see connection_config()).
    demo_secrets: ClassVar[Mapping[str, str]] = {}
    demo_fields: ClassVar[Mapping[str, str]] = {}
    #: Settings an install needs to reach the emulator besides the connection (Merge: the app's API key).
    install_settings: ClassVar[Mapping[str, str]] = {}

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: Mapping[str, Any] | None = None,
        rate_limit: int | None = None,
        rate_window: float | None = None,
        visibility_delay: float = 0.0,
        clock: Callable[[], float] = time.time,
        log_size: int = 10_000,
    ) -> None:
        self.host = host
        self.port = port
        self.clock = clock
        self.visibility_delay = visibility_delay
        self.lock = threading.RLock()
        self.collections: dict[str, dict[str, dict[str, Any]]] = {}
        self.created: list[CreatedRecord] = []
        self.log: deque[LoggedRequest] = deque(maxlen=log_size)
        self.request_count = 0
        self.faults = FaultPlan(clock)
        self.limiter = FixedWindow(rate_limit, rate_window or self.default_rate_window, clock)
        self.webhooks = WebhookSender()
        self._next_id = 1000
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._routes = [(r, re.compile(r.pattern + r"\Z")) for r in self.routes()]
        if seed:
            self.seed(seed)

    # --- vendor hooks -----------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        """Return the vendor's routes."""
        raise NotImplementedError

    def error_reply(
        self, status: int, message: str, *, field_errors: Mapping[str, str] | None = None
    ) -> Reply:
        """Return an error in the vendor's body shape."""
        return Reply(status, {"message": message, "errors": dict(field_errors or {})})

    def authenticate(self, request: EmuRequest) -> Reply | None:
        """Return an error reply when the request's credentials are wrong, else None."""
        return None

    def rate_headers(self, limit: int, remaining: int, reset_at: float) -> dict[str, str]:
        """Return the vendor's rate-limit headers."""
        return {}

    def move_application(
        self,
        application_id: str,
        *,
        stage_id: str | None = None,
        status: str | None = None,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """Do what a person does in the vendor's UI: move an application to `stage_id`, or reject / hire /
        archive it (`status`) with `reason`, or bring it back (`status` "active") where the vendor allows; stamp
        it updated and deliver the vendor's webhook. Returns the changed record. Vendors without stage activity
        leave this unimplemented."""
        raise NotImplementedError(f"{self.vendor} emulator has no stage changes")

    def edit_person(self, person_id: str, **changes: Any) -> dict[str, Any]:
        """Do what a person does on a candidate's profile in the vendor's UI, for two-way sync tests.

        `person_id` is the id the adapter's `read_contact` takes. `changes` (each optional): `first_name`,
        `last_name`, `emails` (the whole list of addresses, in order), `phones` (the whole list),
        `linkedin_url` (None or "" takes it off). Addresses and phones that stay keep their type; new ones get
        the vendor's default. Stamps the record updated. Returns the changed record; KeyError for an unknown
        id."""
        raise NotImplementedError(f"{self.vendor} emulator has no profile edits")

    def delete_person(self, person_id: str) -> None:
        """Delete the candidate `person_id` (and what hangs off it) as a person does in the vendor's UI;
        KeyError for an unknown id."""
        raise NotImplementedError(f"{self.vendor} emulator has no candidate deletes")

    def normalize_seed(self, collection: str, record: dict[str, Any]) -> dict[str, Any]:
        """Fill defaults into a seeded record (ids, timestamps) before it is stored."""
        return record

    # --- lifecycle --------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Return the server's root URL (after `start()`)."""
        if self._server is None:
            raise RuntimeError("emulator not started")
        return f"http://{self.host}:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        """Return what a `ConnectionConfig.base_url` should be to reach this emulator."""
        return self.url + self.api_prefix

    def connection_config(
        self, *, secrets: Mapping[str, str] | None = None, fields: Mapping[str, str] | None = None
    ) -> ConnectionConfig:
        """Return a connection pointing at this (started) emulator with its accepted credentials."""
        return ConnectionConfig(
            vendor=self.vendor,
            secrets={**self.demo_secrets, **(secrets or {})},
            fields={**self.demo_fields, **(fields or {})},
            base_url=self.base_url,
        )

    def start(self) -> Self:
        """Start serving on a daemon thread and return self."""
        handler = type("Handler", (EmulatorHandler,), {"dispatcher": self})
        self._stopping.clear()
        self._server = ThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        name = f"{self.vendor}-emulator"
        serve = functools.partial(self._server.serve_forever, poll_interval=0.05)  # quick stop() in tests
        threading.Thread(target=serve, name=name, daemon=True).start()
        log.info("%s emulator listening on %s", spec_of(self.vendor).label, self.url)
        return self

    def stop(self) -> None:
        """Stop serving and release hung requests."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait(self) -> None:
        """Block until `stop()` is called from another thread or Ctrl-C (for `scaleup ats emulate`)."""
        try:
            while not self._stopping.wait(1.0):
                pass
        except KeyboardInterrupt:
            pass

    # --- records ----------------------------------------------------------------------------------------

    def new_id(self) -> str:
        """Return a fresh numeric id as a string."""
        with self.lock:
            self._next_id += 1
            return str(self._next_id)

    def table(self, collection: str) -> dict[str, dict[str, Any]]:
        """Return the live id → record dict of `collection` (hold `lock` while changing it)."""
        return self.collections.setdefault(collection, {})

    def records(self, collection: str) -> list[dict[str, Any]]:
        """Return a copy of every record of `collection`, including invisible ones."""
        with self.lock:
            return [json.loads(json.dumps(r)) for r in self.table(collection).values()]

    def seed(self, data: Mapping[str, Any]) -> None:
        """Add the records of each collection in `data` (each record needs an `id`, or gets one)."""
        with self.lock:
            for collection, items in data.items():
                for item in items:
                    record = self.normalize_seed(collection, dict(item))
                    record.setdefault("id", self.new_id())
                    self.table(collection)[str(record["id"])] = record
                    if str(record["id"]).isdigit():
                        self._next_id = max(self._next_id, int(record["id"]))

    def seed_file(self, path: str | Path) -> None:
        """Seed from a JSON file shaped like `seed()`'s argument."""
        self.seed(json.loads(Path(path).read_text()))

    def reset(self, seed: Mapping[str, Any] | None = None) -> None:
        """Forget records, the log, created records and faults (keep the rate limit); then seed."""
        with self.lock:
            self.collections.clear()
            self.created.clear()
            self.log.clear()
            self.request_count = 0
        self.webhooks.clear()
        self.faults.clear()
        self.limiter.configure(self.limiter.limit)
        if seed:
            self.seed(seed)

    def record_created(
        self,
        kind: str,
        record_id: str,
        emails: Iterable[str],
        *,
        job_id: Any = None,
        stage_id: Any = None,
        prospect: bool | None = None,
    ) -> None:
        """Note a record created through the API (read by `created_by_email()`, `created_for()`)."""
        with self.lock:
            normalized = tuple(e.strip().lower() for e in emails if e)
            job = None if job_id is None else str(job_id)
            stage = None if stage_id is None else str(stage_id)
            record = CreatedRecord(kind, str(record_id), normalized, self.clock(), job, stage, prospect)
            self.created.append(record)

    def created_for(self, email: str, kind: str | None = None) -> list[CreatedRecord]:
        """Return what the API created for `email` (any case), optionally only of `kind`."""
        wanted = email.strip().lower()
        with self.lock:
            return [c for c in self.created if wanted in c.emails and kind in (None, c.kind)]

    def created_by_email(self) -> dict[str, dict[str, int]]:
        """Return {email: {kind: count}} of records created through the API."""
        counts: dict[str, dict[str, int]] = {}
        with self.lock:
            for item in self.created:
                for email in item.emails:
                    per_kind = counts.setdefault(email, {})
                    per_kind[item.kind] = per_kind.get(item.kind, 0) + 1
        return counts

    def stamp_visibility(self, record: dict[str, Any]) -> None:
        """Mark a just-created record invisible for `visibility_delay` seconds."""
        if self.visibility_delay > 0:
            record["_visible_at"] = self.clock() + self.visibility_delay

    def is_visible(self, record: Mapping[str, Any]) -> bool:
        """Return True once a record may be read."""
        return record.get("_visible_at", 0) <= self.clock()

    @staticmethod
    def public(record: Mapping[str, Any]) -> dict[str, Any]:
        """Return the record without the emulator's private `_…` keys."""
        return {k: v for k, v in record.items() if not k.startswith("_")}

    # --- inspection -------------------------------------------------------------------------------------

    def requests(self, method: str | None = None, path: str | None = None) -> list[LoggedRequest]:
        """Return logged vendor requests, optionally filtered by method and exact path."""
        with self.lock:
            return [r for r in self.log if method in (None, r.method) and path in (None, r.path)]

    def state(self) -> dict[str, Any]:
        """Return the JSON served by `GET /_emulator/state`."""
        with self.lock:
            return {
                "vendor": str(self.vendor),
                "counts": {name: len(rows) for name, rows in self.collections.items()},
                "created": self.created_by_email(),
                "requests": self.request_count,
                "rate_limit": {"limit": self.limiter.limit, "window": self.limiter.window},
                **self.faults.snapshot(),
            }

    # --- dispatch ---------------------------------------------------------------------------------------

    def handle(self, request: EmuRequest) -> Reply:
        """Answer a request: control API, or log → latency → faults → route → auth → limit → handler."""
        if request.path.startswith("/_emulator/"):
            return self._control(request)
        route, params = self._match(request)
        if route is not None and route.public:
            with self.lock:
                return route.handler(request, **params)
        with self.lock:
            self.log.append(LoggedRequest.of(request, self.clock()))
            self.request_count += 1
        if self.faults.latency:
            self._stopping.wait(self.faults.latency)
        fault = self.faults.take(request.method, request.path)
        if fault is not None and fault.kind == "hang":
            self._stopping.wait(fault.seconds)
        elif fault is not None:
            reply = self.error_reply(fault.status, "injected failure")
            if fault.status == 429 and fault.seconds:
                reply = Reply(429, reply.body, {**reply.headers, "Retry-After": header_number(fault.seconds)})
            return reply
        if route is None:
            return self.error_reply(404, "not found")
        denied = self.authenticate(request)
        if denied is not None:
            return denied
        check = self.limiter.check()
        headers = {} if check is None else self.rate_headers(check.limit, check.remaining, check.reset_at)
        if check is not None and not check.allowed:
            # Vendors send whole seconds; sub-second windows (tests) send the exact fraction.
            wait = float(int(check.retry_after + 0.999)) if self.limiter.window >= 1 else check.retry_after
            error = self.error_reply(429, "rate limit exceeded")
            return Reply(429, error.body, {**error.headers, **headers, "Retry-After": header_number(wait)})
        with self.lock:
            reply = route.handler(request, **params)
        return Reply(reply.status, reply.body, {**headers, **reply.headers})

    def _match(self, request: EmuRequest) -> tuple[Route | None, dict[str, str]]:
        for route, regex in self._routes:
            found = regex.match(request.path)
            if found and route.method == request.method:
                return route, found.groupdict()
        return None, {}

    def _control(self, request: EmuRequest) -> Reply:
        action = request.path.removeprefix("/_emulator/").strip("/")
        body = request.json if isinstance(request.json, Mapping) else {}
        if request.method == "GET":
            if action == "state":
                return Reply(200, self.state())
            if action == "requests":
                return Reply(200, [asdict(r) for r in self.requests()])
            if action == "created":
                with self.lock:
                    return Reply(200, [asdict(c) for c in self.created])
            if action.startswith("records/"):
                return Reply(200, self.records(action.removeprefix("records/")))
            if action == "deliveries":
                return Reply(
                    200,
                    [
                        {"event": d.event, "url": d.url, "status": d.status, "at": d.at}
                        for d in self.webhooks.deliveries
                    ],
                )
            return Reply(404, {"error": f"unknown control resource {action!r}"})
        if request.method != "POST":
            return Reply(405, {"error": "use GET or POST"})
        if action == "reset":
            self.reset(body.get("seed"))
        elif action == "seed":
            self.seed(body)
        elif action == "rate_limit":
            self.limiter.configure(body.get("limit"), body.get("window"))
        elif action == "faults":
            self.faults.apply(dict(body))
        elif action == "webhooks":
            secret = str(body.get("secret") or "")
            self.webhooks.register(WebhookTarget(str(body["url"]), secret, tuple(body.get("events") or ())))
        elif action == "move":
            changed = self.move_application(
                str(body["application_id"]),
                stage_id=body.get("stage_id"),
                status=body.get("status"),
                reason=body.get("reason"),
            )
            return Reply(200, self.public(changed))
        elif action in ("edit", "delete"):
            person_id = str(body.get("person_id") or "")
            try:
                if action == "delete":
                    self.delete_person(person_id)
                else:
                    edits = {k: v for k, v in body.items() if k in PERSON_EDITS}
                    return Reply(200, self.public(self.edit_person(person_id, **edits)))
            except KeyError:
                return Reply(404, {"error": f"no person {person_id!r}"})
        else:
            return Reply(404, {"error": f"unknown control action {action!r}"})
        return Reply(200, self.state())
