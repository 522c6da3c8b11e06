"""Time and record every request, and log one line for it.

The line carries method, path, status, cache status (what the route put in
`request.state.cache_status`, else the `X-Cache` response header), latency in
milliseconds and the symbol asked for; with LOG_FORMAT=json these are keys of
the JSON object. It is queued to the runtime's `AccessLog`, which writes it off
the request path. The request is also counted by the monitor (its minute, its
latency histogram, Prometheus). Latency counts from when the request's first
byte was parsed (`commands/protocol.py` stamps it), so time spent waiting behind
other requests is in it. The hit fast path records its answers with `observe`
directly; everything else passes `ObserveRequests`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from marketcache.api.runtime import Runtime
from marketcache.cache.requester import acting_for
from marketcache.endpoints import BY_PATH

RECEIVED_AT = "marketcache.received_at"  # set by commands/protocol.py
ABORT = "marketcache.abort"  # the connection's abort (commands/protocol.py): for cut-off streams
STREAM_ENDING = "marketcache.stream_ending"  # an event stream's end, set at server shutdown
EVENT_STREAM = b"text/event-stream"
OTHER = "other"  # the endpoint label of paths no route matched (keeps label values bounded)
FAST_PATHS = frozenset(BY_PATH)  # answered by the hit fast path, before routing
METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))

RuntimeOf = Callable[[], Runtime | None]  # the app's Runtime; None before the lifespan


def arrived(scope: Scope) -> float:
    """When the request arrived (its bytes in the kernel), if the server says; else now."""
    extensions = scope.get("extensions")
    stamp = extensions.get(RECEIVED_AT) if extensions else None
    return float(stamp) if stamp is not None else time.perf_counter()


def _endpoint(scope: Scope) -> str:
    """The matched route's path template; the path of a fast-path answer; else `other`."""
    template = getattr(scope.get("route"), "path", None)
    if isinstance(template, str):
        return template
    return scope["path"] if scope["path"] in FAST_PATHS else OTHER


def observe(
    runtime: Runtime | None,
    scope: Scope,
    status: int,
    cache_status: str | None,
    symbol: str | None,
    started: float,
    endpoint: str | None = None,
    ended: float | None = None,
) -> None:
    """Count one answered request and queue its log line (`ended`: when it was answered)."""
    if runtime is None:
        return
    latency_s = (ended if ended is not None else time.perf_counter()) - started
    path: str = scope["path"]
    method: str = scope["method"]
    if runtime.monitor is not None:
        runtime.monitor.record(
            method=method,
            path=path,
            endpoint=endpoint or _endpoint(scope),
            method_label=method if method in METHODS else "OTHER",
            status=status,
            cache_status=cache_status,
            latency_s=latency_s,
            symbol=symbol,
        )
    if runtime.access_log is not None:
        runtime.access_log.record(method, path, status, cache_status, latency_s * 1000, symbol)


class ObserveRequests:
    """Outermost middleware of the full path: sees every answer, other middlewares' too."""

    def __init__(self, app: ASGIApp, runtime_of: RuntimeOf) -> None:
        self.app = app
        self.runtime_of = runtime_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = arrived(scope)
        state: dict[str, Any] = scope.setdefault("state", {})
        status = 500  # what the client gets if the app raises before answering
        header_cache: str | None = None
        streamed: float | None = None  # an event stream's latency ends at its start

        async def send_observed(message: Message) -> None:
            nonlocal status, header_cache, streamed
            if message["type"] == "http.response.start":
                status = int(message["status"])
                for name, value in message.get("headers", ()):
                    lowered = name.lower()
                    if lowered == b"x-cache":
                        header_cache = value.decode("latin-1")
                    elif lowered == b"content-type" and value.startswith(EVENT_STREAM):
                        streamed = time.perf_counter()
            await send(message)

        client = scope.get("client")
        try:
            # the cache budgets this client's cold loads (CLIENT_COLD_LOADS_PER_MIN); its
            # warming too, so /cache/warm costs no more upstream than its own requests
            with acting_for(client[0] if client else None):
                await self.app(scope, receive, send_observed)
        finally:
            symbol = state.get("symbol")
            observe(
                self.runtime_of(),
                scope,
                status,
                state.get("cache_status") or header_cache,
                symbol if isinstance(symbol, str) else None,
                started,
                ended=streamed,
            )
