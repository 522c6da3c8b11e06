"""The exchange's rate budget (request weight per minute), in process or for every replica.

Without a shared L2 the process counts the weight it spent upstream; with one,
each replica adds its weight to a counter of the current minute in L2 (INCRBY
on a key that expires with its window) and reads back the total of all
replicas (while L2 is down, it counts its own alone). As the total fills the
budget, what nobody is waiting for gives way first. From `pause_at` on:
refresh-ahead pauses, warming waits, and a key's first ask (a load not in
demand, see admission.py) is refused, while refreshes of keys clients read and
loads of keys asked for twice go on; at the limit no load goes upstream at all,
so a request is served stale when it can (otherwise a 429 with the seconds left
in the minute). Each client's own cold loads are bounded apart (cold_loads.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from marketcache.cache.admission import LoadRequest
from marketcache.cache.backend import SharedBackend
from marketcache.cache.cold_loads import ColdLoadBudget
from marketcache.cache.stats import TaskState
from marketcache.clock import Clock
from marketcache.errors import RateLimited
from marketcache.tasks import stop_requested, stop_tasks

log = logging.getLogger(__name__)


class RateBudget:
    """Weight spent this minute by all replicas, and what may still go upstream."""

    def __init__(
        self,
        limit: int,
        *,
        clock: Clock,
        weight_total: Callable[[], int],
        backend: SharedBackend | None = None,
        pause_at: float = 0.8,
        window: float = 60.0,
        interval: float = 0.25,
        on_pause: Callable[[bool], None] | None = None,
        cold_loads: ColdLoadBudget | None = None,
    ) -> None:
        if limit <= 0 or not 0 < pause_at <= 1 or window <= 0 or interval <= 0:
            raise ValueError("limit, window and interval must be > 0, pause_at in (0, 1]")
        self.limit = limit
        self.pause_at = pause_at
        self.window = window
        self.interval = interval
        self._clock = clock
        self._weight_total = weight_total
        self._backend = backend
        self._on_pause = on_pause
        self.cold_loads = cold_loads  # each client's share, kept here to be reported with it
        self._window_id = self._window_of(clock.now())
        self._counted = weight_total()  # weight already added to the counter
        self.used = 0  # all replicas, this window, as last known
        self.shared = backend is not None  # False while L2 does not answer
        self.paused = False
        self.refused = 0
        self.state = TaskState()
        self._task: asyncio.Task[None] | None = None

    def on_pause(self, hook: Callable[[bool], None]) -> None:
        """Call `hook(paused)` whenever background loads pause or resume."""
        self._on_pause = hook

    def _window_of(self, now: float) -> int:
        return int(now // self.window)

    def spent(self) -> int:
        """Weight spent this window as known now (the last total plus ours since)."""
        return self.used + self._weight_total() - self._counted

    @property
    def fill(self) -> float:
        """The share of the budget spent this window (0..1+)."""
        return self.spent() / self.limit

    def seconds_left(self) -> float:
        """Seconds until the current window ends."""
        return (self._window_id + 1) * self.window - self._clock.now()

    def admit(self, request: LoadRequest) -> Exception | None:
        """The cache's admit hook: past `pause_at`, only refreshes of keys being read and
        loads in demand; at the limit, nothing."""
        fill = self.fill
        if fill >= 1.0 or (fill >= self.pause_at and not self._has_priority(request)):
            self.refused += 1
            return RateLimited(
                "exchange rate budget spent for this minute",
                retry_after=round(max(self.seconds_left(), 0.0), 1) or None,
            )
        return None

    @staticmethod
    def _has_priority(request: LoadRequest) -> bool:
        """A refresh a read asked for, or a load asked for twice (not refresh-ahead)."""
        return not request.ahead and (request.background or request.in_demand)

    async def room(self) -> None:
        """Wait while the budget is past `pause_at` (warming calls this before each symbol)."""
        while self.fill >= self.pause_at:
            await self._clock.sleep(min(self.interval, max(self.seconds_left(), 0.01)))
            await self.tick()

    async def tick(self) -> None:
        """Add our weight since the last tick to the shared counter and read the total."""
        now = self._clock.now()
        window_id = self._window_of(now)
        total = self._weight_total()
        delta = total - self._counted
        self._counted = total
        if window_id != self._window_id:
            self._window_id, self.used = window_id, 0
        if self._backend is None:
            self.used += delta
        else:
            try:
                self.used = await self._backend.incr(f"budget:{window_id}", delta, 2 * self.window)
                self.shared = True
            except Exception as exc:  # L2 down: count our own weight until it returns
                if self.shared:
                    log.warning("rate budget counted locally: L2 failed (%s)", exc)
                self.shared = False
                self.used += delta
        paused = self.fill >= self.pause_at
        if paused != self.paused:
            self.paused = paused
            log.info(
                "exchange rate budget %s: %d/%d this minute",
                "filling, background loads paused" if paused else "has room again",
                self.spent(),
                self.limit,
            )
            if self._on_pause is not None:
                self._on_pause(paused)

    async def start(self) -> None:
        """Start counting every `interval` seconds (idempotent)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="rate-budget")
            self.state.running = True

    async def stop(self) -> None:
        """Stop counting."""
        task, self._task = self._task, None
        await stop_tasks(task)
        self.state.running = False

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception as exc:
                log.exception("rate budget tick failed")
                self.state.record(self._clock.now(), exc)
            else:
                self.state.record(self._clock.now())
            if stop_requested():  # the cancel was lost in redis-py's reconnect
                return
            await self._clock.sleep(self.interval)

    def to_dict(self) -> dict[str, object]:
        """The budget as health reports show it."""
        return {
            "limit": self.limit,
            "used": self.spent(),
            "fill_percent": round(self.fill * 100, 2),
            "pause_at_percent": round(self.pause_at * 100, 2),
            "paused": self.paused,
            "shared": self.shared,
            "refused": self.refused,
            "seconds_left": round(max(self.seconds_left(), 0.0), 1),
            "client_cold_loads": None if self.cold_loads is None else self.cold_loads.to_dict(),
        }
