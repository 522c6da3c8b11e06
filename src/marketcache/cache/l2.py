"""L2 guarded: a Backend whose failures degrade the cache to L1 instead of reaching callers."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from marketcache.cache.backend import MISSING, Backend, BackendEntry
from marketcache.cache.stats import Counters
from marketcache.clock import Clock

log = logging.getLogger(__name__)

BackendErrorHook = Callable[[str, BaseException], None]


class GuardedBackend:
    """A Backend whose failures are counted, reported and answered by a pause, never raised.

    After a failure the backend is left alone for `retry_after` seconds (the
    cache runs on L1 alone meanwhile), then tried again.
    """

    def __init__(
        self,
        backend: Backend,
        clock: Clock,
        counters: Counters,
        retry_after: float,
        on_error: BackendErrorHook | None,
    ) -> None:
        self.backend = backend
        self._clock = clock
        self._counters = counters
        self._retry_after = retry_after
        self._on_error = on_error
        self._down_until = -math.inf

    @property
    def available(self) -> bool:
        """False while the backend is paused after a failure."""
        return self._clock.now() >= self._down_until

    def _failed(self, operation: str, error: BaseException) -> None:
        self._counters.backend_errors += 1
        self._down_until = self._clock.now() + self._retry_after
        log.warning(
            "cache backend %s failed (%r); L1 only for %gs", operation, error, self._retry_after
        )
        if self._on_error is not None:
            try:
                self._on_error(operation, error)
            except Exception:
                log.exception("on_backend_error hook failed")

    async def get(self, key: str) -> BackendEntry | None:
        """The entry for `key`, or None (missing, or backend unavailable)."""
        if not self.available:
            return None
        try:
            got = await self.backend.get(key)
        except Exception as exc:
            self._failed("get", exc)
            return None
        return None if got is MISSING else got

    async def set(self, key: str, entry: BackendEntry) -> None:
        """Store `entry` until the end of its stale window."""
        ttl = entry.stale_until - self._clock.now()
        if ttl <= 0 or not self.available:
            return
        try:
            await self.backend.set(key, entry, ttl)
        except Exception as exc:
            self._failed("set", exc)

    async def delete(self, key: str) -> None:
        """Drop `key`."""
        if self.available:
            try:
                await self.backend.delete(key)
            except Exception as exc:
                self._failed("delete", exc)

    async def delete_prefix(self, prefix: str) -> None:
        """Drop every key starting with `prefix`."""
        if self.available:
            try:
                await self.backend.delete_prefix(prefix)
            except Exception as exc:
                self._failed("delete_prefix", exc)

    async def clear(self) -> None:
        """Drop every key."""
        if self.available:
            try:
                await self.backend.clear()
            except Exception as exc:
                self._failed("clear", exc)
