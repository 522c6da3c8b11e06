"""L2 guarded: a Backend whose failures degrade the cache to L1 instead of reaching callers."""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from marketcache.cache.backend import MISSING, Backend, BackendEntry, SharedBackend
from marketcache.cache.stats import Counters
from marketcache.clock import Clock

log = logging.getLogger(__name__)

BackendErrorHook = Callable[[str, BaseException], None]
T = TypeVar("T")
LATENCY_SAMPLES = 1024


class GuardedBackend:
    """A Backend whose failures are counted, reported and answered by a pause, never raised.

    After a failure the backend is left alone for `retry_after` seconds (the
    cache runs on L1 alone meanwhile), then tried again; each failed try doubles
    the pause, up to `retry_max`. Calls that were already under way when a pause
    began (concurrent calls failing together, one timeout each) belong to the
    same failure episode: they are counted, but neither extend nor double the
    pause. `healthy` is False from a failure until a call succeeds again (or the
    fan-out channel reconnects): that is what the L2 alert watches.
    """

    def __init__(
        self,
        backend: Backend,
        clock: Clock,
        counters: Counters,
        retry_after: float,
        on_error: BackendErrorHook | None,
        retry_max: float | None = None,
    ) -> None:
        self.backend = backend
        self.shared: SharedBackend | None = backend if isinstance(backend, SharedBackend) else None
        self._clock = clock
        self._counters = counters
        self._retry_after = retry_after
        self._retry_max = max(retry_after, retry_max if retry_max is not None else retry_after)
        self._pause = retry_after
        self._on_error = on_error
        self._down_until = -math.inf
        self._episode = 0  # bumped each time a pause begins
        self.healthy = True
        self.last_error: str | None = None
        self.down_since: float | None = None
        self.get_latencies: deque[float] = deque(maxlen=LATENCY_SAMPLES)  # seconds, recent gets

    @property
    def available(self) -> bool:
        """False while the backend is paused after a failure."""
        return self._clock.now() >= self._down_until

    def failed(self, operation: str, error: BaseException, episode: int | None = None) -> None:
        """Count a failure and, unless it belongs to the episode already paused for, pause
        the backend (`episode`: the one under way when the failed call began; the fan-out
        channel, which has none, starts a pause only when none is running)."""
        now = self._clock.now()
        self._counters.backend_errors += 1
        if self.healthy:
            self.down_since = now
        self.healthy = False
        self.last_error = f"{operation}: {type(error).__name__}: {error}"
        if (episode is None or episode == self._episode) and now >= self._down_until:
            self._episode += 1
            self._down_until = now + self._pause
            log.warning(
                "cache backend %s failed (%r); L1 only for %gs", operation, error, self._pause
            )
            self._pause = min(self._pause * 2, self._retry_max)
        else:
            log.debug("cache backend %s failed (%r) in the same episode", operation, error)
        if self._on_error is not None:
            try:
                self._on_error(operation, error)
            except Exception:
                log.exception("on_backend_error hook failed")

    def recovered(self) -> None:
        """The backend answered again: end the pause and the back-off."""
        if not self.healthy:
            log.info("cache backend is back; L1 + L2 again")
        self.healthy = True
        self.down_since = None
        self._pause = self._retry_after
        self._down_until = -math.inf

    def state(
        self, *, shared: bool, channel: bool | None, waiting_on_leases: int
    ) -> dict[str, Any]:
        """As health reports show it: up, down or retrying, the last error, get latency (ms)."""
        return {
            "enabled": True,
            "shared": shared,
            "state": "up" if self.healthy else ("down" if not self.available else "retrying"),
            "channel": channel,
            "down_since": self.down_since,
            "last_error": self.last_error,
            "waiting_on_leases": waiting_on_leases,
            "get_latency_ms": latency_summary(sorted(self.get_latencies)),
        }

    async def _call(self, operation: str, work: Callable[[], Awaitable[T]], default: T) -> T:
        if not self.available:
            return default
        episode = self._episode
        try:
            result = await work()
        except Exception as exc:
            self.failed(operation, exc, episode)
            return default
        if not self.healthy:
            self.recovered()
        return result

    async def get(self, key: str) -> BackendEntry | None:
        """The entry for `key`, or None (missing, or backend unavailable)."""
        if not self.available:
            return None
        started = time.perf_counter()
        got: Any = await self._call("get", lambda: self.backend.get(key), MISSING)
        self.get_latencies.append(time.perf_counter() - started)
        return None if got is MISSING else got

    async def set(self, key: str, entry: BackendEntry) -> None:
        """Store `entry` until the end of its stale window."""
        ttl = entry.stale_until - self._clock.now()
        if ttl > 0:
            await self._call("set", lambda: self.backend.set(key, entry, ttl), None)

    async def delete(self, key: str) -> None:
        """Drop `key`."""
        await self._call("delete", lambda: self.backend.delete(key), False)

    async def delete_prefix(self, prefix: str) -> None:
        """Drop every key starting with `prefix`."""
        await self._call("delete_prefix", lambda: self.backend.delete_prefix(prefix), 0)

    async def clear(self) -> None:
        """Drop every key."""
        await self._call("clear", self.backend.clear, 0)

    # ---- coordination (shared backends only; the caller checks `shared`) -----------------

    async def acquire(self, key: str, ttl: float) -> str | bool | None:
        """The lease token, None when another replica holds it, False when L2 is unusable."""
        assert self.shared is not None
        shared = self.shared
        result: str | bool | None = await self._call(
            "acquire", lambda: shared.acquire(key, ttl), False
        )
        return result

    async def extend(self, key: str, token: str, ttl: float) -> bool:
        """Whether the lease is still ours, now pushed `ttl` seconds on."""
        assert self.shared is not None
        shared = self.shared
        return await self._call("extend", lambda: shared.extend(key, token, ttl), False)

    async def release(self, key: str, token: str) -> None:
        """Give the lease back (it expires by itself if this fails)."""
        assert self.shared is not None
        shared = self.shared
        await self._call("release", lambda: shared.release(key, token), False)

    async def lease_ttl(self, key: str) -> float | None:
        """Seconds left on the lease of `key`; None when nobody holds it or L2 is unusable."""
        assert self.shared is not None
        shared = self.shared
        got: Any = await self._call("lease_ttl", lambda: shared.lease_ttl(key), MISSING)
        return None if got is MISSING else float(got)

    async def incr(self, name: str, amount: int, ttl: float) -> int | None:
        """The shared counter after adding `amount`, or None when L2 is unusable."""
        assert self.shared is not None
        shared = self.shared
        return await self._call("incr", lambda: shared.incr(name, amount, ttl), None)


def latency_summary(latencies: list[float]) -> dict[str, float | int]:
    """Count, mean, p50 and p99 of sorted latencies (seconds), in ms."""
    if not latencies:
        return {"samples": 0, "avg": 0.0, "p50": 0.0, "p99": 0.0}
    n = len(latencies)
    return {
        "samples": n,
        "avg": round(sum(latencies) / n * 1000, 3),
        "p50": round(latencies[n // 2] * 1000, 3),
        "p99": round(latencies[min(n - 1, int(n * 0.99))] * 1000, 3),
    }
