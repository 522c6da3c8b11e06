"""The hit fast path: cached answers served as bytes, before FastAPI routing and validation.

A market request whose body is plainly valid (a JSON object, fields of the exact
types and in range) and whose answer is in the cache is answered here: one
`orjson.loads`, a few dictionary look-ups, `Cache.peek`, and the cached bytes
framed into the response. Anything else — a miss, an odd body, a bad symbol —
falls through, with its body replayed, to the FastAPI routes, which validate it
fully and own every error message. So the fast path can only ever answer what
the routes would have answered, and the keys come from the same functions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from marketcache import keys
from marketcache.api.body import read_body, replay
from marketcache.api.runtime import Runtime
from marketcache.api.schemas import (
    CVD_LIMIT_RANGE,
    DEFAULT_TIMEFRAME,
    LOOKBACK_RANGE,
    SYMBOL_MAX_LENGTH,
    THRESHOLD_MAX,
    CvdRequest,
    VolumeSpikeRequest,
)
from marketcache.errors import MarketCacheError

KeyOf = Callable[[Runtime, dict[str, Any]], "str | None"]

_LOOKBACK = VolumeSpikeRequest.model_fields["lookback"].default
_THRESHOLD = VolumeSpikeRequest.model_fields["threshold"].default
_CVD_LIMIT = CvdRequest.model_fields["limit"].default


def _symbol(rt: Runtime, body: dict[str, Any]) -> str | None:
    raw = body.get("symbol")
    if type(raw) is not str:
        return None
    raw = raw.strip()
    if not 0 < len(raw) <= SYMBOL_MAX_LENGTH:
        return None
    try:
        return rt.source.normalize_symbol(raw)
    except MarketCacheError:
        return None


def _timeframe(rt: Runtime, body: dict[str, Any]) -> str | None:
    raw = body.get("timeframe", DEFAULT_TIMEFRAME)
    if type(raw) is not str:
        return None
    raw = raw.strip()
    return raw if raw in rt.source.timeframes else None


def _int_in(value: Any, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high


def _price(rt: Runtime, body: dict[str, Any]) -> str | None:
    symbol = _symbol(rt, body)
    return None if symbol is None else keys.price_key(rt.market.exchange, symbol)


def _analysis(rt: Runtime, body: dict[str, Any]) -> str | None:
    symbol, timeframe = _symbol(rt, body), _timeframe(rt, body)
    if symbol is None or timeframe is None:
        return None
    return keys.analysis_key(rt.market.exchange, symbol, timeframe)


def _volume_spike(rt: Runtime, body: dict[str, Any]) -> str | None:
    symbol, timeframe = _symbol(rt, body), _timeframe(rt, body)
    lookback = body.get("lookback", _LOOKBACK)
    threshold = body.get("threshold", _THRESHOLD)
    if symbol is None or timeframe is None or not _int_in(lookback, *LOOKBACK_RANGE):
        return None
    if type(threshold) not in (int, float) or not 0 < threshold <= THRESHOLD_MAX:
        return None
    if not math.isfinite(threshold):
        return None
    return keys.volume_spike_key(rt.market.exchange, symbol, timeframe, lookback, threshold)


def _cvd(rt: Runtime, body: dict[str, Any]) -> str | None:
    symbol, timeframe = _symbol(rt, body), _timeframe(rt, body)
    limit = body.get("limit", _CVD_LIMIT)
    if symbol is None or timeframe is None or not _int_in(limit, *CVD_LIMIT_RANGE):
        return None
    return keys.cvd_key(rt.market.exchange, symbol, timeframe, limit)


ROUTES: dict[str, KeyOf] = {
    "/price": _price,
    "/comprehensive_analysis": _analysis,
    "/volume_spike": _volume_spike,
    "/cvd": _cvd,
}


class HitFastPath:
    """ASGI middleware answering cache hits of the market endpoints directly."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key_of = ROUTES.get(scope["path"]) if scope["type"] == "http" else None
        if key_of is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        rt: Runtime | None = getattr(scope["app"].state, "runtime", None)
        if rt is None or rt.cache is None:
            await self.app(scope, receive, send)
            return
        body, outcome = await read_body(receive)  # `BodyLimit` outside has bounded it
        answer = None
        if outcome == "whole":
            try:
                parsed = orjson.loads(body)
            except orjson.JSONDecodeError:
                parsed = None
            if type(parsed) is dict:
                key = key_of(rt, parsed)
                answer = rt.market.cached(key) if key is not None else None
        if answer is None:
            await self.app(scope, replay(body, receive), send)
            return
        state = scope.setdefault("state", {})
        state["cache_status"] = answer.cache
        state["symbol"] = answer.symbol  # for the request log and per-symbol tallies
        content = answer.body(rt.clock.now())
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(content)).encode()),
                    (b"x-cache", answer.cache.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})
