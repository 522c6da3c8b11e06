"""A small stand-in for the marketcache API (notes/API.md), with faults to switch on.

It keeps answers in a dict: the first request of a key waits `cold_delay_s` (the
"exchange") and is a miss, a repeat is a hit. Fault modes make it wrong on purpose so the
tests can check that the deployment suite notices:

- `uncached`: every answer `bypass` after the cold delay, /health says "market-data";
- `wrong_shapes`: /price loses `data.last`, /comprehensive_analysis loses its indicators,
  /volume_spike its X-Cache header;
- `errors_500`: /cvd always answers 500, malformed JSON to /volume_spike answers 500;
- `slow`: /comprehensive_analysis waits `slow_delay_s` on every answer.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass, field
from typing import Any

import psutil
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

SYMBOLS = [
    *("BTC/USDT", "ETH/USDT", "SOL/USDT", "BNB/USDT", "XRP/USDT", "ADA/USDT", "DOGE/USDT"),
    *("LTC/USDT", "LINK/USDT", "AVAX/USDT", "TRX/USDT", "DOT/USDT", "ATOM/USDT"),
]
TIMEFRAMES = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w")
MODES = ("good", "uncached", "wrong_shapes", "errors_500", "slow")


@dataclass
class FakeState:
    """The fake's cache and counters."""

    mode: str = "good"
    cold_delay_s: float = 0.15
    slow_delay_s: float = 0.45
    answers: dict[str, bytes] = field(default_factory=dict)
    hits: int = 0
    misses: int = 0

    @property
    def cached(self) -> bool:
        """Whether this fake pretends to have a cache."""
        return self.mode != "uncached"

    def stats(self) -> dict[str, Any]:
        """The checklist's cache_stats."""
        lookups = self.hits + self.misses
        return {
            "hit_rate": round(100.0 * self.hits / lookups, 2) if lookups else 0.0,
            "entries": len(self.answers),
            "memory_mb": round(sum(map(len, self.answers.values())) / 2**20, 3),
            "hits": self.hits,
            "misses": self.misses,
            "evictions": 0,
            "lookups": lookups,
            "stale_hits": 0,
        }


def error(status: int, code: str, message: str) -> JSONResponse:
    """The documented error envelope."""
    return JSONResponse({"success": False, "error": {"code": code, "message": message}}, status)


class BadInput(Exception):
    """A request the fake refuses with a documented 4xx."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.response = error(status, code, message)


def normalize(raw: Any) -> str:
    """BTC/USDT from btcusdt, BTC-USDT or btc/usdt; BadInput for anything else."""
    if not isinstance(raw, str):
        raise BadInput(422, "validation_error", "symbol: must be a string")
    compact = raw.upper().replace("-", "").replace("/", "")
    for symbol in SYMBOLS:
        if symbol.replace("/", "") == compact:
            return symbol
    raise BadInput(404, "unknown_symbol", f"unknown symbol {raw!r}")


def _data(kind: str, symbol: str, timeframe: str, body: dict[str, Any], mode: str) -> Any:
    price = {
        "symbol": symbol,
        "last": 100.5,
        "bid": 100.4,
        "ask": 100.6,
        "open": 99.0,
        "high": 101.0,
        "low": 98.0,
        "change": 1.5,
        "change_percent": 1.5,
        "base_volume": 10.0,
        "quote_volume": 1005.0,
        "timestamp": 1_700_000_000_000,
        "datetime": "2023-11-14T22:13:20.000Z",
    }
    if kind == "price":
        if mode == "wrong_shapes":
            del price["last"]
        return price
    common = {"symbol": symbol, "timeframe": timeframe}
    if kind == "comprehensive_analysis":
        indicators = {
            "rsi": 55.0,
            "macd": {"macd": 1.0},
            "bollinger": {"upper": 1.0},
            "moving_averages": {
                "ema_9": 1.0,
                "ema_21": 1.0,
                "ema_50": 1.0,
                "ema_200": None,
                "sma_20": 1.0,
                "sma_50": 1.0,
            },
            "atr": 1.0,
            "stochastic": {"k": 1.0},
            "adx": {"adx": 20.0},
            "obv": 5.0,
            "vwap": 100.0,
        }
        return {
            **common,
            "candles": {"closed": 500},
            "price": price,
            "indicators": {} if mode == "wrong_shapes" else indicators,
            "volume": {"current": 1.0},
            "levels": {"support": [98.0], "resistance": [101.0]},
            "trend": {"direction": "up", "strength": 0.5},
            "signal": {"signal": "buy", "score": 2, "reasons": ["rsi rising"]},
        }
    if kind == "volume_spike":
        return {
            **common,
            "lookback": body.get("lookback", 20),
            "threshold": body.get("threshold", 2.0),
            "is_spike": False,
            "ratio": 1.1,
            "z_score": 0.3,
            "volume": 11.0,
            "mean": 10.0,
            "std": 1.0,
            "direction": "up",
            "recent_spikes": [],
        }
    return {
        **common,
        "series": [{"time": 1, "delta": 1.0, "cvd": 1.0}],
        "latest": 1.0,
        "trend": "up",
        "divergence": None,
    }


def _validate(kind: str, body: Any) -> tuple[str, str]:
    if not isinstance(body, dict):
        raise BadInput(422, "validation_error", "body: must be a JSON object")
    if "symbol" not in body:
        raise BadInput(422, "validation_error", "symbol: field required")
    symbol = normalize(body["symbol"])
    timeframe = body.get("timeframe", "15m")
    if kind != "price" and timeframe not in TIMEFRAMES:
        raise BadInput(400, "unsupported_timeframe", f"timeframe {timeframe!r}")
    if kind == "volume_spike" and not 5 <= body.get("lookback", 20) <= 500:
        raise BadInput(422, "validation_error", "lookback: out of range")
    if kind == "cvd" and not 10 <= body.get("limit", 100) <= 1000:
        raise BadInput(422, "validation_error", "limit: out of range")
    return symbol, timeframe


def _market(state: FakeState, kind: str):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request) -> Response:
        if state.mode == "errors_500" and kind == "cvd":
            return PlainTextResponse("Internal Server Error", 500)
        raw = await request.body()
        if len(raw) > 16 * 1024:
            return error(413, "payload_too_large", "body over 16 KiB")
        try:
            body = json.loads(raw)
        except ValueError:
            if state.mode == "errors_500" and kind == "volume_spike":
                return PlainTextResponse("Internal Server Error", 500)
            return error(400, "malformed_json", "the body is not valid JSON")
        try:
            symbol, timeframe = _validate(kind, body)
        except BadInput as bad:
            return bad.response
        if state.mode == "slow" and kind == "comprehensive_analysis":
            await asyncio.sleep(state.slow_delay_s)
        key = f"{kind}:{symbol}:{timeframe}"
        if state.cached and key in state.answers:
            state.hits += 1
            mode, payload = "hit", state.answers[key]
        else:
            await asyncio.sleep(state.cold_delay_s)
            payload = json.dumps(_data(kind, symbol, timeframe, body, state.mode)).encode()
            mode = "miss" if state.cached else "bypass"
            if state.cached:
                state.misses += 1
                state.answers[key] = payload
        meta = json.dumps({"cache": mode, "age_ms": 0, "source": "fake", "exchange": "fake"})
        content = b'{"success":true,"data":' + payload + b',"meta":' + meta.encode() + b"}"
        lose_header = state.mode == "wrong_shapes" and kind == "volume_spike"
        headers = {} if lose_header else {"X-Cache": mode}
        return Response(content, 200, headers, media_type="application/json")

    return endpoint


FAKE_BASELINE_MB = 120.0


def create_app(state: FakeState) -> Starlette:
    """The fake service for one state."""
    process = psutil.Process(os.getpid())
    # The fake lives in the test process, whose own size depends on every test run before
    # it: it reports a service's baseline plus what the process grew since it was made.
    born_mb = process.memory_info().rss / 2**20

    async def health(request: Request) -> Response:
        stats = state.stats()
        return JSONResponse(
            {
                "status": "healthy",
                "service": "cached-market-data" if state.cached else "market-data",
                "version": "2.0.0",
                "cache_enabled": state.cached,
                "cache_stats": {k: stats[k] for k in ("hit_rate", "entries", "memory_mb")},
            }
        )

    async def cache_stats(request: Request) -> Response:
        stats = state.stats() if state.cached else {k: 0 for k in state.stats()}
        return JSONResponse(
            {"success": True, "data": {"cache_enabled": state.cached, "cache_stats": stats}}
        )

    async def cache_health(request: Request) -> Response:
        rss = FAKE_BASELINE_MB + max(0.0, process.memory_info().rss / 2**20 - born_mb)
        return JSONResponse(
            {
                "status": "healthy",
                "metrics": {
                    "hit_rate": state.stats()["hit_rate"],
                    "memory_usage_percent": 1.0,
                    "avg_response_time_ms": 5.0,
                    "rss_mb": rss,
                },
                "active_alerts": 0,
                "alerts": [],
            }
        )

    async def performance(request: Request) -> Response:
        hours = int(request.query_params.get("hours", "1"))
        if not 1 <= hours <= 168:
            return error(422, "validation_error", "hours: out of range")
        return JSONResponse(
            {"success": True, "data": {"hours": hours, "buckets": [], "summary": {}, "trend": {}}}
        )

    async def recommendations(request: Request) -> Response:
        return JSONResponse(
            {
                "success": True,
                "data": {
                    "recommendations": [
                        {"id": "ok", "severity": "info", "message": "all good", "evidence": {}}
                    ]
                },
            }
        )

    async def metrics(request: Request) -> Response:
        return PlainTextResponse("# HELP fake_requests x\n# TYPE fake_requests counter\n")

    async def clear(request: Request) -> Response:
        removed = len(state.answers)
        state.answers.clear()
        return JSONResponse({"success": True, "data": {"removed": removed}})

    async def warm(request: Request) -> Response:
        body = json.loads(await request.body())
        before = len(state.answers)
        results: dict[str, Any] = {}
        for symbol in body["symbols"]:
            for frame in body.get("timeframes", ["15m"]):
                for kind in ("comprehensive_analysis", "volume_spike", "cvd"):
                    data = _data(kind, symbol, frame, {}, state.mode)
                    state.answers[f"{kind}:{symbol}:{frame}"] = json.dumps(data).encode()
            results[symbol] = {"status": "warmed", "entries": 3}
        return JSONResponse(
            {
                "success": True,
                "data": {
                    "results": results,
                    "entries_before": before,
                    "entries_after": len(state.answers),
                    "entries_added": len(state.answers) - before,
                    "duration_ms": 1.0,
                },
            }
        )

    async def not_found(request: Request, exc: Exception) -> Response:
        return error(404, "not_found", "no such path")

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return error(405, "method_not_allowed", "wrong method")

    routes = [
        Route("/health", health),
        Route("/cache/stats", cache_stats),
        Route("/cache/health", cache_health),
        Route("/cache/performance", performance),
        Route("/cache/recommendations", recommendations),
        Route("/metrics", metrics),
        Route("/cache/clear", clear, methods=["POST"]),
        Route("/cache/warm", warm, methods=["POST"]),
        *[
            Route(f"/{kind}", _market(state, kind), methods=["POST"])
            for kind in ("price", "comprehensive_analysis", "volume_spike", "cvd")
        ],
    ]
    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_allowed})
