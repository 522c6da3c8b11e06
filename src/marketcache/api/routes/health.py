"""`GET /health` and `GET /cache/stats`: the checklist's shapes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from marketcache import __version__
from marketcache.api import responses
from marketcache.api.runtime import Runtime, runtime

router = APIRouter(tags=["health"])

MB = 1024 * 1024


def cache_stats(rt: Runtime) -> dict[str, Any]:
    """The cache counters as `/cache/stats` shows them; all zero without a cache."""
    if rt.cache is None:
        return {
            "hit_rate": 0.0,
            "entries": 0,
            "memory_mb": 0.0,
            "hits": 0,
            "misses": 0,
            "evictions": 0,
            "stale_hits": 0,
            "coalesced": 0,
            "lookups": 0,
            "loads": 0,
            "load_errors": 0,
            "refreshes": 0,
            "expirations": 0,
            "bytes": 0,
            "max_bytes": 0,
            "memory_usage_percent": 0.0,
        }
    stats = rt.cache.stats
    return {
        "hit_rate": round(stats.hit_rate * 100, 2),
        "entries": stats.entries,
        "memory_mb": round(stats.bytes / MB, 3),
        "hits": stats.hits,
        "misses": stats.misses,
        "evictions": stats.evictions,
        "stale_hits": stats.stale_hits,
        "coalesced": stats.coalesced,
        "lookups": stats.lookups,
        "loads": stats.loads,
        "load_errors": stats.load_errors,
        "refreshes": stats.refreshes,
        "expirations": stats.expirations,
        "bytes": stats.bytes,
        "max_bytes": stats.max_bytes,
        "memory_usage_percent": round(stats.used_fraction * 100, 2),
    }


def upstream_stats(rt: Runtime) -> dict[str, Any]:
    """Calls made to the exchange, per operation, with their request weight."""
    stats = rt.source.stats
    return {
        "calls": stats.total_calls,
        "weight": stats.total_weight,
        "errors": stats.total_errors,
        "operations": {
            name: {"calls": c.calls, "errors": c.errors, "weight": c.weight}
            for name, c in sorted(stats.operations.items())
        },
    }


@router.get("/health", summary="liveness, the cache at a glance, and the exchange's reachability")
async def health(request: Request) -> Response:
    """healthy: exchange answers; degraded: it does not, the cache serves; unhealthy: neither."""
    rt = runtime(request)
    reachable = await rt.reachability.check()
    if reachable:
        status = "healthy"
    elif rt.cache is not None:
        status = "degraded"
    else:
        status = "unhealthy"
    stats = cache_stats(rt)
    document = {
        "status": status,
        "service": "market-data" if rt.cache is None else "cached-market-data",
        "version": __version__,
        "cache_enabled": rt.cache is not None,
        "cache_stats": {
            "hit_rate": stats["hit_rate"],
            "entries": stats["entries"],
            "memory_mb": stats["memory_mb"],
        },
        "exchange": {
            "id": rt.source.exchange_id,
            "source": rt.source.source_name,
            "reachable": reachable,
        },
    }
    return responses.plain(document, 503 if status == "unhealthy" else 200)


@router.get("/cache/stats", summary="cache and upstream counters")
async def stats(request: Request) -> Response:
    """Hit rate (percent), entries, memory, hits, misses, evictions and the rest."""
    rt = runtime(request)
    return responses.ok(
        {
            "cache_enabled": rt.cache is not None,
            "cache_stats": cache_stats(rt),
            "upstream": upstream_stats(rt),
        }
    )
