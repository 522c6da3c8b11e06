"""L2 back-off: the pause doubles once per failure episode, not once per failed call."""

from __future__ import annotations

import asyncio

from marketcache.cache import BackendEntry, MemoryBackend
from marketcache.cache.l2 import GuardedBackend
from marketcache.cache.stats import Counters
from marketcache.clock import ManualClock, settle


class StallingBackend(MemoryBackend):
    """Calls hang until `fail_all` (as Redis calls do until their timeout), then raise."""

    def __init__(self, clock: ManualClock) -> None:
        super().__init__(clock)
        self.down = True
        self._gate = asyncio.Event()

    def fail_all(self) -> None:
        self._gate.set()

    async def get(self, key: str) -> BackendEntry | None:
        if self.down:
            await self._gate.wait()
            self._gate.clear()
            raise ConnectionError("timed out")
        return await super().get(key)


def guard(clock: ManualClock, backend: MemoryBackend, reported: list[str]) -> GuardedBackend:
    return GuardedBackend(
        backend, clock, Counters(), 1.0, lambda op, exc: reported.append(op), retry_max=10.0
    )


async def fail_together(guarded: GuardedBackend, backend: StallingBackend, calls: int) -> None:
    """`calls` gets under way at once, then all failing at the same moment."""
    gets = [asyncio.ensure_future(guarded.get(f"k{i}")) for i in range(calls)]
    await settle()
    backend.fail_all()
    assert await asyncio.gather(*gets) == [None] * calls  # never raised to the caller


STEP = 1 / 64  # exact in binary: the clock's sums stay exact


async def paused_for(guarded: GuardedBackend, clock: ManualClock) -> float:
    """How long the backend stays paused from now, to STEP."""
    waited = 0.0
    while not guarded.available:
        await clock.advance(STEP)
        waited += STEP
    return waited


async def test_concurrent_failures_pause_once_and_the_pause_doubles_per_episode(
    clock: ManualClock,
) -> None:
    backend = StallingBackend(clock)
    reported: list[str] = []
    guarded = guard(clock, backend, reported)
    await fail_together(guarded, backend, 20)
    assert len(reported) == 20  # every failure is counted and reported ...
    assert await paused_for(guarded, clock) == 1.0  # ... but the first pause stays 1 s
    pauses = []
    for _ in range(5):  # each later episode (calls failing together again) doubles it once
        await fail_together(guarded, backend, 5)
        pauses.append(await paused_for(guarded, clock))
    assert pauses == [2.0, 4.0, 8.0, 10.0, 10.0]


async def test_a_success_ends_the_back_off(clock: ManualClock) -> None:
    backend = StallingBackend(clock)
    guarded = guard(clock, backend, [])
    await fail_together(guarded, backend, 3)
    await paused_for(guarded, clock)
    await fail_together(guarded, backend, 3)
    assert await paused_for(guarded, clock) == 2.0
    backend.down = False
    assert await guarded.get("k") is None  # answered: healthy again
    assert guarded.healthy
    backend.down = True
    await fail_together(guarded, backend, 3)
    assert await paused_for(guarded, clock) == 1.0


async def test_a_channel_failure_during_a_pause_does_not_extend_it(clock: ManualClock) -> None:
    backend = StallingBackend(clock)
    guarded = guard(clock, backend, [])
    await fail_together(guarded, backend, 2)
    await clock.advance(0.5)
    guarded.failed("subscribe", ConnectionError("channel lost"))  # mid-pause
    assert await paused_for(guarded, clock) == 0.5
    guarded.failed("subscribe", ConnectionError("reconnect failed"))  # after it: a new episode
    assert await paused_for(guarded, clock) == 2.0
