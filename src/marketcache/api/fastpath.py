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

from collections.abc import Sequence
from typing import NamedTuple
from urllib.parse import parse_qsl

from pydantic import ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from marketcache.answer import Answer
from marketcache.api import http_cache
from marketcache.api.body import content_length, header, read_body, replay
from marketcache.api.observe import RuntimeOf, arrived, observe
from marketcache.api.runtime import Runtime
from marketcache.endpoints import BY_PATH, MarketEndpoint
from marketcache.errors import MarketCacheError
from marketcache.params import MAX_BODY_BYTES, Params, parse_query

ASKED = "marketcache.hit_asked"  # scope extension: the protocol already found no hit
MEMO_SIZE = 4096  # bodies remembered with their key: bots repeat the same few
JSON = (b"content-type", b"application/json")


def header_lines(headers: Sequence[tuple[bytes, bytes]]) -> bytes:
    """`headers` as HTTP/1.1 header lines."""
    return b"".join(name + b": " + value + b"\r\n" for name, value in headers)


def answer_key(rt: Runtime, endpoint: MarketEndpoint, body: bytes) -> str | None:
    """The answer key the POST route would use for `body`, or None if it must decide.

    A body seen before is not validated again: its key is remembered (bounded;
    only bodies that are valid, whose symbol and timeframe the exchange has).
    """
    memo = rt.fast_keys.get(endpoint.name)
    if memo is None:
        memo = rt.fast_keys[endpoint.name] = {}
    key = memo.get(body)
    if key is not None:
        return key
    try:
        params = endpoint.params.model_validate_json(body)
    except ValidationError:
        return None
    key = params_key(rt, endpoint, params)
    if key is not None:
        if len(memo) >= MEMO_SIZE:
            memo.clear()
        memo[body] = key
    return key


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


class Hit(NamedTuple):
    """A cache hit ready to send: status, headers (also as header lines), body, and
    what to record of it."""

    status: int
    headers: Sequence[tuple[bytes, bytes]]
    head: bytes  # `headers` as HTTP/1.1 header lines, each ending in CRLF
    content: bytes
    answer: Answer
    endpoint: MarketEndpoint
    runtime: Runtime


class HitFastPath:
    """The served ASGI app's first stop: cache hits of the market endpoints, answered here.

    It sits outside everything else (FastAPI and the full path's middlewares are
    `app`), so a hit pays for none of them; it records its own answers (`observe`).
    A request with an `Origin` header goes the full path when CORS is on, so that
    its answer carries the CORS headers. The server's protocol asks it too, before
    any ASGI cycle (`wants`, `answer`, `record`: see commands/protocol.py).
    """

    def __init__(self, app: ASGIApp, runtime_of: RuntimeOf, *, cors: bool = False) -> None:
        self.app = app
        self.runtime_of = runtime_of
        self.cors = cors
        # a POST hit's headers by (cache status, body length); the body of each answer at
        # the age it was last framed at: hits of one answer in one millisecond share it
        self._heads: dict[tuple[str, int], tuple[tuple[tuple[bytes, bytes], ...], bytes]] = {}
        self._bodies: dict[int, tuple[Answer, int, bytes]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.wants(scope):
            await self.app(scope, receive, send)
            return
        started = arrived(scope)
        body = b""
        if scope["method"] == "POST":
            body, outcome = await read_body(receive, MAX_BODY_BYTES)
            if outcome == "gone":  # the client left before sending it all
                return
            receive = replay(body, receive)  # the full path reads it again
            if outcome != "whole":
                await self.app(scope, receive, send)
                return
        hit = self.answer(scope, body)
        if hit is None:
            await self.app(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": hit.status, "headers": hit.headers})
        await send({"type": "http.response.body", "body": hit.content})
        self.record(scope, hit, started)

    def wants(self, scope: Scope) -> bool:
        """Whether the request may be a hit: a market path, GET or a POST of a small body."""
        if scope["type"] != "http" or scope["path"] not in BY_PATH:
            return False
        extensions = scope.get("extensions")
        if extensions and extensions.get(ASKED):  # a miss the protocol looked up already
            return False
        method = scope["method"]
        if method == "POST":
            declared = content_length(scope)  # chunked or too large: the full path
            if declared is None or declared > MAX_BODY_BYTES:
                return False
        elif method != "GET":
            return False
        if self.cors and header(scope, b"origin"):
            return False
        rt = self.runtime_of()
        return rt is not None and rt.cache is not None

    def answer(self, scope: Scope, body: bytes) -> Hit | None:
        """The hit for a request `wants` accepted and its whole body, or None (a miss)."""
        rt = self.runtime_of()
        assert rt is not None
        endpoint = BY_PATH[scope["path"]]
        get = scope["method"] == "GET"
        if get:
            key = query_key(rt, endpoint, scope["query_string"])
        else:
            key = answer_key(rt, endpoint, body)
        answer = rt.market.cached(key) if key is not None else None
        if answer is None:
            return None
        now = rt.clock.now()
        if get:
            return self._get_hit(scope, rt, answer, endpoint, now)
        content = self._body(answer, answer.age_ms(now))
        head = self._heads.get((answer.cache, len(content)))
        if head is None:
            head = self._post_head(answer.cache, len(content))
        return Hit(200, head[0], head[1], content, answer, endpoint, rt)

    def _body(self, answer: Answer, age_ms: int) -> bytes:
        memo = self._bodies.get(id(answer))
        if memo is not None and memo[0] is answer and memo[1] == age_ms:
            return memo[2]
        content = answer.framed(age_ms)
        if len(self._bodies) >= MEMO_SIZE:
            self._bodies.clear()
        self._bodies[id(answer)] = (answer, age_ms, content)  # holds `answer`: its id stays
        return content

    def _post_head(self, cache: str, length: int) -> tuple[tuple[tuple[bytes, bytes], ...], bytes]:
        headers = ((b"x-cache", cache.encode()), JSON, (b"content-length", str(length).encode()))
        if len(self._heads) >= MEMO_SIZE:
            self._heads.clear()
        head = self._heads[(cache, length)] = (headers, header_lines(headers))
        return head

    def _get_hit(
        self, scope: Scope, rt: Runtime, answer: Answer, endpoint: MarketEndpoint, now: float
    ) -> Hit:
        headers = [(b"x-cache", answer.cache.encode())]
        cache_headers = http_cache.headers(answer, now, rt.settings.cache_stale_grace)
        headers += [(k.lower().encode(), v.encode()) for k, v in cache_headers.items()]
        status = 200
        content = b""
        if http_cache.matches(header(scope, b"if-none-match"), cache_headers["ETag"]):
            status = 304
        else:
            content = self._body(answer, answer.age_ms(now))
            headers += [JSON, (b"content-length", str(len(content)).encode())]
        return Hit(status, headers, header_lines(headers), content, answer, endpoint, rt)

    @staticmethod
    def record(scope: Scope, hit: Hit, started: float, ended: float | None = None) -> None:
        """Count and log a hit once it is sent (`started`: when the request arrived;
        `ended`: when its answer left, if not now)."""
        answer = hit.answer
        observe(
            hit.runtime,
            scope,
            hit.status,
            answer.cache,
            answer.symbol,
            started,
            hit.endpoint.path,
            ended,
        )
