"""`GET /health` and `GET /cache/stats`: the checklist's shapes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from marketcache import __version__
from marketcache.answer import iso
from marketcache.api import responses
from marketcache.api.runtime import Runtime, runtime
from marketcache.api.schemas import Document, OkResponse
from marketcache.cache.budget import RateBudget
from marketcache.cache.stats import SUMMARY, CacheStats, public_stats
from marketcache.monitoring.serving import ServingHealth, servable_entries, serving_health
from marketcache.subscriptions.stats import FIGURES as SUBSCRIPTION_FIGURES
from marketcache.subscriptions.stats import SubscriptionStats

router = APIRouter(tags=["health"])

HEALTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": Document, "description": "healthy, or degraded (serving from the cache)"},
    503: {
        "model": Document,
        "description": "unhealthy: the exchange is unreachable and nothing servable is cached",
    },
}


def cache_stats(rt: Runtime) -> dict[str, Any]:
    """The cache counters as `/cache/stats` shows them; all zero without a cache."""
    return public_stats(rt.cache.stats if rt.cache is not None else CacheStats())


def level_stats(rt: Runtime) -> dict[str, Any]:
    """L1 and L2 apart: hits of each, L2's state (Redis), latency, replica coordination."""
    if rt.cache is None:
        return {"l1": None, "l2": {"enabled": False, "state": "off"}}
    stats = rt.cache.stats
    l1 = {
        "hits": stats.hits - stats.backend_hits,
        "stale_hits": stats.stale_hits,
        "entries": stats.entries,
        "bytes": stats.bytes,
    }
    l2: dict[str, Any] = rt.cache.backend_state()
    if l2["enabled"]:
        l2.update(
            hits=stats.backend_hits,
            errors=stats.backend_errors,
            lease_waits=stats.lease_waits,
            lease_takeovers=stats.lease_takeovers,
            lease_skips=stats.lease_skips,
            remote_loads=stats.remote_loads,
            fanout_updates=stats.fanout_updates,
            fanout_drops=stats.fanout_drops,
        )
        if l2["down_since"] is not None:
            l2["down_since"] = iso(l2["down_since"])
    return {"l1": l1, "l2": l2}


def upstream_stats(rt: Runtime, budget: RateBudget | None) -> dict[str, Any]:
    """Calls made to the exchange, per operation, with their request weight; the rate
    budget (this minute's weight against the limit, each client's cold loads)."""
    stats = rt.source.stats
    return {
        "calls": stats.total_calls,
        "weight": stats.total_weight,
        "errors": stats.total_errors,
        "operations": {
            name: {"calls": c.calls, "errors": c.errors, "weight": c.weight}
            for name, c in sorted(stats.operations.items())
        },
        "rate_budget": None if budget is None else budget.to_dict(),
    }


def serving(rt: Runtime, reachable: bool, *, count: bool = False) -> ServingHealth:
    """The service's status (see monitoring/serving.py), from the monitor when there is one."""
    if rt.monitor is not None:
        return rt.monitor.serving(reachable=reachable, count=count)
    counted = count or not reachable
    return serving_health(
        reachable=reachable,
        failing=False,
        cache_enabled=rt.cache is not None,
        servable=servable_entries(rt.cache, rt.clock.now()) if counted else None,
    )


def client_hit_rate(rt: Runtime) -> float:
    """The clients' hit rate in percent (market requests answered from the cache)."""
    if rt.monitor is None or rt.cache is None:
        return 0.0
    rate, _basis = rt.monitor.client_hit_rate()
    return round(rate * 100, 2)


@router.get(
    "/health",
    summary="liveness, the cache at a glance, and the exchange's reachability",
    responses=HEALTH_RESPONSES,
)
async def health(request: Request) -> Response:
    """healthy; degraded: the exchange is down or failing, the cache serves; unhealthy: neither."""
    rt = runtime(request)
    reachable = await rt.reachability.check()
    state = serving(rt, reachable)
    stats = cache_stats(rt)
    document = {
        "status": state.status,
        "reasons": state.reasons,
        "service": "market-data" if rt.cache is None else "cached-market-data",
        "version": __version__,
        "cache_enabled": rt.cache is not None,
        "cache_stats": {
            **{name: stats[name] for name in SUMMARY},
            "hit_rate": client_hit_rate(rt),  # as clients see it, not lookups
        },
        "exchange": {
            "id": rt.source.exchange_id,
            "source": rt.source.source_name,
            "reachable": reachable,
        },
    }
    levels = level_stats(rt)
    if levels["l2"]["enabled"]:  # with Redis only: L1 alone keeps the checklist's exact shape
        document["cache_levels"] = _levels_brief(levels)
    return responses.plain(document, state.http_status)


@router.head(
    "/health",
    summary="the status of GET /health without its body",
    responses=HEALTH_RESPONSES,
)
async def health_head(request: Request) -> Response:
    """200 while the service can answer, 503 when it cannot."""
    return await health(request)


@router.get(
    "/cache/stats", summary="cache and upstream counters", responses={200: {"model": OkResponse}}
)
async def stats(request: Request) -> Response:
    """Hit rate (percent), entries, memory, hits, misses, evictions and the rest."""
    rt = runtime(request)
    streams = rt.market.streams
    return responses.ok(
        {
            "cache_enabled": rt.cache is not None,
            "cache_stats": cache_stats(rt),
            "cache_levels": level_stats(rt),
            "upstream": upstream_stats(rt, _budget(request)),
            "streams": {"enabled": False} if streams is None else streams.state(),
            "subscriptions": subscription_figures(rt),
        }
    )


def subscription_figures(rt: Runtime) -> dict[str, Any]:
    """Whether subscriptions are served, and their figures (all zero when not)."""
    figures = rt.hub.stats() if rt.hub is not None else SubscriptionStats()
    shown = {f.name: getattr(figures, f.name) for f in SUBSCRIPTION_FIGURES if "stats" in f.views}
    return {"enabled": rt.hub is not None, **shown}


def _budget(request: Request) -> RateBudget | None:
    budget: RateBudget | None = getattr(request.app.state, "budget", None)
    return budget


def _levels_brief(levels: dict[str, Any]) -> dict[str, Any]:
    """/health's short view: L1 hits and entries, L2 state and hits."""
    l1, l2 = levels["l1"], levels["l2"]
    brief_l2 = {"enabled": l2["enabled"], "state": l2["state"]}
    if l2["enabled"]:
        brief_l2["hits"] = l2["hits"]
        brief_l2["get_p99_ms"] = l2["get_latency_ms"]["p99"]
    brief_l1 = None if l1 is None else {"hits": l1["hits"], "entries": l1["entries"]}
    return {"l1": brief_l1, "l2": brief_l2}
