"""The L2 seam: what a shared backend (Redis) offers the cache, and an in-memory one.

The cache consults its backend on an L1 miss before loading and writes it after
a load. A backend reports a miss with the `MISSING` marker, never an exception;
any exception it raises means it is unavailable, and the cache then carries on
with L1 alone (counting the error and telling its `on_backend_error` hook).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final, Literal, Protocol

from marketcache.clock import Clock, SystemClock


class _Missing(enum.Enum):
    MISSING = "MISSING"

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing.MISSING
"""The marker a backend returns for a key it does not hold."""

Missing = Literal[_Missing.MISSING]


@dataclass(frozen=True, slots=True)
class BackendEntry:
    """A value as a backend holds it: the bytes and their windows (clock seconds)."""

    value: bytes
    stored_at: float
    fresh_until: float
    stale_until: float


class Backend(Protocol):
    """A shared key-value store behind L1 (Redis); every method may raise when it is down."""

    async def get(self, key: str) -> BackendEntry | Missing:
        """The entry for `key`, or MISSING."""
        ...

    async def set(self, key: str, entry: BackendEntry, ttl: float) -> None:
        """Store `entry` under `key`, to expire `ttl` seconds from now (end of its stale window)."""
        ...

    async def delete(self, key: str) -> bool:
        """Drop `key`; whether it was there."""
        ...

    async def delete_prefix(self, prefix: str) -> int:
        """Drop every key starting with `prefix`; how many."""
        ...

    async def clear(self) -> int:
        """Drop every key of this cache; how many."""
        ...

    async def ttl(self, key: str) -> float | Missing:
        """Seconds before `key` expires, or MISSING."""
        ...


class MemoryBackend:
    """A Backend in this process's memory, expiring on an injected clock.

    Several `Cache` objects sharing one MemoryBackend behave like replicas sharing Redis.
    """

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock: Clock = clock or SystemClock()
        self._data: dict[str, tuple[BackendEntry, float]] = {}
        self.gets = 0
        self.sets = 0

    def _live(self, key: str) -> tuple[BackendEntry, float] | None:
        item = self._data.get(key)
        if item is not None and self._clock.now() >= item[1]:
            del self._data[key]
            return None
        return item

    async def get(self, key: str) -> BackendEntry | Missing:
        self.gets += 1
        item = self._live(key)
        return MISSING if item is None else item[0]

    async def set(self, key: str, entry: BackendEntry, ttl: float) -> None:
        self.sets += 1
        if ttl > 0:
            self._data[key] = (entry, self._clock.now() + ttl)
        else:
            self._data.pop(key, None)

    async def delete(self, key: str) -> bool:
        return self._data.pop(key, None) is not None

    async def delete_prefix(self, prefix: str) -> int:
        doomed = [key for key in self._data if key.startswith(prefix)]
        for key in doomed:
            del self._data[key]
        return len(doomed)

    async def clear(self) -> int:
        count = len(self._data)
        self._data.clear()
        return count

    async def ttl(self, key: str) -> float | Missing:
        item = self._live(key)
        return MISSING if item is None else item[1] - self._clock.now()

    def __len__(self) -> int:
        return len(self._data)
