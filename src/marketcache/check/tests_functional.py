"""Functional tests: every endpoint answers with its documented shape, and bad input gets
the documented 4xx (never a 5xx)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from marketcache.check import shapes
from marketcache.check.client import Reply
from marketcache.check.context import (
    MARKET_ENDPOINTS,
    PRICE,
    Check,
    Endpoint,
    RunContext,
    not_applicable,
    outcome,
)
from marketcache.check.results import Category, TestResult

F = Category.FUNCTIONAL
TIMEFRAME_ENDPOINTS = tuple(e for e in MARKET_ENDPOINTS if e.uses_timeframe)
RANGED_ENDPOINTS = tuple(e for e in MARKET_ENDPOINTS if e.name in ("volume_spike", "cvd"))
BODY_LIMIT = 16 * 1024
SHAPE_TARGET = "200, documented shape"
TestFn = Callable[[RunContext], Awaitable[TestResult]]


def _measured(found: Sequence[str]) -> str:
    return "valid" if not found else f"{len(found)} problem(s)"


def _joined(found: Sequence[str], limit: int = 4) -> str:
    return "; ".join(found[:limit])


def _get_shape(name: str, path: str, shape: shapes.Shape, *, weight: float = 1.0) -> TestFn:
    critical = weight > 1

    async def run(ctx: RunContext) -> TestResult:
        reply = await ctx.client.get(path)
        found = [reply.describe()] if reply.status != 200 else shapes.problems(reply.body, shape)
        return outcome(
            name,
            F,
            not found,
            _measured(found),
            SHAPE_TARGET,
            critical=critical,
            details=_joined(found),
            weight=weight,
        )

    return run


async def _recommendations(ctx: RunContext) -> TestResult:
    reply = await ctx.client.get("/cache/recommendations")
    found = [reply.describe()] if reply.status != 200 else []
    if not found:
        found = shapes.problems(reply.body, shapes.RECOMMENDATIONS)
    if not found:
        for i, item in enumerate(reply.body["data"]["recommendations"]):
            found += shapes.problems(item, shapes.RECOMMENDATION, f"recommendations[{i}]")
    return outcome(
        "GET /cache/recommendations shape",
        F,
        not found,
        _measured(found),
        SHAPE_TARGET,
        details=_joined(found),
    )


async def _performance(ctx: RunContext) -> TestResult:
    reply = await ctx.client.get("/cache/performance", params={"hours": 1})
    found = [reply.describe()] if reply.status != 200 else []
    if not found:
        found = shapes.problems(reply.body, shapes.PERFORMANCE)
    bad = await ctx.client.get("/cache/performance", params={"hours": 0})
    found += shapes.error_problems(bad, 422, "validation_error")
    return outcome(
        "GET /cache/performance shape",
        F,
        not found,
        _measured(found),
        SHAPE_TARGET + "; hours=0 → 422",
        critical=bad.server_error,
        details=_joined(found),
    )


async def _metrics(ctx: RunContext) -> TestResult:
    reply = await ctx.client.get("/metrics")
    ok = reply.status == 200 and ("# TYPE" in reply.text or "# HELP" in reply.text)
    return outcome("GET /metrics", F, ok, reply.describe(), "200, Prometheus text")


def _market_shape(endpoint: Endpoint) -> TestFn:
    name = f"POST {endpoint.path} shape"

    async def run(ctx: RunContext) -> TestResult:
        found: list[str] = []
        bad_symbols = 0
        for symbol in ctx.config.symbols:
            reply = await ctx.market(endpoint, symbol)
            issues = shapes.market_problems(reply, endpoint.shape) or _series_problems(
                endpoint, reply
            )
            bad_symbols += bool(issues)
            found += [f"{symbol}: {issue}" for issue in issues[:2]]
        total = len(ctx.config.symbols)
        return outcome(
            name,
            F,
            not found,
            f"{total - bad_symbols}/{total} symbols valid",
            SHAPE_TARGET + ", X-Cache = meta.cache",
            critical=True,
            details=_joined(found),
            weight=2.0,
        )

    return run


def _series_problems(endpoint: Endpoint, reply: Reply) -> list[str]:
    """The first points of a CVD series must have time, delta and cvd."""
    if endpoint.name != "cvd":
        return []
    found: list[str] = []
    for i, point in enumerate(reply.data.get("series", [])[:3]):
        found += shapes.problems(point, shapes.CVD_POINT, f"data.series[{i}]")
    return found


async def _aliases(ctx: RunContext) -> TestResult:
    name = "symbol spellings resolve to one market"
    symbol = ctx.primary_symbol
    if "/" not in symbol:
        return not_applicable(name, F, "same data.symbol", f"{symbol} has no BASE/QUOTE form")
    base, quote = symbol.split("/", 1)
    spellings = [f"{base}{quote}".lower(), f"{base}-{quote}", symbol.lower()]
    found = []
    for spelling in spellings:
        reply = await ctx.client.post(PRICE.path, {"symbol": spelling})
        got = reply.data.get("symbol") if reply.ok and isinstance(reply.data, dict) else None
        if got != symbol:
            found.append(f"{spelling!r} → {reply.status} {got!r}")
    return outcome(
        name,
        F,
        not found,
        f"{len(spellings) - len(found)}/{len(spellings)} resolved",
        f"{', '.join(spellings)} → {symbol}",
        details=_joined(found),
    )


BadRequest = Callable[[RunContext, Endpoint], Awaitable[Reply]]


def _bad_input(
    name: str,
    status: int,
    code: str,
    send: BadRequest,
    endpoints: Sequence[Endpoint] = MARKET_ENDPOINTS,
) -> TestFn:
    """Send one kind of bad input to each endpoint; a 5xx makes the failure critical."""

    async def run(ctx: RunContext) -> TestResult:
        found: list[str] = []
        right = five_xx = 0
        for endpoint in endpoints:
            reply = await send(ctx, endpoint)
            five_xx += reply.server_error
            issues = shapes.error_problems(reply, status, code)
            right += not issues
            found += [f"{endpoint.path}: {issue}" for issue in issues]
        prefix = [f"{five_xx} answer(s) were 5xx"] if five_xx else []
        return outcome(
            name,
            F,
            not found,
            f"{right}/{len(endpoints)} endpoints",
            f"{status} {code}, never 5xx",
            critical=five_xx > 0,
            details=_joined(prefix + found),
        )

    return run


def _json(payload: Callable[[RunContext, Endpoint], Any]) -> BadRequest:
    async def send(ctx: RunContext, endpoint: Endpoint) -> Reply:
        return await ctx.client.post(endpoint.path, payload(ctx, endpoint))

    return send


def _raw(content: bytes) -> BadRequest:
    async def send(ctx: RunContext, endpoint: Endpoint) -> Reply:
        return await ctx.client.post(endpoint.path, content=content)

    return send


def _valid_with(**fields: Any) -> Callable[[RunContext, Endpoint], dict[str, Any]]:
    """A valid body for the endpoint with some fields replaced."""
    return lambda ctx, e: {**e.payload(ctx.primary_symbol, ctx.config.timeframe), **fields}


def _out_of_range(ctx: RunContext, endpoint: Endpoint) -> dict[str, Any]:
    out = {"volume_spike": {"lookback": 1}, "cvd": {"limit": 5}}[endpoint.name]
    return {**endpoint.payload(ctx.primary_symbol, ctx.config.timeframe), **out}


def _oversized(ctx: RunContext, endpoint: Endpoint) -> dict[str, Any]:
    return {"symbol": ctx.primary_symbol, "pad": "x" * (BODY_LIMIT + 4096)}


async def _routing(ctx: RunContext) -> TestResult:
    unknown = await ctx.client.get("/no-such-endpoint")
    wrong_method = await ctx.client.request("DELETE", PRICE.path)
    found = shapes.error_problems(unknown, 404, "not_found")
    found += shapes.error_problems(wrong_method, 405, "method_not_allowed")
    return outcome(
        "unknown path → 404, wrong method → 405",
        F,
        not found,
        f"{unknown.status} / {wrong_method.status}",
        "404 not_found; 405 method_not_allowed",
        critical=unknown.server_error or wrong_method.server_error,
        details=_joined(found),
    )


async def _admin_auth(ctx: RunContext) -> TestResult:
    name = "admin endpoints refuse a missing or wrong token"
    target = "no token → 401; wrong token → 403"
    token = ctx.config.admin_token
    if not token:
        return not_applicable(name, F, target, "no --admin-token given (nor ADMIN_TOKEN)")
    probe = {"prefix": "marketcache-check-probe:"}
    missing = await ctx.client.post("/cache/invalidate", probe, token="")
    wrong = await ctx.client.post("/cache/invalidate", probe, token="not-" + token)
    found = shapes.error_problems(missing, 401, "unauthorized")
    found += shapes.error_problems(wrong, 403, "forbidden")
    return outcome(
        name,
        F,
        not found,
        f"{missing.status} / {wrong.status}",
        target,
        critical=missing.ok or wrong.ok or missing.server_error or wrong.server_error,
        details=_joined(found),
    )


def _tests() -> list[tuple[str, TestFn, bool]]:
    """(name, test, critical on error) in the order they run."""
    shape_tests = [(f"POST {e.path} shape", _market_shape(e), True) for e in MARKET_ENDPOINTS]
    bad: list[tuple[str, int, str, BadRequest, Sequence[Endpoint]]] = [
        ("malformed JSON", 400, "malformed_json", _raw(b'{"symbol": "BTC/'), MARKET_ENDPOINTS),
        (
            "body not an object",
            422,
            "validation_error",
            _json(lambda c, e: ["BTC/USDT"]),
            MARKET_ENDPOINTS,
        ),
        ("missing field", 422, "validation_error", _json(lambda c, e: {}), MARKET_ENDPOINTS),
        (
            "ill-typed field",
            422,
            "validation_error",
            _json(lambda c, e: {"symbol": 42}),
            MARKET_ENDPOINTS,
        ),
        (
            "unknown symbol",
            404,
            "unknown_symbol",
            _json(_valid_with(symbol="NOPE/USDT")),
            MARKET_ENDPOINTS,
        ),
        (
            "unsupported timeframe",
            400,
            "unsupported_timeframe",
            _json(_valid_with(timeframe="7m")),
            TIMEFRAME_ENDPOINTS,
        ),
        ("parameter out of range", 422, "validation_error", _json(_out_of_range), RANGED_ENDPOINTS),
        ("body over 16 KiB", 413, "payload_too_large", _json(_oversized), MARKET_ENDPOINTS),
    ]
    bad_tests = [
        (f"{title} → {status}", _bad_input(f"{title} → {status}", status, code, send, eps), False)
        for title, status, code, send, eps in bad
    ]
    return [
        (
            "GET /health shape",
            _get_shape("GET /health shape", "/health", shapes.HEALTH, weight=2.0),
            True,
        ),
        (
            "GET /cache/stats shape",
            _get_shape("GET /cache/stats shape", "/cache/stats", shapes.STATS),
            False,
        ),
        (
            "GET /cache/health shape",
            _get_shape("GET /cache/health shape", "/cache/health", shapes.CACHE_HEALTH),
            False,
        ),
        ("GET /cache/performance shape", _performance, False),
        ("GET /cache/recommendations shape", _recommendations, False),
        ("GET /metrics", _metrics, False),
        *shape_tests,
        ("symbol spellings resolve to one market", _aliases, False),
        *bad_tests,
        ("unknown path → 404, wrong method → 405", _routing, False),
        ("admin endpoints refuse a missing or wrong token", _admin_auth, False),
    ]


def plan(ctx: RunContext) -> list[Check]:
    """The functional tests, in the order they run."""
    return [Check(name, F, _bind(fn, ctx), crit) for name, fn, crit in _tests()]


def _bind(fn: TestFn, ctx: RunContext) -> Callable[[], Awaitable[TestResult]]:
    async def run() -> TestResult:
        return await fn(ctx)

    return run
