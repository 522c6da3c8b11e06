"""Loads: one flight per key, L2 consulted first, stale-if-error fallback, results kept in L1.

With a shared L2 a flight also takes the key's lease before calling its loader
(see `lease.py`), so one replica loads while the others wait for its value; a
background refresh leaves the key to the replica that holds the lease.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import math
from collections.abc import Callable
from contextvars import ContextVar

from marketcache.cache.admission import AdmitHook
from marketcache.cache.backend import BackendEntry
from marketcache.cache.entry import Entry, Freshness, Loaded, Loader, windows
from marketcache.cache.flight import Flight, Outcome
from marketcache.cache.hedge import GaveUp, LoadTimes, run_hedged
from marketcache.cache.l2 import GuardedBackend
from marketcache.cache.lease import GAVE_UP, Lease, Leases
from marketcache.cache.requester import REQUESTER
from marketcache.cache.stats import Counters
from marketcache.cache.store import Store
from marketcache.clock import Clock
from marketcache.errors import CacheError, LoadTimeout

log = logging.getLogger(__name__)

LoadErrorHook = Callable[[str, BaseException], None]
_CURRENT_FLIGHT: ContextVar[Flight | None] = ContextVar("marketcache_flight", default=None)
"""The flight whose task runs now: a load started from inside it is made on its behalf."""


class Loads:
    """The loads in flight, by key, and what happens when each one ends.

    Each load runs in its own task and resolves its flight's future with an
    `Outcome` (never an exception), so waiters may give up or be cancelled
    without stopping it. A flight whose key is invalidated meanwhile hands its
    value to its waiters but stores nothing (`Flight.store`).
    """

    def __init__(
        self,
        clock: Clock,
        store: Store,
        counters: Counters,
        backend: GuardedBackend | None,
        *,
        leases: Leases | None = None,
        admit: AdmitHook | None = None,
        admit_cold: AdmitHook | None = None,
        load_timeout: float | None,
        hedge_factor: float | None = None,
        hedge_min: float = 0.5,
        error_backoff: float,
        on_load_error: LoadErrorHook | None,
    ) -> None:
        self._clock = clock
        self._store = store
        self._entries = store.entries
        self._counters = counters
        self._backend = backend
        self._leases = leases
        self._admit = admit
        self._admit_cold = admit_cold
        self._load_timeout = load_timeout
        self._hedge_factor = hedge_factor
        self._hedge_min = hedge_min
        self._times = LoadTimes()
        self._error_backoff = error_backoff
        self._on_load_error = on_load_error
        self._on_stored: Callable[[Entry], None] = lambda entry: None
        self.flights: dict[str, Flight] = {}
        self._load_tasks: set[asyncio.Task[None]] = set()
        self.background_tasks: set[asyncio.Task[None]] = set()

    def on_stored(self, hook: Callable[[Entry], None]) -> None:
        """Call `hook` with every entry a load puts in L1 (the upkeep schedules it)."""
        self._on_stored = hook

    def stored(self, entry: Entry) -> None:
        """An entry was put in L1 from elsewhere (fan-out): schedule its upkeep."""
        self._on_stored(entry)

    def expire(self, entry: Entry) -> None:
        """Drop an entry past its stale window."""
        self._store.remove(entry.key)
        self._counters.expirations += 1

    def start(
        self,
        key: str,
        loader: Loader,
        freshness: Freshness,
        *,
        background: bool,
        demanded: bool = False,
    ) -> Flight:
        """Start the load of `key` (there is no flight for it yet).

        A background load runs for nobody: the requester of the read that started
        it is not charged for it, nor for the loads it makes.
        """
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        if background:
            context.run(REQUESTER.set, None)
        flight = Flight(
            key,
            loop.create_future(),
            background,
            self._clock.now(),
            demanded=demanded,
            parent=_CURRENT_FLIGHT.get(),
            requester=context.run(REQUESTER.get),
        )
        self.flights[key] = flight
        task = loop.create_task(self._run_flight(flight, loader, freshness), context=context)
        flight.task = task
        self._load_tasks.add(task)
        task.add_done_callback(self._load_tasks.discard)
        if background:
            self.background_tasks.add(task)
            task.add_done_callback(self.background_tasks.discard)
        return flight

    async def _run_flight(self, flight: Flight, loader: Loader, freshness: Freshness) -> None:
        _CURRENT_FLIGHT.set(flight)  # this task's context only
        try:
            try:
                outcome = await self._produce(flight, loader, freshness)
            except asyncio.CancelledError:
                error = CacheError(f"load of {flight.key!r} cancelled")
                self._finish(flight, Outcome("error", error=error))
                raise
            except Exception as exc:  # a bug of ours: waiters must still wake
                log.exception("cache flight for %r failed", flight.key)
                outcome = Outcome("error", error=exc)
            self._finish(flight, outcome)
            if outcome.refresh and flight.key not in self.flights:
                self.start(flight.key, loader, freshness, background=True)
            if outcome.written is not None and flight.store and self._backend is not None:
                await self._backend.set(flight.key, outcome.written)  # and tell the others
        finally:
            if flight.lease is not None and self._leases is not None:
                await self._leases.release(flight.lease)  # after the write: waiters find it

    def _finish(self, flight: Flight, outcome: Outcome) -> None:
        if self.flights.get(flight.key) is flight:
            del self.flights[flight.key]
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
        if self._leases is not None:
            settled = await self._claim(flight, l2_stale, loader, freshness)
            if settled is not None:
                return settled
        refused = self._admission(flight)
        if refused is not None:
            counters.loads_refused += 1
            return self._fallback(flight, refused, l2_stale, loader, freshness)
        counters.loads += 1
        if flight.background:
            counters.refreshes += 1
            if flight.ahead:
                counters.refresh_ahead += 1
        try:
            raw = await self._call_loader(flight, loader)
            as_of: float | None = None
            if isinstance(raw, Loaded):
                value, freshness, as_of = raw.value, raw.freshness, raw.as_of
            else:
                value = raw
            if not isinstance(value, bytes):
                raise TypeError(f"loader for {key!r} returned {type(value).__name__}, not bytes")
        except Exception as exc:
            counters.load_errors += 1
            self._report_load_error(key, exc)
            return self._fallback(flight, exc, l2_stale, loader, freshness)
        now = self._clock.now()
        stored_at = now if as_of is None else min(as_of, now)
        fresh_until, stale_until = windows(stored_at, freshness)
        loaded = BackendEntry(value, stored_at, fresh_until, stale_until)
        self._keep(flight, loaded, loader, freshness)
        outcome = Outcome("loaded", value, stored_at, stale_until)
        outcome.written = loaded
        return outcome

    def _admission(self, flight: Flight) -> Exception | None:
        """Ask the admit hooks about the loader call `flight` is about to make: None, or
        the refusal. The cold-load hook hears only of loads a client waits for with
        nothing of the key servable in L1 (not of hits, coalesced waits or refreshes)."""
        if self._admit is None and self._admit_cold is None:
            return None
        key = flight.key
        entry = self._entries.get(key)
        cold = entry is None or self._clock.now() >= entry.stale_until
        request = flight.request(cold=cold)
        if self._admit is not None and (refused := self._admit(request)) is not None:
            return refused
        if (
            self._admit_cold is not None
            and request.requester is not None
            and request.cold
            and not request.background
        ):
            return self._admit_cold(request)
        return None

    async def _claim(
        self,
        flight: Flight,
        l2_stale: BackendEntry | None,
        loader: Loader,
        freshness: Freshness,
    ) -> Outcome | None:
        """Take the key's lease (then None: load), or settle the flight without loading.

        A background refresh with something still servable does not wait for
        another replica's load: it serves what it has and lets that load's
        fan-out update L1.
        """
        assert self._leases is not None
        key = flight.key
        now = self._clock.now()
        current = self._entries.get(key)
        servable: BackendEntry | None = None
        if flight.store and current is not None and now < current.stale_until:
            servable = BackendEntry(
                current.value, current.stored_at, current.fresh_until, current.stale_until
            )
        elif flight.store and l2_stale is not None and now < l2_stale.stale_until:
            servable = l2_stale
        newer_than = current.stored_at if flight.store and current is not None else -math.inf
        claim = await self._leases.claim(
            key, wait=not (flight.background and servable), newer_than=newer_than
        )
        if claim is GAVE_UP:
            assert servable is not None
            kept = self._keep(flight, servable, loader, freshness) if servable is l2_stale else None
            entry = kept or self._entries.get(key)
            if entry is not None:
                entry.retry_at = self._clock.now() + self._error_backoff
            return Outcome("stale", servable.value, servable.stored_at, servable.stale_until)
        if isinstance(claim, Lease):
            flight.lease = claim
            return None
        if claim is None:
            return None  # L2 unusable: load on our own
        self._keep(flight, claim, loader, freshness)
        return Outcome("remote", claim.value, claim.stored_at, claim.stale_until)

    async def _call_loader(self, flight: Flight, loader: Loader) -> bytes | Loaded:
        """The loader's value, hedged when the key is held and the call is slow (hedge.py)."""
        key = flight.key
        try:
            value, seconds = await run_hedged(
                loader,
                self._clock,
                give_up_after=self._load_timeout,
                hedge_after=self._hedge_after(flight),
                may_hedge=lambda: self._may_hedge(flight),
            )
        except GaveUp:
            assert self._load_timeout is not None
            raise LoadTimeout(key, self._load_timeout) from None
        self._times.record(key, seconds)
        return value

    def _hedge_after(self, flight: Flight) -> float | None:
        """When a load of a held key gets a second attempt; None: never (cold, or unknown)."""
        if self._hedge_factor is None or flight.key not in self._entries:
            return None
        typical = self._times.typical(flight.key)
        if typical is None:
            return None
        return max(self._hedge_min, self._hedge_factor * typical)

    def _may_hedge(self, flight: Flight) -> bool:
        """Whether the second attempt may go (the rate budget is asked again)."""
        if self._admit is not None and self._admit(flight.request(cold=False)) is not None:
            return False
        self._counters.hedges += 1
        return True

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
            self.expire(entry)
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
        if not flight.store or got.stale_until <= self._clock.now():
            return None  # invalidated meanwhile, or not servable even once
        entry = self._store.put(
            flight.key, got.value, got.stored_at, got.fresh_until, got.stale_until
        )
        if entry is None:
            return None
        entry.loader = loader
        entry.freshness = freshness
        self._on_stored(entry)
        return entry

    def refresh_ahead(self, entry: Entry) -> asyncio.Task[None]:
        """Start a refresh-ahead load of `entry` (the upkeep checked that it may run)."""
        assert entry.loader is not None
        assert entry.freshness is not None
        flight = self.start(entry.key, entry.loader, entry.freshness, background=True)
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

    def forget(self, key: str) -> None:
        """The key was invalidated: its flight, if any, goes on but stores nothing."""
        flight = self.flights.pop(key, None)
        if flight is not None:
            flight.store = False

    def forget_prefix(self, prefix: str) -> None:
        """Every key starting with `prefix` was invalidated."""
        for key in [k for k in self.flights if k.startswith(prefix)]:
            self.forget(key)

    def forget_all(self) -> None:
        """The cache was cleared."""
        for flight in self.flights.values():
            flight.store = False
        self.flights.clear()
