"""Performance: cold and warm latency per market endpoint, the improvement warm over cold,
and concurrent bursts of clients against warm keys.

Cold samples: when the service lets the suite clear its cache (POST /cache/clear on
loopback or with the admin token, and --cold-mode is not `fresh-keys`), each cold sample
is a clear followed by the request. Otherwise a cold sample is the first request of a key
this run has not asked yet (other timeframes and symbols). Either way a sample the service
answered from its cache (meta.cache hit or stale) is not cold and is left out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from marketcache.check.client import Reply, ServiceClient
from marketcache.check.context import MARKET_ENDPOINTS, Check, Endpoint, RunContext, outcome
from marketcache.check.results import Category, LatencySummary, Status, TestResult
from marketcache.check.rubric import (
    COLD_P95_TARGET_MS,
    IMPROVEMENT_TARGET_PCT,
    WARM_P95_CRITICAL_MS,
    WARM_P95_TARGET_MS,
)
from marketcache.check.tests_cache import clear_cache

P = Category.PERFORMANCE
T = TypeVar("T")
NOT_COLD = frozenset({"hit", "stale"})


async def _cold(ctx: RunContext, endpoint: Endpoint) -> TestResult:
    name = f"cold latency {endpoint.path}"
    target = f"p95 < {COLD_P95_TARGET_MS:.0f} ms"
    replies: list[Reply] = []
    if ctx.clear_allowed:
        how = "cache cleared before each sample"
        for _ in range(ctx.config.cold_samples):
            if not await clear_cache(ctx):
                break
            replies.append(await ctx.market(endpoint, ctx.primary_symbol))
    else:
        keys = ctx.fresh_keys(endpoint, ctx.config.cold_samples)
        how = "first requests of unused keys: " + ", ".join(f"{s} {t}" for s, t in keys[:3])
        for symbol, frame in keys:
            replies.append(await ctx.market(endpoint, symbol, frame))
    failed = [r for r in replies if not r.ok]
    cold = [r.latency_ms for r in replies if r.ok and r.meta_cache not in NOT_COLD]
    skipped = len(replies) - len(failed) - len(cold)
    note = f"{how}; {skipped} answered from cache, left out" if skipped else how
    if failed:
        note += f"; {len(failed)} failed: {failed[0].describe()}"
    if not cold:
        return TestResult(
            name,
            P,
            Status.NA if not failed else Status.FAIL,
            "-",
            target,
            details="no cold sample could be taken; " + note,
        )
    summary = LatencySummary.of(cold)
    ctx.cold[endpoint.name] = summary
    return outcome(
        name,
        P,
        summary.p95 < COLD_P95_TARGET_MS and not failed,
        summary.describe(),
        target,
        details=note,
        data={"cold": summary.__dict__},
    )


async def _warm(ctx: RunContext, endpoint: Endpoint) -> TestResult:
    name = f"warm latency {endpoint.path}"
    target = f"p95 < {WARM_P95_TARGET_MS:.0f} ms"
    await ctx.market(endpoint, ctx.primary_symbol)
    replies = [await ctx.market(endpoint, ctx.primary_symbol) for _ in range(ctx.config.samples)]
    ok_replies = [r for r in replies if r.ok]
    failed = len(replies) - len(ok_replies)
    if not ok_replies:
        return outcome(
            name,
            P,
            False,
            "no answer",
            target,
            critical=True,
            details=replies[0].describe() if replies else "",
        )
    summary = LatencySummary.of([r.latency_ms for r in ok_replies])
    ctx.warm[endpoint.name] = summary
    modes = sorted({r.meta_cache or "?" for r in ok_replies})
    too_slow = ctx.cached and summary.p95 > WARM_P95_CRITICAL_MS
    details = f"meta.cache: {', '.join(modes)}"
    if failed:
        details += f"; {failed} of {len(replies)} failed"
    if too_slow:
        details += f"; p95 above {WARM_P95_CRITICAL_MS:.0f} ms (2× target) is critical"
    return outcome(
        name,
        P,
        summary.p95 < WARM_P95_TARGET_MS and not failed,
        summary.describe(),
        target,
        critical=too_slow,
        details=details,
        data={"warm": summary.__dict__},
    )


async def _improvement(ctx: RunContext, endpoint: Endpoint) -> TestResult:
    name = f"improvement warm over cold {endpoint.path}"
    target = f"≥ {IMPROVEMENT_TARGET_PCT:.0f} % (p50)"
    cold, warm = ctx.cold.get(endpoint.name), ctx.warm.get(endpoint.name)
    if cold is None or warm is None:
        return TestResult(
            name, P, Status.NA, "-", target, details="no cold or no warm latency was measured"
        )
    gain = 100.0 * (cold.p50 - warm.p50) / cold.p50 if cold.p50 > 0 else 0.0
    return outcome(
        name,
        P,
        gain >= IMPROVEMENT_TARGET_PCT,
        f"{gain:.1f} %",
        target,
        details=f"cold p50 {cold.p50:.1f} ms → warm p50 {warm.p50:.1f} ms "
        f"({cold.p50 / max(warm.p50, 1e-3):.1f}× faster)",
    )


async def _burst(ctx: RunContext, clients: int) -> TestResult:
    name = f"burst of {clients} concurrent clients"
    target = f"p95 < {WARM_P95_TARGET_MS:.0f} ms"
    cfg = ctx.config
    burst = ServiceClient(
        cfg.url, ledger=ctx.ledger, timeout_s=cfg.timeout_s, max_connections=clients
    )

    async def client(index: int) -> list[Reply]:
        out = []
        for step in range(cfg.burst_requests):
            endpoint = MARKET_ENDPOINTS[(index + step) % len(MARKET_ENDPOINTS)]
            symbol = cfg.symbols[index % len(cfg.symbols)]
            out.append(await burst.post(endpoint.path, endpoint.payload(symbol, cfg.timeframe)))
        return out

    for endpoint in MARKET_ENDPOINTS:  # the burst is about warm keys: make sure they are
        for symbol in cfg.symbols:
            await ctx.market(endpoint, symbol)
    loop = asyncio.get_running_loop()
    try:  # open every client's connection first: the burst times requests, not handshakes
        await asyncio.gather(*(burst.get("/health") for _ in range(clients)))
        started = loop.time()
        per_client = await asyncio.gather(*(client(i) for i in range(clients)))
        elapsed = loop.time() - started
    finally:
        await burst.aclose()
    replies = [r for batch in per_client for r in batch]
    ctx.burst_replies += replies
    good = [r.latency_ms for r in replies if r.ok]
    errors = len(replies) - len(good)
    summary = LatencySummary.of(good or [float("nan")])
    rate = len(replies) / elapsed if elapsed > 0 else 0.0
    ok = bool(good) and summary.p95 < WARM_P95_TARGET_MS
    return outcome(
        name,
        P,
        ok,
        summary.describe() if good else "no answer",
        target,
        details=f"{len(replies)} requests, {errors} errors, {rate:.0f} req/s "
        "(keep-alive connections opened before timing)",
        data={
            "clients": clients,
            "requests": len(replies),
            "errors": errors,
            "requests_per_s": rate,
            "latency": summary.__dict__,
        },
    )


def plan(ctx: RunContext) -> list[Check]:
    """Cold, warm and improvement per endpoint, then the bursts."""
    checks: list[Check] = []
    for endpoint in MARKET_ENDPOINTS:
        checks += [
            Check(f"cold latency {endpoint.path}", P, _bind(_cold, ctx, endpoint)),
            Check(f"warm latency {endpoint.path}", P, _bind(_warm, ctx, endpoint)),
            Check(
                f"improvement warm over cold {endpoint.path}", P, _bind(_improvement, ctx, endpoint)
            ),
        ]
    for clients in ctx.config.bursts:
        checks.append(
            Check(f"burst of {clients} concurrent clients", P, _bind(_burst, ctx, clients))
        )
    return checks


def _bind(
    fn: Callable[[RunContext, T], Awaitable[TestResult]], ctx: RunContext, arg: T
) -> Callable[[], Awaitable[TestResult]]:
    async def run() -> TestResult:
        return await fn(ctx, arg)

    return run
