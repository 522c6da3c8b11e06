"""Cache behaviour: a repeat is a hit, warming adds entries that then hit, and the stats
and health endpoints agree with what the suite itself did."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from marketcache.check import shapes
from marketcache.check.context import (
    COLD_TIMEFRAMES,
    MARKET_ENDPOINTS,
    Check,
    RunContext,
    not_applicable,
    outcome,
)
from marketcache.check.results import Category, TestResult
from marketcache.check.rubric import HIT_RATE_TARGET_PCT

C = Category.CACHE
SERVED_FROM_CACHE = frozenset({"hit", "stale"})
MAX_WINDOW_REQUESTS = 24


async def stats(ctx: RunContext) -> dict[str, Any] | None:
    """The `cache_stats` object of GET /cache/stats, or None when unavailable."""
    reply = await ctx.client.get("/cache/stats")
    if reply.status != 200 or shapes.problems(reply.body, shapes.STATS):
        return None
    found: dict[str, Any] = reply.body["data"]["cache_stats"]
    return found


async def clear_cache(ctx: RunContext) -> bool:
    """POST /cache/clear; whether the service allowed it."""
    reply = await ctx.client.post("/cache/clear", {}, admin=True)
    return reply.ok


async def _enabled(ctx: RunContext) -> TestResult:
    name = "cache enabled"
    health = ctx.health
    measured = f"cache_enabled={health.get('cache_enabled')!r}, service={health.get('service')!r}"
    return outcome(name, C, ctx.cached, measured, "cache_enabled true", details=ctx.uncached_reason)


async def _repeat_is_hit(ctx: RunContext) -> TestResult:
    name = "a repeated request is a hit"
    seen: list[str] = []
    for endpoint in MARKET_ENDPOINTS:
        await ctx.market(endpoint, ctx.primary_symbol)
        reply = await ctx.market(endpoint, ctx.primary_symbol)
        seen.append(f"{endpoint.name}={reply.meta_cache or reply.status}")
    hits = sum(1 for s in seen if s.split("=")[1] in SERVED_FROM_CACHE)
    return outcome(
        name,
        C,
        hits == len(seen),
        f"{hits}/{len(seen)} hits",
        "meta.cache hit on the 2nd request",
        critical=True,
        details=", ".join(seen),
    )


def _warm_timeframe(ctx: RunContext) -> str:
    if ctx.clear_allowed:
        return ctx.config.timeframe
    unused = [
        tf
        for tf in COLD_TIMEFRAMES
        if all((s, tf) not in ctx.used_pairs for s in ctx.config.symbols)
    ]
    return unused[-1] if unused else ctx.config.timeframe


class _Warmed:
    """The timeframe the warm-up test warmed, for the test that follows it."""

    timeframe: str | None = None


async def _warming(ctx: RunContext, warmed: _Warmed) -> TestResult:
    name = "warming raises the entry count"
    target = "200, every symbol warmed, entries increase"
    if ctx.clear_allowed and not await clear_cache(ctx):
        ctx.clear_allowed = False
    frame = _warm_timeframe(ctx)
    before = await stats(ctx)
    symbols = list(ctx.config.symbols)
    reply = await ctx.client.post(
        "/cache/warm", {"symbols": symbols, "timeframes": [frame]}, admin=True
    )
    if reply.status in (401, 403):
        return not_applicable(
            name, C, target, f"/cache/warm refused ({reply.status}): pass --admin-token"
        )
    after = await stats(ctx)
    for symbol in symbols:
        ctx.used_pairs.add((symbol, frame))
    found = [reply.describe()] if reply.status != 200 else shapes.problems(reply.body, shapes.WARM)
    if not found:
        results = reply.body["data"]["results"]
        found += [
            f"{s}: {results.get(s)!r:.60}"
            for s in symbols
            if not isinstance(results.get(s), dict) or results[s].get("status") != "warmed"
        ]
    if before is None or after is None:
        found.append("GET /cache/stats unavailable")
        return outcome(name, C, False, "-", target, details="; ".join(found))
    added = after["entries"] - before["entries"]
    if added <= 0:
        found.append(
            f"entries {before['entries']} → {after['entries']}"
            + ("" if ctx.clear_allowed else " (maybe warm from an earlier run)")
        )
    if not found:
        warmed.timeframe = frame
    return outcome(
        name,
        C,
        not found,
        f"entries {before['entries']} → {after['entries']}",
        target,
        details=f"timeframe {frame}; " + "; ".join(found[:3]),
    )


async def _warmed_hits(ctx: RunContext, warmed: _Warmed) -> TestResult:
    name = "warmed symbols answer from the cache"
    target = "every warmed symbol a hit"
    if warmed.timeframe is None:
        return not_applicable(name, C, target, "warming did not complete")
    seen = []
    for symbol in ctx.config.symbols:
        reply = await ctx.market(MARKET_ENDPOINTS[1], symbol, warmed.timeframe)
        seen.append(f"{symbol}={reply.meta_cache or reply.status}")
    hits = sum(1 for s in seen if s.split("=")[1] in SERVED_FROM_CACHE)
    return outcome(
        name,
        C,
        hits == len(seen),
        f"{hits}/{len(seen)} hits",
        target,
        details=f"comprehensive_analysis {warmed.timeframe}: " + ", ".join(seen),
    )


class _Window:
    """The stats before and after a window of the suite's own warm requests."""

    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    requests = 0
    hits_seen = 0


async def _hit_rate(ctx: RunContext, window: _Window) -> TestResult:
    name = "hit rate after warm-up"
    target = f"≥ {HIT_RATE_TARGET_PCT:.0f} % of lookups"
    window.before = await stats(ctx)
    requests = min(MAX_WINDOW_REQUESTS, 2 * len(MARKET_ENDPOINTS) * len(ctx.config.symbols))
    for i in range(requests):
        endpoint = MARKET_ENDPOINTS[i % len(MARKET_ENDPOINTS)]
        symbol = ctx.config.symbols[(i // len(MARKET_ENDPOINTS)) % len(ctx.config.symbols)]
        reply = await ctx.market(endpoint, symbol)
        window.requests += 1
        window.hits_seen += reply.meta_cache == "hit"
    window.after = await stats(ctx)
    if window.before is None or window.after is None:
        return outcome(name, C, False, "-", target, details="GET /cache/stats unavailable")
    delta = _delta(window.before, window.after)
    lookups = delta["hits"] + delta["misses"]
    rate = 100.0 * delta["hits"] / lookups if lookups else 0.0
    return outcome(
        name,
        C,
        rate >= HIT_RATE_TARGET_PCT,
        f"{rate:.1f} %",
        target,
        details=f"{delta['hits']} hits, {delta['misses']} misses over "
        f"{window.requests} requests (stats delta)",
    )


def _delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    return {
        k: int(after.get(k, 0)) - int(before.get(k, 0))
        for k in ("hits", "misses", "stale_hits", "coalesced", "lookups")
    }


async def _stats_agree(ctx: RunContext, window: _Window) -> TestResult:
    name = "stats count the suite's own requests"
    target = "Δlookups ≥ requests sent; Δhits ≥ hits seen"
    if window.before is None or window.after is None:
        return outcome(name, C, False, "-", target, details="GET /cache/stats unavailable")
    delta = _delta(window.before, window.after)
    counted = delta["lookups"] or (delta["hits"] + delta["misses"] + delta["stale_hits"])
    ok = counted >= window.requests and delta["hits"] >= window.hits_seen
    return outcome(
        name,
        C,
        ok,
        f"Δlookups {counted}, Δhits {delta['hits']}",
        target,
        details=f"the suite sent {window.requests} and saw {window.hits_seen} hits",
    )


async def _client_hit_rate(ctx: RunContext) -> float | None:
    """/cache/health's hit rate when it is the clients' (as /health's is), else None."""
    reply = await ctx.client.get("/cache/health")
    body = reply.body if isinstance(reply.body, dict) else {}
    metrics = body.get("metrics")
    if not isinstance(metrics, dict):
        return None
    rate, basis = metrics.get("hit_rate"), metrics.get("hit_rate_basis")
    if isinstance(basis, str) and basis.startswith("client") and isinstance(rate, int | float):
        return float(rate)
    return None


async def _health_agrees(ctx: RunContext) -> TestResult:
    name = "/health agrees with /cache/stats"
    target = "same entries, hit rate and memory (small tolerance)"
    health = await ctx.client.get("/health")
    now = await stats(ctx)
    if health.status != 200 or now is None or shapes.problems(health.body, shapes.HEALTH):
        return outcome(name, C, False, "-", target, details="an endpoint is unavailable")
    # a service whose /health shows the clients' hit rate is compared with /cache/health's
    client = await _client_hit_rate(ctx)
    expected_hit_rate = client if client is not None else now["hit_rate"]
    mine = health.body["cache_stats"]
    found = []
    if abs(mine["entries"] - now["entries"]) > max(2, 0.05 * now["entries"]):
        found.append(f"entries {mine['entries']} vs {now['entries']}")
    if abs(mine["hit_rate"] - expected_hit_rate) > 1.0:
        found.append(f"hit_rate {mine['hit_rate']} vs {expected_hit_rate}")
    if abs(mine["memory_mb"] - now["memory_mb"]) > max(1.0, 0.1 * now["memory_mb"]):
        found.append(f"memory_mb {mine['memory_mb']} vs {now['memory_mb']}")
    return outcome(
        name,
        C,
        not found,
        f"entries {mine['entries']}/{now['entries']}, hit rate "
        f"{mine['hit_rate']}/{expected_hit_rate}",
        target,
        details="; ".join(found),
    )


def plan(ctx: RunContext) -> list[Check]:
    """The cache-behaviour tests; all but the first are n/a against an uncached service."""
    warmed, window = _Warmed(), _Window()
    tests: list[tuple[str, Callable[[], Awaitable[TestResult]], bool]] = [
        ("a repeated request is a hit", lambda: _repeat_is_hit(ctx), True),
        ("warming raises the entry count", lambda: _warming(ctx, warmed), False),
        ("warmed symbols answer from the cache", lambda: _warmed_hits(ctx, warmed), False),
        ("hit rate after warm-up", lambda: _hit_rate(ctx, window), False),
        ("stats count the suite's own requests", lambda: _stats_agree(ctx, window), False),
        ("/health agrees with /cache/stats", lambda: _health_agrees(ctx), False),
    ]
    checks = [Check("cache enabled", C, lambda: _enabled(ctx))]
    for name, run, critical in tests:
        checks.append(Check(name, C, run if ctx.cached else _na(name, ctx), critical))
    return checks


def _na(name: str, ctx: RunContext) -> Callable[[], Awaitable[TestResult]]:
    async def run() -> TestResult:
        return not_applicable(name, C, "-", f"the service is uncached ({ctx.uncached_reason})")

    return run
