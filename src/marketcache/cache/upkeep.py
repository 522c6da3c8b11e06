"""Background upkeep: purge of expired entries and refresh-ahead of keys being read."""

from __future__ import annotations

import asyncio
import heapq
import logging
import math
from collections.abc import Callable, Iterable

from marketcache.cache.bucket import TokenBucket
from marketcache.cache.entry import Entry
from marketcache.cache.flight import Flight
from marketcache.cache.stats import TaskState
from marketcache.clock import Clock
from marketcache.tasks import stop_tasks

log = logging.getLogger(__name__)


class Timetable:
    """Keys by the time something is due for them (a heap; stale items are skipped by callers)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, str]] = []

    def __len__(self) -> int:
        return len(self._heap)

    def add(self, at: float, key: str) -> None:
        """Note that `key` is due at `at` (infinite times are not kept)."""
        if at < math.inf:
            heapq.heappush(self._heap, (at, key))

    def next_at(self) -> float:
        """The earliest due time, or infinity."""
        return self._heap[0][0] if self._heap else math.inf

    def peek(self) -> tuple[float, str]:
        """The earliest item (the timetable is not empty)."""
        return self._heap[0]

    def pop(self) -> tuple[float, str]:
        """Remove and return the earliest item."""
        return heapq.heappop(self._heap)

    def rebuild(self, items: Iterable[tuple[float, str]]) -> None:
        """Replace the content (drops the items of replaced or removed entries)."""
        self._heap = [item for item in items if item[0] < math.inf]
        heapq.heapify(self._heap)

    def clear(self) -> None:
        """Forget everything."""
        self._heap.clear()


class Upkeep:
    """The cache's background tasks: `purge` (entries past their stale window) and
    `refresh_ahead` (keys read during their fresh window, reloaded before it ends,
    at most `concurrency` at once and `loads_per_s` on average).
    """

    def __init__(
        self,
        clock: Clock,
        entries: dict[str, Entry],
        flights: dict[str, Flight],
        *,
        expire: Callable[[Entry], None],
        refresh: Callable[[Entry], asyncio.Task[None]],
        purge_interval: float,
        refresh_ahead: bool,
        refresh_at: float,
        refresh_tick: float,
        loads_per_s: float,
        concurrency: int,
    ) -> None:
        self._clock = clock
        self._entries = entries
        self._flights = flights
        self._expire = expire
        self._refresh = refresh
        self.purge_interval = purge_interval
        self.refresh_ahead = refresh_ahead
        self.paused = False
        self.refresh_at = refresh_at
        self._tick = refresh_tick
        self._budget = TokenBucket(loads_per_s)
        self._concurrency = concurrency
        self._running_ahead = 0
        self.expiry = Timetable()  # keys by end of stale window
        self.due = Timetable()  # keys by refresh-ahead time
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._states = {"purge": TaskState(), "refresh_ahead": TaskState()}

    # ---- scheduling ----------------------------------------------------------------------

    def scheduled(self, entry: Entry) -> None:
        """Note a newly stored value: when it expires, and when to refresh it ahead."""
        self.expiry.add(entry.stale_until, entry.key)
        if self.refresh_ahead and entry.loader is not None and entry.fresh_until > entry.stored_at:
            self.due.add(self.refresh_time(entry), entry.key)
        limit = 2 * len(self._entries) + 1024
        if len(self.expiry) > limit or len(self.due) > limit:
            self._compact()

    def refresh_time(self, entry: Entry) -> float:
        """When refresh-ahead reloads `entry` (a share of its fresh window after its load)."""
        return entry.stored_at + self.refresh_at * (entry.fresh_until - entry.stored_at)

    def _compact(self) -> None:
        entries = self._entries.values()
        self.expiry.rebuild((e.stale_until, e.key) for e in entries)
        if self.refresh_ahead:
            self.due.rebuild((self.refresh_time(e), e.key) for e in entries if e.loader)

    def clear(self) -> None:
        """Forget every schedule (the store was cleared)."""
        self.expiry.clear()
        self.due.clear()

    # ---- the work ------------------------------------------------------------------------

    def purge(self, now: float) -> int:
        """Drop the entries whose stale window has ended; how many."""
        purged = 0
        while self.expiry.next_at() <= now:
            _, key = self.expiry.pop()
            entry = self._entries.get(key)
            if entry is not None and now >= entry.stale_until:
                self._expire(entry)
                purged += 1
        return purged

    def refresh_due(self, now: float) -> float:
        """Start the refreshes that are due and allowed; seconds until the next look."""
        due = self.due
        while due.next_at() <= now:
            if self._running_ahead >= self._concurrency:
                return self._tick
            _, key = due.peek()
            entry = self._entries.get(key)
            if (
                entry is None
                or not entry.read_fresh  # nobody read it this window: let it go stale
                or now >= entry.fresh_until  # too late: the next read refreshes it
                or now < self.refresh_time(entry)  # an item of an older value of the key
                or key in self._flights
                or entry.loader is None
                or self.paused
                or not self.refresh_ahead
            ):
                due.pop()
                continue
            if not self._budget.take(now):
                return min(self._tick, max(self._budget.wait_time(), 1e-3))
            due.pop()
            self._running_ahead += 1
            self._refresh(entry).add_done_callback(self._ahead_done)
        return min(self._tick, due.next_at() - now)

    def _ahead_done(self, _task: asyncio.Task[None]) -> None:
        self._running_ahead -= 1

    # ---- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Start the tasks (idempotent)."""
        if self._tasks:
            return
        loop = asyncio.get_running_loop()
        self._tasks["purge"] = loop.create_task(self._purge_loop(), name="cache-purge")
        if self.refresh_ahead:
            self._tasks["refresh_ahead"] = loop.create_task(
                self._refresh_loop(), name="cache-refresh-ahead"
            )
        for name, task in self._tasks.items():
            self._states[name].running = True
            task.add_done_callback(self._stopped)

    def _stopped(self, task: asyncio.Task[None]) -> None:
        for name, mine in self._tasks.items():
            if mine is task:
                self._states[name].running = False

    async def stop(self) -> None:
        """Cancel the tasks and wait for them."""
        await stop_tasks(*self._tasks.values())
        for name in self._tasks:
            self._states[name].running = False
        self._tasks.clear()

    def states(self) -> dict[str, TaskState]:
        """A copy of each task's state."""
        return {
            name: TaskState(s.running, s.runs, s.last_run, s.last_error, s.errors)
            for name, s in self._states.items()
        }

    async def _purge_loop(self) -> None:
        state = self._states["purge"]
        while True:
            await self._clock.sleep(self.purge_interval)
            now = self._clock.now()
            try:
                self.purge(now)
            except Exception as exc:
                log.exception("cache purge failed")
                state.record(now, exc)
            else:
                state.record(now)

    async def _refresh_loop(self) -> None:
        state = self._states["refresh_ahead"]
        while True:
            now = self._clock.now()
            try:
                wait = self.refresh_due(now)
            except Exception as exc:
                log.exception("cache refresh-ahead failed")
                state.record(now, exc)
                wait = self._tick
            else:
                state.record(now)
            await self._clock.sleep(wait)
