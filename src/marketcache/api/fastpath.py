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

from pydantic import ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from marketcache.api.body import read_body, replay
from marketcache.api.runtime import Runtime
from marketcache.endpoints import BY_PATH, MarketEndpoint
from marketcache.errors import MarketCacheError


def answer_key(rt: Runtime, endpoint: MarketEndpoint, body: bytes) -> str | None:
    """The answer key the route would use for `body`, or None if the route must decide."""
    try:
        params = endpoint.params.model_validate_json(body)
    except ValidationError:
        return None
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
        if endpoint is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        rt: Runtime | None = getattr(scope["app"].state, "runtime", None)
        if rt is None or rt.cache is None:
            await self.app(scope, receive, send)
            return
        body, outcome = await read_body(receive)  # `BodyLimit` outside has bounded it
        answer = None
        if outcome == "whole":
            key = answer_key(rt, endpoint, body)
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
