"""Writes that come from outside a load: values pushed by a stream, and leases on names.

A pushed value goes where a load's value goes — L1 (keeping the key's loader, so a
later read can still refresh it the ordinary way), then L2, whose write tells the
other replicas (fan-out) — and a value older than the one held is ignored. Ending
a value's fresh window (`expire_fresh`) makes the next read refresh it the ordinary
way while the value stays servable stale. Leases on names (not keys: `claim`)
let one replica own a piece of work across replicas (one stream per market).
"""

from __future__ import annotations

from typing import NamedTuple

from marketcache.cache.backend import BackendEntry
from marketcache.cache.entry import Freshness, windows
from marketcache.cache.l2 import GuardedBackend
from marketcache.cache.loading import Loads
from marketcache.cache.store import Store
from marketcache.clock import Clock

LEASE_PREFIX = "owner:"  # lease names apart from the keys' own leases


class Held(NamedTuple):
    """A value held in L1 (servable or not), when it was stored, and when it stops being fresh."""

    value: bytes
    stored_at: float
    fresh_until: float


class Writes:
    """Values pushed into the cache, and named leases across replicas."""

    def __init__(
        self, clock: Clock, store: Store, loads: Loads, backend: GuardedBackend | None
    ) -> None:
        self._clock = clock
        self._store = store
        self._loads = loads
        self._backend = backend
        self.pushed = 0

    def held(self, key: str) -> Held | None:
        """The value L1 holds for `key`, when it was stored and its fresh window's end."""
        entry = self._store.entries.get(key)
        return None if entry is None else Held(entry.value, entry.stored_at, entry.fresh_until)

    async def put(
        self, key: str, value: bytes, stored_at: float, freshness: Freshness, *, share: bool = True
    ) -> bool:
        """Store `value`, made at `stored_at`, as a load would (L1, then L2 with `share`)."""
        current = self._store.entries.get(key)
        if current is not None and stored_at < current.stored_at:
            return False  # a newer value is held: messages may overtake a slow load
        fresh_until, stale_until = windows(stored_at, freshness)
        if stale_until <= self._clock.now():
            return False
        loader = current.loader if current is not None else None
        kept = self._store.put(key, value, stored_at, fresh_until, stale_until)
        if kept is None:
            return False
        self.pushed += 1
        if loader is not None:
            kept.loader, kept.freshness = loader, kept.freshness or freshness
            self._loads.stored(kept)
        if share and self._backend is not None:
            await self._backend.set(key, BackendEntry(value, stored_at, fresh_until, stale_until))
        return True

    def expire_fresh(self, key: str) -> bool:
        """End the fresh window of `key` in L1 now (still servable stale); whether held."""
        entry = self._store.entries.get(key)
        if entry is None:
            return False
        entry.fresh_until = min(entry.fresh_until, self._clock.now())
        return True

    @property
    def shared(self) -> bool:
        """Whether leases are taken across replicas (else every claim is granted)."""
        return self._backend is not None and self._backend.shared is not None

    async def claim(self, name: str, ttl: float) -> str | None:
        """A lease on `name` for `ttl` seconds: its token, or None if another replica has it.

        Without a shared backend (or while it is unusable) this replica owns every name.
        """
        if not self.shared:
            return "local"
        assert self._backend is not None
        token = await self._backend.acquire(LEASE_PREFIX + name, ttl)
        if token is False:
            return "local"  # L2 unusable: every replica on its own, as loads are
        return token if isinstance(token, str) else None

    async def renew(self, name: str, token: str, ttl: float) -> bool:
        """Whether the lease on `name` is still ours, now `ttl` seconds on."""
        if token == "local" or not self.shared:
            return True
        assert self._backend is not None
        return await self._backend.extend(LEASE_PREFIX + name, token, ttl)

    async def release(self, name: str, token: str) -> None:
        """Give the lease on `name` back."""
        if token != "local" and self.shared:
            assert self._backend is not None
            await self._backend.release(LEASE_PREFIX + name, token)
