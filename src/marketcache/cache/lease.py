"""Single-flight across replicas: a lease per key in the shared backend.

The replica that takes a key's lease loads it; the others wait for the
holder's "loaded" message (fan-out), its "released" message (the load failed),
or the lease's expiry (the holder died), whichever comes first, and then look
again: the value, or the lease for themselves. The holder keeps its lease alive
while it loads and gives it back after writing L2, so a slow load is not taken
over and a dead holder's lease lapses after `ttl` seconds. Callers' deadlines
are the local flight's business: a waiter of this replica gives up on its own
deadline exactly as it would on a local load.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import math
from dataclasses import dataclass
from typing import Final, Literal

from marketcache.cache.backend import BackendEntry
from marketcache.cache.l2 import GuardedBackend
from marketcache.cache.stats import Counters
from marketcache.cache.waiting import wait_done
from marketcache.clock import Clock

log = logging.getLogger(__name__)

WAKE_MARGIN = 0.005  # look again this long after a lease should have expired


class _GaveUp(enum.Enum):
    GAVE_UP = "GAVE_UP"


GAVE_UP: Final = _GaveUp.GAVE_UP
"""Another replica holds the lease and the caller asked not to wait."""


@dataclass(slots=True)
class Lease:
    """A lease this replica holds: its key and token, and the task keeping it alive."""

    key: str
    token: str
    keeper: asyncio.Task[None] | None = None


Claim = Lease | BackendEntry | Literal[_GaveUp.GAVE_UP] | None


class Leases:
    """Takes, keeps and gives back leases; parks this replica's waiters on the others' loads."""

    def __init__(
        self, backend: GuardedBackend, clock: Clock, counters: Counters, ttl: float
    ) -> None:
        if ttl <= 0:
            raise ValueError("the lease ttl must be > 0")
        self._backend = backend
        self._clock = clock
        self._counters = counters
        self.ttl = ttl
        self._parked: dict[str, set[asyncio.Future[BackendEntry | None]]] = {}

    async def claim(self, key: str, *, wait: bool, newer_than: float = -math.inf) -> Claim:
        """The lease on `key`, or the value another replica loaded meanwhile.

        None: L2 is unusable, load without a lease. GAVE_UP: someone else holds
        the lease and `wait` is False. A value is returned only while fresh and
        if loaded after `newer_than` (a refresh wants a newer value than it has).
        """
        backend = self._backend
        waited = False
        while True:
            if not backend.available:
                return None
            parked = self._park(key)
            try:
                token = await backend.acquire(key, self.ttl)
                if token is False:
                    return None
                if isinstance(token, str):
                    return await self._confirm(key, token, waited, newer_than)
                if not wait:
                    self._counters.lease_skips += 1
                    return GAVE_UP
                if not waited:
                    self._counters.lease_waits += 1
                    waited = True
                got = await self._fresh_in_l2(key, newer_than)  # loaded since our read?
                if got is not None:
                    return got
                remaining = await backend.lease_ttl(key)
                if remaining is None:
                    continue  # released (or L2 failed): look again
                await wait_done(parked, self._clock, max(remaining, 0.0) + WAKE_MARGIN)
                if parked.done():
                    entry = parked.result()
                    if (
                        entry is not None
                        and entry.stored_at > newer_than
                        and self._clock.now() < entry.fresh_until
                    ):
                        self._counters.remote_loads += 1
                        return entry
            finally:
                self._unpark(key, parked)

    async def _confirm(
        self, key: str, token: str, waited: bool, newer_than: float
    ) -> Lease | BackendEntry:
        """With the lease in hand, check L2 once more: the previous holder may just have written."""
        if waited:
            self._counters.lease_takeovers += 1
        got = await self._fresh_in_l2(key, newer_than)
        if got is not None:
            await self._backend.release(key, token)
            return got
        lease = Lease(key, token)
        lease.keeper = asyncio.get_running_loop().create_task(self._keep(lease))
        return lease

    async def _fresh_in_l2(self, key: str, newer_than: float) -> BackendEntry | None:
        got = await self._backend.get(key)
        if got is not None and got.stored_at > newer_than and self._clock.now() < got.fresh_until:
            self._counters.remote_loads += 1
            return got
        return None

    async def _keep(self, lease: Lease) -> None:
        """Extend the lease every third of its ttl while the load runs."""
        while True:
            await self._clock.sleep(self.ttl / 3)
            if not await self._backend.extend(lease.key, lease.token, self.ttl):
                log.warning("lost the lease on %r while loading it", lease.key)
                return

    async def release(self, lease: Lease) -> None:
        """Stop keeping the lease and give it back (the others are told)."""
        if lease.keeper is not None:
            lease.keeper.cancel()
        await self._backend.release(lease.key, lease.token)
        self.wake(lease.key, None)  # a later flight of ours may wait on our own lease

    # ---- waiters ------------------------------------------------------------------------

    def _park(self, key: str) -> asyncio.Future[BackendEntry | None]:
        future: asyncio.Future[BackendEntry | None] = asyncio.get_running_loop().create_future()
        self._parked.setdefault(key, set()).add(future)
        return future

    def _unpark(self, key: str, future: asyncio.Future[BackendEntry | None]) -> None:
        parked = self._parked.get(key)
        if parked is not None:
            parked.discard(future)
            if not parked:
                del self._parked[key]

    def wake(self, key: str, entry: BackendEntry | None) -> None:
        """A load of `key` ended elsewhere: with `entry`, or without a value (lease released)."""
        for future in self._parked.get(key, ()):
            if not future.done():
                future.set_result(entry)

    def wake_all(self) -> None:
        """Wake every waiter to look again (the channel reconnected; messages may be lost)."""
        for key in list(self._parked):
            self.wake(key, None)

    @property
    def parked(self) -> int:
        """How many flights wait for another replica's load now."""
        return sum(len(p) for p in self._parked.values())
