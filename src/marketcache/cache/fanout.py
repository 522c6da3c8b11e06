"""Fan-out: what this replica does with the other replicas' loads, invalidations and clears."""

from __future__ import annotations

import logging
from collections.abc import Callable

from marketcache.cache.backend import BackendEntry
from marketcache.cache.l2 import GuardedBackend
from marketcache.cache.lease import Leases
from marketcache.cache.loading import Loads
from marketcache.cache.stats import Counters
from marketcache.cache.store import Store
from marketcache.clock import Clock

log = logging.getLogger(__name__)


class Fanout:
    """A backend `Listener` that keeps this replica's L1 in step with the others.

    A value another replica loaded replaces an older copy held here (keys this
    replica does not hold are left to L2, so L1s do not mirror each other), and
    wakes this replica's flights waiting on that load. Invalidations and clears
    drop here what they dropped there, and stop this replica's loads in flight
    from storing.
    """

    def __init__(
        self,
        clock: Clock,
        store: Store,
        loads: Loads,
        counters: Counters,
        leases: Leases,
        backend: GuardedBackend,
        *,
        on_clear: Callable[[], None],
    ) -> None:
        self._clock = clock
        self._store = store
        self._loads = loads
        self._counters = counters
        self._leases = leases
        self._backend = backend
        self._on_clear = on_clear
        self.channel_up = False

    def loaded(self, key: str, entry: BackendEntry) -> None:
        """Another replica loaded `key`: wake our waiters, refresh our copy if we hold one."""
        self._leases.wake(key, entry)
        current = self._store.entries.get(key)
        if (
            current is None
            or entry.stored_at <= current.stored_at
            or self._clock.now() >= entry.stale_until
        ):
            return
        loader, freshness = current.loader, current.freshness
        kept = self._store.put(
            key, entry.value, entry.stored_at, entry.fresh_until, entry.stale_until
        )
        self._counters.fanout_updates += 1
        if kept is not None:
            kept.loader, kept.freshness = loader, freshness
            self._loads.stored(kept)

    def released(self, key: str) -> None:
        """Another replica's lease on `key` ended without a value: our waiters look again."""
        self._leases.wake(key, None)

    def invalidated(self, key: str) -> None:
        """Another replica invalidated `key`."""
        self._loads.forget(key)
        self._counters.fanout_drops += self._store.remove(key) is not None

    def invalidated_prefix(self, prefix: str) -> None:
        """Another replica invalidated every key starting with `prefix`."""
        self._loads.forget_prefix(prefix)
        self._counters.fanout_drops += self._store.remove_prefix(prefix)

    def cleared(self) -> None:
        """Another replica cleared the cache."""
        self._loads.forget_all()
        self._counters.fanout_drops += self._store.clear()
        self._on_clear()

    def connected(self, error: BaseException | None) -> None:
        """The channel came up (L2 is back) or went down (L1 alone until it returns)."""
        if error is None:
            self.channel_up = True
            self._backend.recovered()
            self._leases.wake_all()  # messages may have been missed: waiters look again
        else:
            self.channel_up = False
            self._backend.failed("subscribe", error)
