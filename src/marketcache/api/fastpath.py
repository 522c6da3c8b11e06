"""The hit fast path: cached answers served as bytes, before FastAPI routing.

A market request whose body is valid (the endpoint's own parameter model, from
`endpoints.py`, validates it: the same rules as the route) and whose answer is in
the cache is answered here: one pydantic validation, the symbol normalized,
`Cache.peek`, and the cached bytes framed into the response. Anything else — a
miss, an invalid body, a bad symbol — falls through, with its body replayed, to
the FastAPI routes, which own every error message. So the fast path can only ever
answer what the routes would have answered, under the same keys.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from pydantic import ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from marketcache.answer import Answer
from marketcache.api import http_cache
from marketcache.api.body import read_body, replay
from marketcache.api.runtime import Runtime
from marketcache.endpoints import BY_PATH, MarketEndpoint
from marketcache.errors import MarketCacheError
from marketcache.params import Params, parse_query


def answer_key(rt: Runtime, endpoint: MarketEndpoint, body: bytes) -> str | None:
    """The answer key the POST route would use for `body`, or None if it must decide."""
    try:
        params = endpoint.params.model_validate_json(body)
    except ValidationError:
        return None
    return params_key(rt, endpoint, params)


def query_key(rt: Runtime, endpoint: MarketEndpoint, query: bytes) -> str | None:
    """The answer key the GET route would use for a query string, or None."""
    try:
        items = parse_qsl(query.decode("latin-1"), keep_blank_values=True, strict_parsing=False)
        params = parse_query(endpoint.params, items)
    except (MarketCacheError, ValueError):
        return None
    return params_key(rt, endpoint, params)


def params_key(rt: Runtime, endpoint: MarketEndpoint, params: Params) -> str | None:
    """The key of valid parameters once the symbol and timeframe are the exchange's."""
    values = dict(params.__dict__)
    try:
        symbol = rt.source.normalize_symbol(values.pop("symbol"))
    except MarketCacheError:
        return None
    if "timeframe" in values and values["timeframe"] not in rt.source.timeframes:
        return None
    return endpoint.key(rt.market.exchange, symbol, **values)


class HitFastPath:
    """ASGI middleware answering cache hits of the market endpoints directly."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = BY_PATH.get(scope["path"]) if scope["type"] == "http" else None
        method = scope["method"] if endpoint is not None else None
        if method not in ("POST", "GET"):
            await self.app(scope, receive, send)
            return
        assert endpoint is not None
        rt: Runtime | None = getattr(scope["app"].state, "runtime", None)
        if rt is None or rt.cache is None:
            await self.app(scope, receive, send)
            return
        if method == "GET":
            key = query_key(rt, endpoint, scope["query_string"])
            answer = rt.market.cached(key) if key is not None else None
            if answer is None:
                await self.app(scope, receive, send)
            else:
                await self._send(scope, send, rt, answer)
            return
        body, outcome = await read_body(receive)  # `BodyLimit` outside has bounded it
        answer = None
        if outcome == "whole":
            key = answer_key(rt, endpoint, body)
            answer = rt.market.cached(key) if key is not None else None
        if answer is None:
            await self.app(scope, replay(body, receive), send)
            return
        await self._send(scope, send, rt, answer)

    async def _send(self, scope: Scope, send: Send, rt: Runtime, answer: Answer) -> None:
        state = scope.setdefault("state", {})
        state["cache_status"] = answer.cache
        state["symbol"] = answer.symbol  # for the request log and per-symbol tallies
        now = rt.clock.now()
        headers = [(b"x-cache", answer.cache.encode())]
        if scope["method"] == "GET":
            cache_headers = http_cache.headers(answer, now, rt.settings.cache_stale_grace)
            headers += [(k.lower().encode(), v.encode()) for k, v in cache_headers.items()]
            if http_cache.matches(_header(scope, b"if-none-match"), cache_headers["ETag"]):
                await send({"type": "http.response.start", "status": 304, "headers": headers})
                await send({"type": "http.response.body", "body": b""})
                return
        content = answer.body(now)
        headers += [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(content)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": content})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None
