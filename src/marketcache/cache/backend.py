"""The L2 seam: what a shared backend (Redis) offers the cache, and an in-memory one.

The cache consults its backend on an L1 miss before loading and writes it after
a load. A backend reports a miss with the `MISSING` marker, never an exception;
any exception it raises means it is unavailable, and the cache then carries on
with L1 alone (counting the error and telling its `on_backend_error` hook).

A backend shared by replicas (`SharedBackend`) also coordinates them: leases
(one replica loads a key while the others wait), fan-out (a load, an
invalidation or a clear reaches every other replica's `Listener`) and shared
counters (the exchange's rate budget). Writes and drops publish their own
fan-out message; a replica never hears its own messages.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal, Protocol, runtime_checkable

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


class Listener(Protocol):
    """What a replica does with the fan-out messages of the others."""

    def loaded(self, key: str, entry: BackendEntry) -> None:
        """Another replica loaded `key`."""
        ...

    def released(self, key: str) -> None:
        """Another replica gave up its lease on `key` (its load may have failed)."""
        ...

    def invalidated(self, key: str) -> None:
        """Another replica invalidated `key`."""
        ...

    def invalidated_prefix(self, prefix: str) -> None:
        """Another replica invalidated every key starting with `prefix`."""
        ...

    def cleared(self) -> None:
        """Another replica cleared the cache."""
        ...

    def connected(self, error: BaseException | None) -> None:
        """The message channel is up (None) or was lost (the error)."""
        ...


@runtime_checkable
class SharedBackend(Backend, Protocol):
    """A Backend that replicas share: leases, fan-out to a Listener, shared counters."""

    async def acquire(self, key: str, ttl: float) -> str | None:
        """Take the lease on `key` for `ttl` seconds: its token, or None if someone holds it."""
        ...

    async def extend(self, key: str, token: str, ttl: float) -> bool:
        """Push the lease's expiry to `ttl` seconds from now, if `token` still holds it."""
        ...

    async def release(self, key: str, token: str) -> bool:
        """Drop the lease if `token` holds it (and tell the others); whether it did."""
        ...

    async def lease_ttl(self, key: str) -> float | Missing:
        """Seconds before the lease on `key` expires, or MISSING when nobody holds it."""
        ...

    async def incr(self, name: str, amount: int, ttl: float) -> int:
        """Add `amount` to counter `name` (expiring `ttl` s after its creation); its value."""
        ...

    def listen(self, listener: Listener) -> None:
        """Deliver the other replicas' messages to `listener` (from `start` on)."""
        ...

    async def start(self) -> None:
        """Start receiving messages (idempotent)."""
        ...

    async def stop(self) -> None:
        """Stop receiving messages."""
        ...


class _Hub:
    """What in-memory replicas share: data, leases, counters and each other."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.data: dict[str, tuple[BackendEntry, float]] = {}
        self.leases: dict[str, tuple[str, float]] = {}
        self.counters: dict[str, tuple[int, float]] = {}
        self.members: list[MemoryBackend] = []
        self.tokens = itertools.count(1)


class MemoryBackend:
    """A SharedBackend in this process's memory, expiring on an injected clock.

    `peer()` gives another replica's handle on the same data: messages of one
    handle reach the listeners of the others. (Several caches on one handle
    share data but hear none of each other's messages.)
    """

    def __init__(self, clock: Clock | None = None, *, _hub: _Hub | None = None) -> None:
        self._hub = _hub or _Hub(clock or SystemClock())
        self._clock: Clock = self._hub.clock
        self._data = self._hub.data
        self._hub.members.append(self)
        self._listeners: list[Listener] = []
        self._listening = False
        self.gets = 0
        self.sets = 0

    def peer(self) -> MemoryBackend:
        """Another replica's handle on the same shared data."""
        return MemoryBackend(_hub=self._hub)

    def _publish(self, deliver: Callable[[Listener], None]) -> None:
        for member in self._hub.members:
            if member is not self and member._listening:
                for listener in member._listeners:
                    deliver(listener)

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
            self._publish(lambda listener: listener.loaded(key, entry))
        else:
            self._data.pop(key, None)

    async def delete(self, key: str) -> bool:
        self._publish(lambda listener: listener.invalidated(key))
        return self._data.pop(key, None) is not None

    async def delete_prefix(self, prefix: str) -> int:
        doomed = [key for key in self._data if key.startswith(prefix)]
        for key in doomed:
            del self._data[key]
        self._publish(lambda listener: listener.invalidated_prefix(prefix))
        return len(doomed)

    async def clear(self) -> int:
        count = len(self._data)
        self._data.clear()
        self._publish(lambda listener: listener.cleared())
        return count

    async def ttl(self, key: str) -> float | Missing:
        item = self._live(key)
        return MISSING if item is None else item[1] - self._clock.now()

    # ---- coordination --------------------------------------------------------------------

    def _lease(self, key: str) -> tuple[str, float] | None:
        lease = self._hub.leases.get(key)
        if lease is not None and self._clock.now() >= lease[1]:
            del self._hub.leases[key]
            return None
        return lease

    async def acquire(self, key: str, ttl: float) -> str | None:
        if self._lease(key) is not None:
            return None
        token = f"t{next(self._hub.tokens)}"
        self._hub.leases[key] = (token, self._clock.now() + ttl)
        return token

    async def extend(self, key: str, token: str, ttl: float) -> bool:
        lease = self._lease(key)
        if lease is None or lease[0] != token:
            return False
        self._hub.leases[key] = (token, self._clock.now() + ttl)
        return True

    async def release(self, key: str, token: str) -> bool:
        lease = self._lease(key)
        if lease is None or lease[0] != token:
            return False
        del self._hub.leases[key]
        self._publish(lambda listener: listener.released(key))
        return True

    async def lease_ttl(self, key: str) -> float | Missing:
        lease = self._lease(key)
        return MISSING if lease is None else lease[1] - self._clock.now()

    async def incr(self, name: str, amount: int, ttl: float) -> int:
        now = self._clock.now()
        value, expires = self._hub.counters.get(name, (0, now + ttl))
        if now >= expires:
            value, expires = 0, now + ttl
        self._hub.counters[name] = (value + amount, expires)
        return value + amount

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def start(self) -> None:
        if not self._listening:
            self._listening = True
            for listener in self._listeners:
                listener.connected(None)

    async def stop(self) -> None:
        self._listening = False

    def __len__(self) -> int:
        return len(self._data)
