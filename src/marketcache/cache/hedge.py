"""Hedged loads: a loader call that takes far longer than its kind usually does gets a second
attempt beside it, and the first to succeed wins (the other is cancelled).

A hung exchange call would otherwise hold a hot key's refresh for the whole
upstream timeout while clients get older and older copies; with a hedge the key
is fresh again a moment after the exchange answers the second call. How long a
load usually takes is tracked per key family (the key up to its first `:`), as
a moving average of successful calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from marketcache.cache.entry import Loaded, Loader
from marketcache.cache.waiting import wait_done
from marketcache.clock import Clock

SMOOTHING = 0.2  # weight of the newest duration in the moving average


class GaveUp(Exception):
    """No attempt answered within the time given (distinct from a loader's own TimeoutError)."""


class LoadTimes:
    """The typical duration of a successful loader call, per key family."""

    def __init__(self) -> None:
        self._average: dict[str, float] = {}

    @staticmethod
    def family(key: str) -> str:
        """The part of `key` before its first `:` (the whole key without one)."""
        return key.partition(":")[0]

    def record(self, key: str, seconds: float) -> None:
        """Note that a load of `key` took `seconds`."""
        family = self.family(key)
        average = self._average.get(family)
        self._average[family] = (
            seconds if average is None else average + SMOOTHING * (seconds - average)
        )

    def typical(self, key: str) -> float | None:
        """How long a load of `key`'s family usually takes, or None before the first."""
        return self._average.get(self.family(key))


class _Race:
    """Attempts of one load; `future` gets the first success, or the last failure."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.future: asyncio.Future[tuple[bytes | Loaded, float]] = (
            asyncio.get_running_loop().create_future()
        )
        self._attempts: list[asyncio.Future[bytes | Loaded]] = []

    def add(self, loader: Loader) -> None:
        started = self._clock.now()
        attempt = asyncio.ensure_future(loader())
        self._attempts.append(attempt)
        attempt.add_done_callback(lambda done: self._done(done, started))

    def _done(self, attempt: asyncio.Future[bytes | Loaded], started: float) -> None:
        if self.future.done() or attempt.cancelled():
            return
        error = attempt.exception()
        if error is None:
            self.future.set_result((attempt.result(), self._clock.now() - started))
        elif all(a.done() for a in self._attempts):
            self.future.set_exception(error)

    def cancel(self) -> None:
        for attempt in self._attempts:
            attempt.cancel()


async def run_hedged(
    loader: Loader,
    clock: Clock,
    *,
    give_up_after: float | None,
    hedge_after: float | None,
    may_hedge: Callable[[], bool],
) -> tuple[bytes | Loaded, float]:
    """The loader's value and how long its winning attempt took.

    After `hedge_after` seconds without an answer, a second attempt starts if
    `may_hedge()`; the first success wins. Raises the failure when every attempt
    failed, GaveUp when `give_up_after` passes first; attempts still running at
    the end are cancelled.
    """
    race = _Race(clock)
    race.add(loader)
    try:
        waited = 0.0
        if hedge_after is not None and (give_up_after is None or hedge_after < give_up_after):
            if not await wait_done(race.future, clock, hedge_after) and may_hedge():
                race.add(loader)
            waited = hedge_after
        if give_up_after is None:
            return await race.future
        if not await wait_done(race.future, clock, give_up_after - waited):
            raise GaveUp
        return race.future.result()
    finally:
        race.cancel()
