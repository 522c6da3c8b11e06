"""Response builders: JSON bytes out, with our envelope."""

from __future__ import annotations

import math
from typing import Any

import orjson
from starlette.responses import Response

from marketcache.errors import MarketCacheError

JSON = "application/json"


def json_bytes(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A response of already-serialized JSON."""
    return Response(content=body, status_code=status, media_type=JSON, headers=headers)


def ok(data: Any, status: int = 200) -> Response:
    """`{"success": true, "data": ...}`."""
    return json_bytes(orjson.dumps({"success": True, "data": data}), status)


def plain(document: Any, status: int = 200) -> Response:
    """A JSON document without our envelope (the checklist's shape for the health checks)."""
    return json_bytes(orjson.dumps(document), status)


def error(status: int, code: str, message: str, **extra: Any) -> Response:
    """`{"success": false, "error": {"code", "message", ...}}`."""
    body = {"success": False, "error": {"code": code, "message": message, **extra}}
    headers = None
    retry_after = extra.get("retry_after")
    if retry_after is not None:
        headers = {"Retry-After": str(max(1, math.ceil(float(retry_after))))}
    return json_bytes(orjson.dumps(body), status, headers)


def error_from(exc: MarketCacheError) -> Response:
    """The response for one of our errors, with Retry-After where it helps."""
    body = exc.to_body()
    return error(exc.status, body.pop("code"), body.pop("message"), **body)
