"""The OpenAPI 3.1 document of the ingest API, generated from its routes and pydantic models."""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from pydantic.json_schema import models_json_schema

from bot.api.http import Route
from bot.api.schemas import ErrorOut

_REF = "#/components/schemas/{model}"


def build_openapi(routes: Sequence[Route], *, prefix: str, version: str = "1") -> dict[str, Any]:
    """Return the OpenAPI document describing `routes` served under `prefix`."""
    models = {m for r in routes for m in (r.body, r.response) if m is not None} | {ErrorOut}
    keys = sorted(models, key=lambda m: m.__name__)
    # Inputs are described as they are validated, answers as they are serialised.
    mode = {m: "validation" if any(r.body is m for r in routes) else "serialization" for m in keys}
    refs, schema = models_json_schema([(m, mode[m]) for m in keys], ref_template=_REF)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        operation: dict[str, Any] = {
            "operationId": route.handler.__name__,
            "summary": route.summary,
            "description": (route.handler.__doc__ or "").strip(),
            "responses": {"200": _content("OK", refs[(route.response, mode[route.response])]["$ref"])}
            if route.response
            else {"200": {"description": "OK"}},
        }
        parameters = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "string", "maxLength": 128},
                "description": "The sourcing platform's own id.",
            }
            for name in route.params
        ]
        if route.query is not None:
            query_schema = route.query.model_json_schema()
            for name, prop in query_schema["properties"].items():
                description = prop.pop("description", "")
                prop.pop("title", None)
                parameters.append(
                    {
                        "name": name,
                        "in": "query",
                        "required": name in query_schema.get("required", ()),
                        "schema": prop,
                        "description": description,
                    }
                )
        if parameters:
            operation["parameters"] = parameters
        if route.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[(route.body, mode[route.body])]}},
            }
        error_ref = refs[(ErrorOut, mode[ErrorOut])]["$ref"]
        for status in sorted({*route.errors, *((401, 429) if route.auth else ())}):
            operation["responses"][str(status)] = _content(HTTPStatus(status).phrase, error_ref)
        if route.auth:
            operation["responses"]["429"]["headers"] = {
                "Retry-After": {
                    "description": "Seconds until the token may send again (SCALEUP_API_RATE_LIMIT).",
                    "schema": {"type": "integer"},
                }
            }
        if route.body is not None:
            operation["responses"].setdefault("400", _content("Bad Request", error_ref))
        if route.auth:
            operation["security"] = [{"bearer": []}]
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ScaleUp ATS Export — ingest API",
            "version": version,
            "description": (
                "Push searches, candidates, campaign responses and email updates. Authenticate with a "
                "workspace's token (`scaleup tokens create --team T`) as `Authorization: Bearer <token>`. "
                "Every id is the sourcing platform's own; writes are idempotent on them. Bodies are strict "
                "JSON (no NaN or Infinity, no key twice in an object: 400). Each token may send "
                "SCALEUP_API_RATE_LIMIT requests (600 per 60 s by default); past it the answer is 429 with "
                "Retry-After."
            ),
        },
        "servers": [{"url": prefix}],
        "paths": paths,
        "components": {
            "schemas": schema.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _content(description: str, ref: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ref}}}}
