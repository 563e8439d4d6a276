"""The ingest API: a WSGI app answering `/api/v1/...`, authenticated with per-workspace bearer tokens.

`make_api(services, on_changed=...)` returns the app; `scaleup serve` mounts it next to Slack's endpoints.
It answers paths with the `/api/v1` prefix in PATH_INFO, and also paths whose prefix a dispatcher already
moved into SCRIPT_NAME. Bad input always gets a 4xx JSON error naming the field; only a bug gives a 500,
with a reference that is logged alongside the traceback.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ats.budgets import parse_rate
from bot.api.http import ApiError, Router, read_json, respond
from bot.api.openapi import build_openapi
from bot.api.routes import ROUTES, Call
from ingest.ingestor import Ingestor
from ingest.records import FieldProblem, describe
from ingest.results import IngestError, NotFound, OnChanged, notify
from storage.base import utcnow
from storage.db import unit_of_work
from storage.repositories import find_api_token
from storage.statistics import ImportStatistics

if TYPE_CHECKING:
    from bot.wiring import Services

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
OPENAPI_PATH = "/openapi.json"
#: How stale a token's last_used_at may get before a request writes it again.
_LAST_USED_GRANULARITY = timedelta(minutes=1)


#: Takes one request from an API token's budget: 0.0, or the seconds until the token may send again.
TokenBudget = Callable[[int], float]


class IngestApi:
    """The WSGI application of the ingest API.

    Args:
        sessions: the units of work requests run in.
        on_changed: gets (team_id, candidate ids) after each commit.
        token_budget: the per-token request budget (`make_api`: shared by every process); None: unlimited.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        on_changed: OnChanged | None = None,
        *,
        token_budget: TokenBudget | None = None,
    ) -> None:
        self.sessions = sessions
        self.on_changed = on_changed
        self.token_budget = token_budget
        self.router = Router(ROUTES)
        self.openapi = build_openapi(ROUTES, prefix=PREFIX)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            status, body, headers = self.handle(environ)
        except ApiError as exc:
            status, body, headers = exc.status, exc.body(), exc.headers
        except Exception:
            reference = uuid.uuid4().hex[:12]
            log.exception(
                "Ingest API error (reference %s) on %s %s",
                reference,
                environ.get("REQUEST_METHOD"),
                environ.get("PATH_INFO"),
            )
            status, headers = 500, {}
            body = ApiError(
                500, "internal_error", f"something went wrong on our side (reference {reference})"
            ).body()
        return respond(start_response, status, body, headers)

    def handle(self, environ: Mapping[str, Any]) -> tuple[int, Any, dict[str, str]]:
        """Answer one request; raise ApiError for every expected failure."""
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = _relative_path(environ)
        if method == "GET" and path == OPENAPI_PATH:
            return 200, self.openapi, {}
        route, params = self.router.match(method, path)
        token = _bearer(environ)
        for value in params.values():
            if len(value) > 128 or not value.isprintable():
                raise ApiError(404, "not_found", "there is no such record")
        try:
            with unit_of_work(self.sessions) as session:
                team_id, token_id = _authenticate(session, token)
                self._take_budget(token_id)
                body = _validated(route.body, read_json(environ), route.batch) if route.body else None
                query = _validated(route.query, _query(environ), None) if route.query else None
                ingestor = Ingestor(session, team_id)
                try:
                    result: BaseModel = route.handler(Call(ingestor, params, body, query))
                except IngestError as exc:
                    status, code = (404, "not_found") if isinstance(exc, NotFound) else (409, "conflict")
                    raise ApiError(
                        status,
                        code,
                        f"{exc.field}: {exc.message}",
                        fields=[FieldProblem(exc.field, exc.message)],
                    ) from None
                changed = ingestor.finish()
        except IntegrityError:
            # Another request stored the same record between our look-up and our write; nothing was kept.
            raise ApiError(
                409, "conflict", "a concurrent request wrote the same record; send this one again"
            ) from None
        except OperationalError:
            log.warning("Ingest API: database unavailable", exc_info=True)
            raise ApiError(
                503,
                "unavailable",
                "the database is unavailable; try again shortly",
                headers={"Retry-After": "5"},
            ) from None
        notify(self.on_changed, team_id, changed)
        return 200, result.model_dump(mode="json"), {}

    def _take_budget(self, token_id: int) -> None:
        """Refuse the request with 429 when the token has used up its budget (before the body is parsed)."""
        wait = self.token_budget(token_id) if self.token_budget is not None else 0.0
        if wait > 0:
            raise ApiError(
                429,
                "rate_limited",
                f"this token sent more requests than its budget allows; retry in {math.ceil(wait)} s",
                headers={"Retry-After": str(math.ceil(wait))},
            )


def make_api(services: Services, on_changed: OnChanged | None = None) -> IngestApi:
    """Return the ingest API's WSGI app; `on_changed` gets (team_id, candidate ids) after each commit.

    Each token's requests come out of one budget (`SCALEUP_API_RATE_LIMIT`) kept where the ATS budgets are
    (`ats.budgets.SharedBudgets`), so several `serve` processes share it.
    """
    rate = parse_rate(services.settings.api_rate_limit, name="SCALEUP_API_RATE_LIMIT")

    statistics = ImportStatistics(services.sessions)  # the planner follows the tables the batches grow

    def token_budget(token_id: int) -> float:
        return services.budgets.for_key(f"api_token_{int(token_id)}", rate).try_take()

    def changed(team_id: str, candidate_ids: Iterable[int]) -> None:
        ids = list(candidate_ids)
        statistics.grew(len(ids))
        notify(on_changed, team_id, ids)

    return IngestApi(services.sessions, on_changed=changed, token_budget=token_budget)


def _relative_path(environ: Mapping[str, Any]) -> str:
    # PATH_INFO is the request path decoded as latin-1 (PEP 3333); re-decode it as the UTF-8 it was.
    path = environ.get("PATH_INFO") or "/"
    try:
        path = path.encode("latin-1").decode("utf-8")
    except UnicodeError:
        raise ApiError(404, "not_found", "there is no such API endpoint") from None
    if path == PREFIX or path.startswith(PREFIX + "/"):
        path = path[len(PREFIX) :]
    return path.rstrip("/") or "/"


def _query(environ: Mapping[str, Any]) -> dict[str, str]:
    """Return the query string's parameters (one value each: a repeated one is refused)."""
    raw = environ.get("QUERY_STRING") or ""
    if len(raw) > 2048:
        raise ApiError(414, "query_too_long", "the query string is longer than 2,048 characters")
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, max_num_fields=20)
    except ValueError:
        raise ApiError(422, "validation_failed", "the query string has more than 20 parameters") from None
    values: dict[str, str] = {}
    for name, value in pairs:
        if name in values:
            problem = FieldProblem(name, "is given more than once")
            raise ApiError(422, "validation_failed", str(problem), fields=[problem])
        values[name] = value
    return values


def _bearer(environ: Mapping[str, Any]) -> str:
    header = environ.get("HTTP_AUTHORIZATION") or ""
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("send the workspace's API token as `Authorization: Bearer <token>`")
    return token.strip()


def _authenticate(session: Session, token: str) -> tuple[str, int]:
    """Return (workspace, token id) of a live token."""
    row = find_api_token(session, token)
    if row is None:
        raise _unauthorized("the API token is wrong or was revoked")
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > _LAST_USED_GRANULARITY:
        row.last_used_at = now
    return row.team_id, row.id


def _unauthorized(message: str) -> ApiError:
    return ApiError(
        401, "unauthorized", message, headers={"WWW-Authenticate": 'Bearer realm="scaleup-ingest"'}
    )


def _validated(model: type[BaseModel], data: Any, batch: tuple[str, int] | None) -> BaseModel:
    if batch is not None and isinstance(data, dict) and isinstance(data.get(batch[0]), list):
        name, most = batch
        if len(data[name]) > most:
            raise ApiError(
                413,
                "batch_too_large",
                f"a batch holds at most {most:,} {name}; this one has {len(data[name]):,} — split it",
            )
    if not isinstance(data, dict):
        raise ApiError(422, "validation_failed", "the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = describe(exc)
        raise ApiError(422, "validation_failed", _summary(problems), fields=problems) from None


#: Field problems spelled out in an error's message; `fields` lists every one.
MESSAGE_PROBLEMS = 10


def _summary(problems: list[FieldProblem]) -> str:
    """Return the first few problems as one line (a batch of 1,000 bad rows would repeat itself 1,000 times)."""
    shown = "; ".join(str(p) for p in problems[:MESSAGE_PROBLEMS])
    more = len(problems) - MESSAGE_PROBLEMS
    return f"{shown}; and {more:,} more (see `fields`)" if more > 0 else shown
