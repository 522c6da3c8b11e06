"""The objects of a running service, built in the app's lifespan and kept on `app.state`."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from fastapi import Request

from marketcache.access_log import AccessLog
from marketcache.cache import Cache
from marketcache.clock import Clock
from marketcache.config import Settings
from marketcache.monitoring.monitor import Monitor
from marketcache.service import MarketData
from marketcache.sources.base import Source
from marketcache.subscriptions.hub import Hub
from marketcache.subscriptions.topics import Topics

PING_EVERY_S = 10.0
PING_TIMEOUT_S = 2.0


@dataclass
class Reachability:
    """Whether the exchange answered its last ping; pings at most every `PING_EVERY_S`."""

    source: Source
    reachable: bool | None = None
    checked_at: float = 0.0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def check(self) -> bool:
        """The last known answer, refreshed when it is old (never raises)."""
        if self.reachable is not None and time.monotonic() - self.checked_at < PING_EVERY_S:
            return self.reachable
        async with self._lock:
            if self.reachable is None or time.monotonic() - self.checked_at >= PING_EVERY_S:
                try:
                    self.reachable = await asyncio.wait_for(self.source.ping(), PING_TIMEOUT_S)
                except TimeoutError:
                    self.reachable = False
                self.checked_at = time.monotonic()
        return bool(self.reachable)


@dataclass
class Runtime:
    """Everything a request handler may need."""

    settings: Settings
    clock: Clock
    source: Source
    cache: Cache | None
    market: MarketData
    reachability: Reachability
    started_at: float
    monitor: Monitor | None = None
    access_log: AccessLog | None = None
    hub: Hub | None = None  # subscriptions, when on (they need the cache)
    topics: Topics | None = None
    fast_keys: dict[str, dict[bytes, str]] = field(default_factory=dict)  # the fast path's memo


def runtime(request: Request) -> Runtime:
    """The runtime of the app serving `request`."""
    rt: Runtime = request.app.state.runtime
    return rt
