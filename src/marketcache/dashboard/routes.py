"""`/dashboard`: the live page, its assets, and the two small JSON documents only it needs.

`GET /dashboard/markets` lists the hottest markets (see `markets.py`);
`GET /dashboard/limits` gives the thresholds and limits the page draws, taken
from where the service declares them (the alert rules, the checklist's latency
target, the settings), so the page hard-codes none. Everything else the page
shows it reads from the public endpoints, exactly as any client would.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response

from marketcache.api import responses
from marketcache.api.openapi import error_responses, query_parameter
from marketcache.api.runtime import Runtime, runtime
from marketcache.api.schemas import OkResponse
from marketcache.dashboard import markets
from marketcache.dashboard.assets import ASSETS, PAGE, Asset
from marketcache.monitoring.alerts import AlertRules
from marketcache.monitoring.monitor import WINDOW_S
from marketcache.params import query_int
from marketcache.targets import WARM_P95_TARGET_MS

router = APIRouter(tags=["dashboard"])

# The page loads nothing from elsewhere, and the browser is told to refuse it if it tried.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


def _serve(request: Request, asset: Asset, headers: dict[str, str] | None = None) -> Response:
    """The file, or 304 when the browser holds this very version (revalidated every load)."""
    common = {
        "Cache-Control": "no-cache",
        "ETag": asset.etag,
        "X-Content-Type-Options": "nosniff",
        **(headers or {}),
    }
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=common)
    return Response(asset.body, media_type=asset.media_type, headers=common)


_TEXT = {"schema": {"type": "string"}}
_NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "If-None-Match matched the ETag"}
}


@router.get(
    "/dashboard",
    summary="the live dashboard page",
    responses={200: {"content": {"text/html": _TEXT}, "description": "the page"}, **_NOT_MODIFIED},
)
async def page(request: Request) -> Response:
    """The HTML page; it polls the JSON endpoints and draws them."""
    return _serve(request, PAGE, {"Content-Security-Policy": CSP})


@router.get(
    "/dashboard/assets/{name}",
    summary="a script or style of the dashboard",
    responses={
        200: {"content": {"text/javascript": _TEXT, "text/css": _TEXT}, "description": "it"},
        **_NOT_MODIFIED,
        **error_responses(404),
    },
)
async def asset(request: Request, name: str) -> Response:
    """One of the files shipped with the package (no other file is reachable)."""
    found = ASSETS.get(name)
    if found is None:
        raise HTTPException(404)
    return _serve(request, found)


@router.get(
    "/dashboard/markets",
    summary="the hottest markets: price, data age, cache status",
    openapi_extra=query_parameter(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": markets.MAX_LIMIT},
        "how many markets",
    ),
    responses={200: {"model": OkResponse}, **error_responses(422)},
)
async def hottest_markets(request: Request) -> Response:
    """The markets with the most answers since start, with what the cache holds for each."""
    limit = query_int(
        request.query_params.get("limit"), "limit", 1, markets.MAX_LIMIT, markets.DEFAULT_LIMIT
    )
    rt = runtime(request)
    tallies = rt.monitor.recorder.symbols if rt.monitor is not None else {}
    merged = markets.merge_tallies(tallies, rt.source.normalize_symbol)
    entries = rt.cache.store.entries if rt.cache is not None else None
    rows = markets.hottest(merged, entries, rt.market.exchange, rt.clock.now(), limit)
    return responses.ok(
        {
            "markets": [row.to_dict() for row in rows],
            "tracked": len(merged),
            "limit": limit,
        }
    )


def _memory_limit(rt: Runtime) -> dict[str, Any]:
    """The process's memory limit the memory alerts read (cgroup, else MEMORY_LIMIT_MB)."""
    if rt.monitor is None:
        return {"limit_mb": None, "source": None}
    limit = rt.monitor.memory_limit()
    return {"limit_mb": round(limit.mb, 2), "source": limit.source}


def limits_document(request: Request) -> dict[str, Any]:
    """The thresholds and limits of this service, in the units its endpoints report."""
    rt = runtime(request)
    rules = rt.monitor.rules if rt.monitor is not None else AlertRules()
    settings = rt.settings
    return {
        "thresholds": {
            "hit_rate_percent": {
                "warning": round(rules.hit_rate_warning * 100, 2),
                "critical": round(rules.hit_rate_critical * 100, 2),
            },
            "memory_percent": {
                "warning": round(rules.memory_warning * 100, 2),
                "critical": round(rules.memory_critical * 100, 2),
            },
            "error_rate_percent": {"critical": round(rules.error_rate_critical * 100, 2)},
            "p95_ms": {"target": WARM_P95_TARGET_MS},
        },
        "evidence": {
            "min_market_requests": rules.min_market_requests,
            "min_requests": rules.min_requests,
            "window_s": rt.monitor.window_s if rt.monitor is not None else WINDOW_S,
        },
        "memory": _memory_limit(rt),
        "cache": {
            "enabled": rt.cache is not None,
            "max_bytes": settings.cache_max_bytes if rt.cache is not None else 0,
        },
        "exchange": {
            "id": rt.source.exchange_id,
            "source": rt.source.source_name,
            "weight_limit_per_minute": settings.exchange_weight_limit,
            "budget_pause_at_percent": round(settings.budget_pause_at * 100, 2),
        },
        "admin": {"token_required": bool(settings.admin_token)},
    }


@router.get(
    "/dashboard/limits",
    summary="the thresholds and limits the dashboard draws",
    responses={200: {"model": OkResponse}},
)
async def limits(request: Request) -> Response:
    """Alert thresholds (percent), the p95 target, the cache bound, the exchange's budget."""
    return responses.ok(limits_document(request))
