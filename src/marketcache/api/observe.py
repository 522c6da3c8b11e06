"""ASGI middleware: time and record every request, and log one line for it.

The line carries method, path, status, cache status (what the route put in
`request.state.cache_status`, else the `X-Cache` response header), latency in
milliseconds and the symbol asked for; with LOG_FORMAT=json these are keys of
the JSON object. It is queued to the runtime's `AccessLog`, which writes it off
the request path. The request is also counted by the monitor (its minute, its
latency histogram, Prometheus) when the app's runtime has one.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from marketcache.access_log import AccessLog
from marketcache.endpoints import BY_PATH
from marketcache.monitoring.monitor import Monitor

RECEIVED_AT = "marketcache.received_at"  # set by commands/protocol.py
OTHER = "other"  # the endpoint label of paths no route matched (keeps label values bounded)
FAST_PATHS = frozenset(BY_PATH)  # answered by the hit fast path, before routing
METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))


def _endpoint(scope: Scope) -> str:
    """The matched route's path template; the path of a fast-path answer; else `other`."""
    template = getattr(scope.get("route"), "path", None)
    if isinstance(template, str):
        return template
    return scope["path"] if scope["path"] in FAST_PATHS else OTHER


class ObserveRequests:
    """Outermost middleware: sees every answer, including those of other middleware."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # from when its first byte was parsed, if the server says (queue time included)
        started = scope.get("extensions", {}).get(RECEIVED_AT) or time.perf_counter()
        state: dict[str, Any] = scope.setdefault("state", {})
        status = 500  # what the client gets if the app raises before answering
        header_cache: str | None = None

        async def send_observed(message: Message) -> None:
            nonlocal status, header_cache
            if message["type"] == "http.response.start":
                status = int(message["status"])
                for name, value in message.get("headers", ()):
                    if name.lower() == b"x-cache":
                        header_cache = value.decode("latin-1")
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        finally:
            self._observe(scope, state, status, header_cache, time.perf_counter() - started)

    def _observe(
        self,
        scope: Scope,
        state: dict[str, Any],
        status: int,
        header_cache: str | None,
        latency_s: float,
    ) -> None:
        cache_status = state.get("cache_status") or header_cache
        symbol = state.get("symbol")
        symbol = symbol if isinstance(symbol, str) else None
        path: str = scope["path"]
        method: str = scope["method"]
        runtime = getattr(getattr(scope.get("app"), "state", None), "runtime", None)
        monitor = getattr(runtime, "monitor", None)
        if isinstance(monitor, Monitor):
            monitor.record(
                method=method,
                path=path,
                endpoint=_endpoint(scope),
                method_label=method if method in METHODS else "OTHER",
                status=status,
                cache_status=cache_status,
                latency_s=latency_s,
                symbol=symbol,
            )
        access_log = getattr(runtime, "access_log", None)
        if isinstance(access_log, AccessLog):
            access_log.record(method, path, status, cache_status, latency_s * 1000, symbol)
