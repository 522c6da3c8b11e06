"""The cache: get_or_load with single-flight, stale-while-revalidate, stale-if-error, refresh-ahead.

Policy lives here; storage lives in `Store` (L1) and an optional `Backend` (L2).
Every load runs in its own task, so a caller whose deadline passes (or who is
cancelled) leaves the load running for the others. See `stats.py` for how
lookups are counted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Literal

from marketcache.cache.backend import Backend, BackendEntry
from marketcache.cache.entry import Entry, Freshness, Loaded, Loader, Result, Status, windows
from marketcache.cache.flight import CacheOverloaded, Flight, Outcome, wait_done
from marketcache.cache.l2 import BackendErrorHook, GuardedBackend
from marketcache.cache.stats import CacheStats, Counters, TaskState
from marketcache.cache.store import Store
from marketcache.cache.upkeep import Upkeep
from marketcache.clock import Clock, SystemClock
from marketcache.errors import CacheError, LoadTimeout

log = logging.getLogger(__name__)

LoadErrorHook = Callable[[str, BaseException], None]


class Cache:
    """Bytes by key, loaded once per key however many ask, served fresh, stale or not at all."""

    def __init__(
        self,
        *,
        max_bytes: int,
        clock: Clock | None = None,
        eviction: Literal["lru", "sieve", "s3fifo"] = "sieve",
        max_entry_share: float = 0.1,
        wait_deadline: float = 10.0,
        refresh_ahead: bool = True,
        refresh_loads_per_s: float = 5.0,
        refresh_concurrency: int = 4,
        purge_interval: float = 5.0,
        backend: Backend | None = None,
        on_load_error: LoadErrorHook | None = None,
        on_backend_error: BackendErrorHook | None = None,
        max_waiters: int = 1000,
        load_timeout: float | None = 60.0,
        error_backoff: float = 1.0,
        refresh_at: float = 0.85,
        refresh_tick: float = 0.1,
        backend_retry: float = 5.0,
    ) -> None:
        if not 0 < refresh_at < 1:
            raise ValueError("refresh_at is a share of the fresh window, in (0, 1)")
        if refresh_concurrency < 1 or max_waiters < 1 or purge_interval <= 0:
            raise ValueError("refresh_concurrency, max_waiters and purge_interval must be > 0")
        self._clock: Clock = clock or SystemClock()
        self._store = Store(max_bytes, eviction, max_entry_share)
        self._entries = self._store.entries  # the hit path reads these two directly
        self._touch = self._store.policy.access
        self._counters = Counters()
        self._flights: dict[str, Flight] = {}
        self._load_tasks: set[asyncio.Task[None]] = set()
        self._background_tasks: set[asyncio.Task[None]] = set()
        self._side_tasks: set[asyncio.Task[None]] = set()
        self._wait_deadline = wait_deadline
        self._max_waiters = max_waiters
        self._load_timeout = load_timeout
        self._error_backoff = error_backoff
        self._on_load_error = on_load_error
        self._backend = (
            GuardedBackend(backend, self._clock, self._counters, backend_retry, on_backend_error)
            if backend is not None
            else None
        )
        self._upkeep = Upkeep(
            self._clock,
            self._entries,
            self._flights,
            expire=self._expire,
            refresh=self._refresh,
            purge_interval=purge_interval,
            refresh_ahead=refresh_ahead,
            refresh_at=refresh_at,
            refresh_tick=refresh_tick,
            loads_per_s=refresh_loads_per_s,
            concurrency=refresh_concurrency,
        )

    # ---- reading -------------------------------------------------------------------------

    async def get_or_load(
        self, key: str, loader: Loader, freshness: Freshness, *, deadline: float | None = None
    ) -> Result:
        """The value for `key`: fresh, stale (refreshed behind), or loaded once for all callers.

        `freshness` applies when `loader` returns plain bytes. Raises the loader's
        exception (the same object to every waiter), `LoadTimeout` when `deadline`
        (default: wait_deadline) passes first, or `CacheOverloaded`.
        """
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
                return Result(entry.value, "hit", now - entry.stored_at, entry.stored_at)
            if now < entry.stale_until:
                return self._serve_stale(entry, now)
            self._expire(entry)
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
            return Result(entry.value, "hit", now - entry.stored_at, entry.stored_at)
        if now < entry.stale_until:
            return self._serve_stale(entry, now)
        self._expire(entry)
        return None

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
            self._start_flight(entry.key, entry.loader, entry.freshness, background=True)
        return Result(entry.value, "stale", now - entry.stored_at, entry.stored_at)

    def _expire(self, entry: Entry) -> None:
        self._store.remove(entry.key)
        self._counters.expirations += 1

    async def _miss(
        self, key: str, loader: Loader, freshness: Freshness, deadline: float
    ) -> Result:
        counters = self._counters
        flight = self._flights.get(key)
        leader = flight is None
        status: Status = "miss" if leader else "coalesced"
        if flight is None:
            flight = self._start_flight(key, loader, freshness, background=False)
        elif flight.waiters >= self._max_waiters:
            counters.lookups += 1
            counters.coalesced += 1
            counters.waiters_refused += 1
            raise CacheOverloaded(key, flight.waiters)
        flight.waiters += 1
        try:
            done = await wait_done(flight.future, self._clock, deadline)
            if not done:
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
            return Result(outcome.value, status, now - outcome.stored_at, outcome.stored_at)
        finally:
            flight.waiters -= 1
            counters.lookups += 1
            if status == "miss":
                counters.misses += 1
            elif status == "coalesced":
                counters.coalesced += 1
            elif status == "hit":
                counters.hits += 1
            else:
                counters.stale_hits += 1

    # ---- loading -------------------------------------------------------------------------

    def _start_flight(
        self, key: str, loader: Loader, freshness: Freshness, *, background: bool
    ) -> Flight:
        loop = asyncio.get_running_loop()
        flight = Flight(key, loop.create_future(), background)
        self._flights[key] = flight
        task = loop.create_task(self._run_flight(flight, loader, freshness))
        flight.task = task
        self._load_tasks.add(task)
        task.add_done_callback(self._load_tasks.discard)
        if background:
            self._background_tasks.add(task)
            task.add_done_callback(self._background_tasks.discard)
        return flight

    async def _run_flight(self, flight: Flight, loader: Loader, freshness: Freshness) -> None:
        try:
            outcome = await self._produce(flight, loader, freshness)
        except asyncio.CancelledError:
            self._finish(
                flight, Outcome("error", error=CacheError(f"load of {flight.key!r} cancelled"))
            )
            raise
        except Exception as exc:  # a bug of ours: waiters must still wake
            log.exception("cache flight for %r failed", flight.key)
            outcome = Outcome("error", error=exc)
        self._finish(flight, outcome)
        if outcome.refresh and flight.key not in self._flights:
            self._start_flight(flight.key, loader, freshness, background=True)
        if outcome.written is not None and flight.store and self._backend is not None:
            await self._backend.set(flight.key, outcome.written)

    def _finish(self, flight: Flight, outcome: Outcome) -> None:
        if self._flights.get(flight.key) is flight:
            del self._flights[flight.key]
        if not flight.future.done():
            flight.future.set_result(outcome)

    async def _produce(self, flight: Flight, loader: Loader, freshness: Freshness) -> Outcome:
        key = flight.key
        counters = self._counters
        l2_stale: BackendEntry | None = None
        if self._backend is not None:
            got = await self._backend.get(key)
            if got is not None:
                now = self._clock.now()
                current = self._entries.get(key)
                if (current is None or got.stored_at > current.stored_at) and now < got.stale_until:
                    if now < got.fresh_until or not flight.background:
                        counters.backend_hits += 1
                        self._keep(flight, got, loader, freshness)
                        fresh = now < got.fresh_until
                        outcome = Outcome(
                            "backend" if fresh else "stale",
                            got.value,
                            got.stored_at,
                            got.stale_until,
                        )
                        outcome.refresh = not fresh  # served stale: refresh behind it
                        return outcome
                    l2_stale = got
        counters.loads += 1
        if flight.background:
            counters.refreshes += 1
            if flight.ahead:
                counters.refresh_ahead += 1
        try:
            raw = await self._call_loader(key, loader)
            if isinstance(raw, Loaded):
                value, freshness = raw.value, raw.freshness
            else:
                value = raw
            if not isinstance(value, bytes):
                raise TypeError(f"loader for {key!r} returned {type(value).__name__}, not bytes")
        except Exception as exc:
            counters.load_errors += 1
            self._report_load_error(key, exc)
            return self._fallback(flight, exc, l2_stale, loader, freshness)
        stored_at = self._clock.now()
        fresh_until, stale_until = windows(stored_at, freshness)
        loaded = BackendEntry(value, stored_at, fresh_until, stale_until)
        self._keep(flight, loaded, loader, freshness)
        outcome = Outcome("loaded", value, stored_at, stale_until)
        outcome.written = loaded
        return outcome

    async def _call_loader(self, key: str, loader: Loader) -> bytes | Loaded:
        if self._load_timeout is None:
            return await loader()
        inner = asyncio.ensure_future(loader())
        try:
            done = await wait_done(inner, self._clock, self._load_timeout)
        except asyncio.CancelledError:
            inner.cancel()
            raise
        if not done:
            inner.cancel()
            raise LoadTimeout(key, self._load_timeout)
        return inner.result()

    def _fallback(
        self,
        flight: Flight,
        error: Exception,
        l2_stale: BackendEntry | None,
        loader: Loader,
        freshness: Freshness,
    ) -> Outcome:
        """After a failed load: the stale value still in its window, else the error."""
        now = self._clock.now()
        entry = self._entries.get(flight.key)
        if flight.store and entry is not None:
            if now < entry.stale_until:
                entry.retry_at = now + self._error_backoff  # the window itself is never extended
                return Outcome("stale", entry.value, entry.stored_at, entry.stale_until, error)
            self._expire(entry)
        if flight.store and l2_stale is not None and now < l2_stale.stale_until:
            kept = self._keep(flight, l2_stale, loader, freshness)
            if kept is not None:
                kept.retry_at = now + self._error_backoff
            return Outcome("stale", l2_stale.value, l2_stale.stored_at, l2_stale.stale_until, error)
        return Outcome("error", error=error)

    def _keep(
        self, flight: Flight, got: BackendEntry, loader: Loader, freshness: Freshness
    ) -> Entry | None:
        """Put a loaded value in L1 (unless invalidated meanwhile) and schedule its upkeep."""
        if not flight.store:
            return None
        entry = self._store.put(
            flight.key, got.value, got.stored_at, got.fresh_until, got.stale_until
        )
        if entry is None:
            return None
        entry.loader = loader
        entry.freshness = freshness
        self._upkeep.scheduled(entry)
        return entry

    def _refresh(self, entry: Entry) -> asyncio.Task[None]:
        """Start a refresh-ahead load of `entry` (the upkeep checked it may run)."""
        assert entry.loader is not None
        assert entry.freshness is not None
        flight = self._start_flight(entry.key, entry.loader, entry.freshness, background=True)
        flight.ahead = True
        assert flight.task is not None
        return flight.task

    def _report_load_error(self, key: str, error: BaseException) -> None:
        log.debug("load of %r failed: %r", key, error)
        if self._on_load_error is not None:
            try:
                self._on_load_error(key, error)
            except Exception:
                log.exception("on_load_error hook failed")

    # ---- invalidation --------------------------------------------------------------------

    def invalidate(self, key: str) -> bool:
        """Drop `key` from L1 and L2 (a load in flight will not store it); whether L1 held it."""
        flight = self._flights.pop(key, None)
        if flight is not None:
            flight.store = False
        removed = self._store.remove(key) is not None
        self._counters.invalidations += removed
        if self._backend is not None:
            self._spawn(self._backend.delete(key))
        return removed

    def invalidate_prefix(self, prefix: str) -> int:
        """Drop every key starting with `prefix`; how many L1 held."""
        for key in [k for k in self._flights if k.startswith(prefix)]:
            self._flights.pop(key).store = False
        removed = self._store.remove_prefix(prefix)
        self._counters.invalidations += removed
        if self._backend is not None:
            self._spawn(self._backend.delete_prefix(prefix))
        return removed

    def clear(self) -> int:
        """Drop everything (L1, L2, loads in flight will not be stored); how many L1 held."""
        for flight in self._flights.values():
            flight.store = False
        self._flights.clear()
        removed = self._store.clear()
        self._upkeep.clear()
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
        """Start the background tasks (purge, and refresh-ahead when enabled)."""
        await self._upkeep.start()

    async def stop(self) -> None:
        """Stop the background tasks and background refreshes, and wait for them.

        Loads that callers wait on are left to finish (bounded by load_timeout).
        """
        await self._upkeep.stop()
        doomed = list(self._background_tasks)
        for task in doomed:
            task.cancel()
        side = list(self._side_tasks)
        await asyncio.gather(*doomed, *side, return_exceptions=True)

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
        c = self._counters
        store = self._store
        return CacheStats(
            lookups=c.lookups,
            hits=c.hits,
            stale_hits=c.stale_hits,
            misses=c.misses,
            coalesced=c.coalesced,
            loads=c.loads,
            load_errors=c.load_errors,
            refreshes=c.refreshes,
            refresh_ahead=c.refresh_ahead,
            evictions=store.evictions,
            expirations=c.expirations,
            invalidations=c.invalidations,
            rejected=store.rejected,
            timeouts=c.timeouts,
            waiters_refused=c.waiters_refused,
            backend_hits=c.backend_hits,
            backend_errors=c.backend_errors,
            backend_available=self._backend is not None and self._backend.available,
            in_flight=len(self._flights),
            entries=len(store),
            bytes=store.bytes,
            max_bytes=store.max_bytes,
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
