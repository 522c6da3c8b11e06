"""The endpoints that change the cache: warm, clear, invalidate."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from marketcache.api import responses
from marketcache.api.admin import require_admin, require_token
from marketcache.api.openapi import ADMIN_ERRORS, error_responses, request_body
from marketcache.api.runtime import runtime
from marketcache.api.schemas import InvalidateRequest, OkResponse, WarmRequest
from marketcache.errors import InvalidParameter
from marketcache.params import parse_body

ADMIN_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": OkResponse},
    **error_responses(*ADMIN_ERRORS),
}

router = APIRouter(prefix="/cache", tags=["admin"])
ADMIN = [Depends(require_admin)]


@router.post(
    "/warm",
    summary="preload symbols and timeframes",
    openapi_extra=request_body(WarmRequest),
    responses=ADMIN_RESPONSES,
    dependencies=[Depends(require_token)],
)
async def warm(request: Request) -> Response:
    """Tickers, candles and the default answers for each symbol; an unknown one is not fatal."""
    body = parse_body(WarmRequest, await request.body())
    rt = runtime(request)
    before = len(rt.cache) if rt.cache is not None else 0
    started = time.perf_counter()
    results = await rt.market.warm(body.symbols, body.timeframes)
    after = len(rt.cache) if rt.cache is not None else 0
    return responses.ok(
        {
            "cache_enabled": rt.cache is not None,
            "results": results,
            "warmed": sum(1 for r in results.values() if r["status"] == "warmed"),
            "failed": sum(1 for r in results.values() if r["status"] != "warmed"),
            "entries_before": before,
            "entries_after": after,
            "entries_added": after - before,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        }
    )


@router.post("/clear", summary="drop every entry", responses=ADMIN_RESPONSES, dependencies=ADMIN)
async def clear(request: Request) -> Response:
    """Empty the cache."""
    cache = runtime(request).cache
    removed = cache.clear() if cache is not None else 0
    return responses.ok({"removed": removed})


@router.post(
    "/invalidate",
    summary="drop the entries of a symbol or under a key prefix",
    openapi_extra=request_body(InvalidateRequest),
    responses=ADMIN_RESPONSES,
    dependencies=ADMIN,
)
async def invalidate(request: Request) -> Response:
    """`{"symbol": "BTC/USDT"}` or `{"prefix": "answer:cvd:"}`."""
    body = parse_body(InvalidateRequest, await request.body())
    if (body.prefix is None) == (body.symbol is None):
        raise InvalidParameter("body", "give exactly one of 'prefix' or 'symbol'")
    rt = runtime(request)
    if body.symbol is not None:
        removed = await rt.market.invalidate_symbol(body.symbol)
        return responses.ok({"symbol": rt.source.normalize_symbol(body.symbol), "removed": removed})
    assert body.prefix is not None
    removed = rt.cache.invalidate_prefix(body.prefix) if rt.cache is not None else 0
    return responses.ok({"prefix": body.prefix, "removed": removed})
