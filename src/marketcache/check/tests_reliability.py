"""Reliability: error rate under the bursts, no 5xx anywhere in the run, every request
answered, the service healthy afterwards, and memory bounded (RSS from /cache/health)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from marketcache.check import shapes
from marketcache.check.context import Check, RunContext, not_applicable, outcome
from marketcache.check.results import Category, TestResult
from marketcache.check.rubric import (
    ERROR_RATE_CRITICAL_PCT,
    ERROR_RATE_TARGET_PCT,
    HEALTH_HIT_RATE_TARGET_PCT,
    RSS_CRITICAL_MB,
    RSS_GROWTH_TARGET_MB,
    RSS_TARGET_MB,
)

R = Category.RELIABILITY


async def rss_mb(ctx: RunContext) -> float | None:
    """The service's resident memory from /cache/health metrics.rss_mb, if it reports it."""
    reply = await ctx.client.get("/cache/health")
    if reply.status != 200 or not isinstance(reply.body, dict):
        return None
    metrics = reply.body.get("metrics")
    value = metrics.get("rss_mb") if isinstance(metrics, dict) else None
    return float(value) if value is not None and shapes.number(value) else None


async def _error_rate(ctx: RunContext) -> TestResult:
    name = "error rate under the bursts"
    target = f"< {ERROR_RATE_TARGET_PCT:.0f} %"
    replies = ctx.burst_replies
    if not replies:
        return not_applicable(name, R, target, "no burst was run")
    errors = [r for r in replies if not r.ok]
    rate = 100.0 * len(errors) / len(replies)
    example = f"; e.g. {errors[0].describe()}" if errors else ""
    return outcome(
        name,
        R,
        rate < ERROR_RATE_TARGET_PCT,
        f"{rate:.2f} %",
        target,
        critical=rate > ERROR_RATE_CRITICAL_PCT,
        details=f"{len(errors)} of {len(replies)} requests failed{example}",
    )


async def _no_5xx(ctx: RunContext) -> TestResult:
    name = "no 5xx during the run"
    bad = ctx.ledger.server_errors()
    paths = sorted({f"{r.method} {r.path} → {r.status}" for r in bad})
    return outcome(
        name,
        R,
        not bad,
        f"{len(bad)} of {len(ctx.ledger.replies)}",
        "0",
        critical=bool(bad),
        details="; ".join(paths[:4]),
    )


async def _answered(ctx: RunContext) -> TestResult:
    name = "every request answered"
    lost = [r for r in ctx.ledger.replies if not r.answered]
    kinds = sorted({f"{r.method} {r.path}: {r.failure}" for r in lost})
    return outcome(
        name,
        R,
        not lost,
        f"{len(lost)} unanswered of {len(ctx.ledger.replies)}",
        f"0 (timeout {ctx.config.timeout_s:g} s)",
        details="; ".join(kinds[:4]),
    )


async def _healthy_after(ctx: RunContext) -> TestResult:
    name = "healthy after the run"
    reply = await ctx.client.get("/health")
    status = reply.body.get("status") if isinstance(reply.body, dict) else None
    critical = reply.status != 200 or status not in ("healthy", "degraded")
    return outcome(
        name,
        R,
        reply.status == 200 and status == "healthy",
        f"{reply.status} {status!r}",
        '200 "healthy"',
        critical=critical,
        details="" if reply.ok else reply.describe(),
    )


async def _memory(ctx: RunContext) -> tuple[float | None, float | None]:
    return ctx.rss_start_mb, await rss_mb(ctx)


async def _memory_growth(ctx: RunContext) -> TestResult:
    name = "memory growth across the run"
    target = f"< {RSS_GROWTH_TARGET_MB:.0f} MB"
    start, end = await _memory(ctx)
    if start is None or end is None:
        return not_applicable(name, R, target, "/cache/health reports no metrics.rss_mb")
    growth = end - start
    return outcome(
        name,
        R,
        growth < RSS_GROWTH_TARGET_MB,
        f"{growth:+.1f} MB",
        target,
        details=f"rss {start:.1f} → {end:.1f} MB",
    )


async def _memory_bound(ctx: RunContext) -> TestResult:
    name = "resident memory"
    target = f"< {RSS_TARGET_MB:.0f} MB"
    end = await rss_mb(ctx)
    if end is None:
        return not_applicable(name, R, target, "/cache/health reports no metrics.rss_mb")
    return outcome(
        name,
        R,
        end < RSS_TARGET_MB,
        f"{end:.1f} MB",
        target,
        critical=end > RSS_CRITICAL_MB,
        details=f"above {RSS_CRITICAL_MB:.0f} MB is critical (rollback trigger)",
    )


async def _cache_health(ctx: RunContext) -> TestResult:
    name = "cache health after the run"
    target = f'"healthy", hit rate > {HEALTH_HIT_RATE_TARGET_PCT:.0f} %, no active alerts'
    if not ctx.cached:
        return not_applicable(
            name, Category.CACHE, target, f"the service is uncached ({ctx.uncached_reason})"
        )
    reply = await ctx.client.get("/cache/health")
    found = (
        [reply.describe()]
        if reply.status != 200
        else shapes.problems(reply.body, shapes.CACHE_HEALTH)
    )
    if found:
        return outcome(name, Category.CACHE, False, "-", target, details="; ".join(found[:3]))
    body = reply.body
    hit_rate, alerts = body["metrics"]["hit_rate"], body["active_alerts"]
    ok = body["status"] == "healthy" and hit_rate > HEALTH_HIT_RATE_TARGET_PCT and alerts == 0
    names = [a.get("name") for a in body.get("alerts", []) if isinstance(a, dict)]
    return outcome(
        name,
        Category.CACHE,
        ok,
        f"{body['status']}, {hit_rate:.1f} %, {alerts} alert(s)",
        target,
        details=", ".join(str(n) for n in names[:4]),
    )


def plan(ctx: RunContext) -> list[Check]:
    """The checks that look back over the whole run; they run last."""
    tests: list[tuple[str, Category, Callable[[RunContext], Awaitable[TestResult]], bool]] = [
        ("error rate under the bursts", R, _error_rate, True),
        ("no 5xx during the run", R, _no_5xx, True),
        ("every request answered", R, _answered, False),
        ("healthy after the run", R, _healthy_after, True),
        ("memory growth across the run", R, _memory_growth, False),
        ("resident memory", R, _memory_bound, False),
        ("cache health after the run", Category.CACHE, _cache_health, False),
    ]
    return [Check(name, cat, _bind(fn, ctx), crit) for name, cat, fn, crit in tests]


def _bind(
    fn: Callable[[RunContext], Awaitable[TestResult]], ctx: RunContext
) -> Callable[[], Awaitable[TestResult]]:
    async def run() -> TestResult:
        return await fn(ctx)

    return run
