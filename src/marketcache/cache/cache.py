"""The cache: get_or_load with single-flight, stale-while-revalidate, stale-if-error, refresh-ahead.

Policy lives here; storage lives in `Store` (L1) and an optional `Backend` (L2).
Every load runs in its own task, so a caller whose deadline passes (or who is
cancelled) leaves the load running for the others. See `stats.py` for how
lookups are counted. With a shared L2 (Redis) the cache is one replica of
several: loads are single-flight across replicas (`lease.py`) and loads,
invalidations and clears reach the other replicas (`fanout.py`). An L1 hit
never touches L2.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from marketcache.cache.admission import AdmitHook, Demand
from marketcache.cache.backend import Backend
from marketcache.cache.entry import (
    Entry,
    Freshness,
    Loader,
    Result,
    Status,
    make_result,
)
from marketcache.cache.fanout import Fanout
from marketcache.cache.l2 import BackendErrorHook, GuardedBackend
from marketcache.cache.lease import Leases
from marketcache.cache.loading import LoadErrorHook, Loads
from marketcache.cache.options import CacheOptions
from marketcache.cache.stats import CacheStats, Counters, TaskState, snapshot
from marketcache.cache.store import Store
from marketcache.cache.upkeep import Upkeep
from marketcache.cache.waiting import wait_done
from marketcache.cache.writes import Writes
from marketcache.clock import Clock, SystemClock
from marketcache.errors import CacheOverloaded, LoadTimeout
from marketcache.tasks import stop_tasks

log = logging.getLogger(__name__)


class Cache:
    """Bytes by key, loaded once per key however many ask, served fresh, stale or not at all."""

    def __init__(
        self,
        options: CacheOptions | None = None,
        *,
        clock: Clock | None = None,
        backend: Backend | None = None,
        admit: AdmitHook | None = None,
        admit_cold: AdmitHook | None = None,
        on_load_error: LoadErrorHook | None = None,
        on_backend_error: BackendErrorHook | None = None,
    ) -> None:
        self.options = o = options if options is not None else CacheOptions()
        self._clock: Clock = clock or SystemClock()
        self._store = Store(o.max_bytes, o.eviction, o.max_entry_share)
        self._entries = self._store.entries  # the hit path reads these two directly
        self._touch = self._store.policy.access
        self._counters = Counters()
        self._wait_deadline = o.wait_deadline
        self._max_waiters = o.max_waiters
        self._stale_grace = o.stale_grace  # see CacheOptions
        self._stale_wait = o.stale_wait
        self._demand = Demand(o.demand_window, o.demand_keys)
        self._backend = (
            GuardedBackend(
                backend,
                self._clock,
                self._counters,
                o.backend_retry,
                on_backend_error,
                o.backend_retry_max,
            )
            if backend is not None
            else None
        )
        self._leases = (
            Leases(self._backend, self._clock, self._counters, o.lease_ttl)
            if self._backend is not None and self._backend.shared is not None
            else None
        )
        self._loads = Loads(
            self._clock,
            self._store,
            self._counters,
            self._backend,
            leases=self._leases,
            admit=admit,
            admit_cold=admit_cold,
            load_timeout=o.load_timeout,
            hedge_factor=o.hedge_factor,
            hedge_min=o.hedge_min,
            error_backoff=o.error_backoff,
            on_load_error=on_load_error,
        )
        self._flights = self._loads.flights
        self._upkeep = Upkeep(
            self._clock,
            self._entries,
            self._flights,
            expire=self._loads.expire,
            refresh=self._loads.refresh_ahead,
            purge_interval=o.purge_interval,
            refresh_ahead=o.refresh_ahead,
            refresh_at=o.refresh_at,
            refresh_tick=o.refresh_tick,
            loads_per_s=o.refresh_loads_per_s,
            concurrency=o.refresh_concurrency,
        )
        self._loads.on_stored(self._upkeep.scheduled)
        self._side_tasks: set[asyncio.Task[None]] = set()
        self.writes = Writes(self._clock, self._store, self._loads, self._backend)  # streams
        self._fanout: Fanout | None = None
        if self._backend is not None and self._backend.shared is not None:
            assert self._leases is not None
            self._fanout = Fanout(
                self._clock,
                self._store,
                self._loads,
                self._counters,
                self._leases,
                self._backend,
                on_clear=self._upkeep.clear,
            )
            self._backend.shared.listen(self._fanout)

    # ---- reading -------------------------------------------------------------------------

    async def get_or_load(
        self, key: str, loader: Loader, freshness: Freshness, *, deadline: float | None = None
    ) -> Result:
        """The value for `key`: fresh, stale (refreshed behind), or loaded once for all callers.

        `freshness` applies when `loader` returns plain bytes. Raises the loader's
        exception (the same object to every waiter), `LoadTimeout` when `deadline`
        (default: wait_deadline) passes first, or `CacheOverloaded`.
        """
        # The fresh-hit lines repeat `peek`'s on purpose: this is the hot path, and a
        # call plus a second dict lookup would cost a fifth of a hit.
        entry = self._entries.get(key)
        if entry is not None:
            now = self._clock.now()
            entry.loader = loader
            entry.freshness = freshness
            if now < entry.fresh_until:
                counters = self._counters
                counters.lookups += 1
                counters.hits += 1
                self._touch(entry)
                entry.read_fresh = True
                return make_result(entry.value, "hit", now - entry.stored_at, entry.stored_at)
            if now < entry.stale_until:
                if self._in_grace(entry, now):
                    return self._serve_stale(entry, now)
                wait = min(self._stale_wait, self._wait_deadline if deadline is None else deadline)
                return await self._miss(key, loader, freshness, wait, stale=entry)
            self._loads.expire(entry)
        return await self._miss(
            key, loader, freshness, self._wait_deadline if deadline is None else deadline
        )

    def peek(self, key: str) -> Result | None:
        """A servable value for `key` without loading, or None (then not counted: see stats).

        A stale peek starts the key's one background refresh if a loader is known.
        """
        entry = self._entries.get(key)
        if entry is None:
            return None
        now = self._clock.now()
        if now < entry.fresh_until:
            counters = self._counters
            counters.lookups += 1
            counters.hits += 1
            self._touch(entry)
            entry.read_fresh = True
            return make_result(entry.value, "hit", now - entry.stored_at, entry.stored_at)
        if now < entry.stale_until:
            # past the grace the caller's get_or_load waits briefly for the reload
            return self._serve_stale(entry, now) if self._in_grace(entry, now) else None
        self._loads.expire(entry)
        return None

    def _in_grace(self, entry: Entry, now: float) -> bool:
        """Whether a stale `entry` is served at once (else: wait briefly for the reload)."""
        grace = self._stale_grace
        if grace is None or now < entry.retry_at:  # a reload failed lately: no waiting
            return True
        flight = self._flights.get(entry.key)
        if flight is not None and now - flight.started_at >= self._stale_wait:
            return True  # the reload is already slow: no one else waits for it
        return now < entry.fresh_until + grace * (entry.fresh_until - entry.stored_at)

    def _serve_stale(self, entry: Entry, now: float) -> Result:
        counters = self._counters
        counters.lookups += 1
        counters.stale_hits += 1
        self._touch(entry)
        if (
            entry.key not in self._flights
            and now >= entry.retry_at
            and entry.loader is not None
            and entry.freshness is not None
            and _loop_running()
        ):
            self._loads.start(entry.key, entry.loader, entry.freshness, background=True)
        return make_result(entry.value, "stale", now - entry.stored_at, entry.stored_at)

    async def _miss(
        self,
        key: str,
        loader: Loader,
        freshness: Freshness,
        deadline: float,
        stale: Entry | None = None,
    ) -> Result:
        """Wait for the one load of `key`; with `stale`, serve it if the load is not done by
        `deadline` (a stale read past its grace), instead of raising LoadTimeout."""
        counters = self._counters
        flight = self._flights.get(key)
        leader = flight is None
        status: Status = "miss" if leader else "coalesced"
        if flight is None:
            asked_before = self._demand.missed(key, self._clock.now())
            flight = self._loads.start(
                key, loader, freshness, background=False, demanded=asked_before or stale is not None
            )
        elif flight.waiters >= self._max_waiters:
            if stale is not None:  # enough callers wait already: this one takes the stale copy
                return self._serve_stale(stale, self._clock.now())
            counters.lookups += 1
            counters.coalesced += 1
            counters.waiters_refused += 1
            raise CacheOverloaded(key, flight.waiters)
        flight.waiters += 1
        try:
            done = await wait_done(flight.future, self._clock, deadline)
            if not done:
                now = self._clock.now()
                if stale is not None and now < stale.stale_until:
                    status = "stale"  # the load goes on for the next readers
                    return make_result(stale.value, "stale", now - stale.stored_at, stale.stored_at)
                counters.timeouts += 1
                raise LoadTimeout(key, deadline)
            outcome = flight.future.result()
            if outcome.kind == "error":
                outcome.raise_error()
            now = self._clock.now()
            if outcome.kind == "stale":
                if now >= outcome.stale_until:  # the window closed while we were woken
                    if outcome.error is not None:
                        outcome.raise_error()
                    raise LoadTimeout(key, deadline)
                status = "stale"
            elif outcome.kind == "backend" and leader:
                status = "hit"
            elif outcome.kind == "remote":
                status = "coalesced"  # another replica's load
            return Result(outcome.value, status, now - outcome.stored_at, outcome.stored_at)
        finally:
            flight.waiters -= 1
            counters.served(status)

    # ---- invalidation --------------------------------------------------------------------

    def invalidate(self, key: str) -> bool:
        """Drop `key` from L1 and L2 (a load in flight will not store it); whether L1 held it."""
        self._loads.forget(key)
        removed = self._store.remove(key) is not None
        self._counters.invalidations += removed
        if self._backend is not None:
            self._spawn(self._backend.delete(key))
        return removed

    def invalidate_prefix(self, prefix: str) -> int:
        """Drop every key starting with `prefix`; how many L1 held."""
        self._loads.forget_prefix(prefix)
        removed = self._store.remove_prefix(prefix)
        self._counters.invalidations += removed
        if self._backend is not None:
            self._spawn(self._backend.delete_prefix(prefix))
        return removed

    def clear(self) -> int:
        """Drop everything (L1, L2, loads in flight will not be stored); how many L1 held."""
        self._loads.forget_all()
        removed = self._store.clear()
        self._upkeep.clear()
        self._demand.clear()
        self._counters.invalidations += removed
        if self._backend is not None:
            self._spawn(self._backend.clear())
        return removed

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run L2 upkeep behind the caller (only L1 is affected outside an event loop)."""
        if not _loop_running():
            work.close()
            return
        task = asyncio.get_running_loop().create_task(work)
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)

    # ---- lifecycle and introspection -----------------------------------------------------

    async def start(self) -> None:
        """Start the background tasks (purge, refresh-ahead when enabled, fan-out with a
        shared L2)."""
        await self._upkeep.start()
        if self._backend is not None and self._backend.shared is not None:
            await self._backend.shared.start()

    async def stop(self) -> None:
        """Stop the background tasks and background refreshes, and wait for them.

        Loads that callers wait on are left to finish (bounded by load_timeout).
        """
        await self._upkeep.stop()
        if self._backend is not None and self._backend.shared is not None:
            await self._backend.shared.stop()
        await stop_tasks(*self._loads.background_tasks)
        await asyncio.gather(*self._side_tasks, return_exceptions=True)  # bounded by L2's timeout

    async def __aenter__(self) -> Cache:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    @property
    def refresh_paused(self) -> bool:
        """While True, refresh-ahead starts nothing (stale reads still refresh their key)."""
        return self._upkeep.paused

    @refresh_paused.setter
    def refresh_paused(self, paused: bool) -> None:
        self._upkeep.paused = paused

    @property
    def stats(self) -> CacheStats:
        """A snapshot of the counters and occupancy (cheap: no scan)."""
        store = self._store
        return snapshot(
            self._counters,
            evictions=store.evictions,
            rejected=store.rejected,
            in_flight=len(self._flights),
            entries=len(store),
            bytes=store.bytes,
            max_bytes=store.max_bytes,
            backend_available=self._backend is not None and self._backend.healthy,
            backend_shared=self._leases is not None,
        )

    def backend_state(self) -> dict[str, Any]:
        """L2 as health reports show it: state, last error, recent get latency (ms)."""
        if self._backend is None:
            return {"enabled": False, "state": "off"}
        return self._backend.state(
            shared=self._leases is not None,
            channel=None if self._fanout is None else self._fanout.channel_up,
            waiting_on_leases=0 if self._leases is None else self._leases.parked,
        )

    def tasks(self) -> dict[str, TaskState]:
        """Each background task's state (runs, last run, errors), for health reports."""
        return self._upkeep.states()

    @property
    def store(self) -> Store:
        """The L1 store (read it; do not write it)."""
        return self._store

    def keys(self) -> list[str]:
        """The keys L1 holds now."""
        return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
