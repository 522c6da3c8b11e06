"""OpenAPI pieces the routes declare: request bodies, query parameters, error answers.

The routes read their bodies by hand (bounded, strict, our error messages), so
FastAPI cannot see them; these helpers put the same pydantic models into
`/openapi.json`, so the document describes exactly what is validated.
"""

from __future__ import annotations

from typing import Any

from marketcache.api.schemas import ErrorResponse
from marketcache.params import Params

ERRORS: dict[int, str] = {
    400: "malformed JSON, or a timeframe the exchange does not have",
    401: "an admin endpoint without its token",
    403: "an admin endpoint with a wrong token, or from a client it does not answer",
    404: "unknown symbol (with close matches)",
    413: "body over 16 KiB",
    422: "a field missing, unknown, ill-typed or out of range",
    429: "the exchange's rate limit, and no stale copy (Retry-After)",
    503: "the exchange is unavailable or timing out, and no stale copy (Retry-After)",
}
MARKET_ERRORS = (400, 404, 413, 422, 429, 503)
ADMIN_ERRORS = (400, 401, 403, 404, 413, 422, 429, 503)


def request_body(model: type[Params]) -> dict[str, Any]:
    """`openapi_extra` declaring `model` as the JSON request body."""
    schema = model.model_json_schema()
    assert "$defs" not in schema, f"{model.__name__}: nested models need components"
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema}},
        }
    }


def query_parameter(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    """`openapi_extra` declaring one optional query parameter."""
    return {
        "parameters": [
            {
                "name": name,
                "in": "query",
                "required": False,
                "schema": schema,
                "description": description,
            }
        ]
    }


def query_parameters(model: type[Params]) -> dict[str, Any]:
    """`openapi_extra` declaring `model`'s fields as query parameters."""
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    return {
        "parameters": [
            {
                "name": name,
                "in": "query",
                "required": name in required,
                "schema": {k: v for k, v in prop.items() if k not in ("title", "description")},
                "description": prop.get("description", ""),
            }
            for name, prop in schema["properties"].items()
        ]
    }


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for the error answers a route can give."""
    return {status: {"model": ErrorResponse, "description": ERRORS[status]} for status in statuses}
