"""ASGI middleware: past MAX_IN_FLIGHT requests at once, a fast 503 with Retry-After.

Work beyond what the process can hold is refused at once, in our error envelope,
instead of queueing until clients time out.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from marketcache.api import responses


class Admission:
    """At most `limit` HTTP requests in the app at once (event streams have limits of their own)."""

    def __init__(self, app: ASGIApp, limit: int, exempt_prefix: str | None = None) -> None:
        self.app = app
        self.exempt_prefix = exempt_prefix
        self.limit = limit
        self.in_flight = 0
        self.refused = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            self.refused += 1
            response = responses.error(
                503,
                "overloaded",
                "the service is at its limit of requests; retry shortly",
                retry_after=1,
            )
            await response(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1

    def _exempt(self, path: str) -> bool:
        return self.exempt_prefix is not None and path.startswith(self.exempt_prefix)
