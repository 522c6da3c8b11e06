"""Hedged loads: a refresh stuck far beyond its kind's usual time gets a second attempt, so a
hung exchange call does not keep a hot key stale while the exchange answers other calls."""

from __future__ import annotations

import asyncio

import pytest

from marketcache.cache import Cache, CacheOptions, Freshness
from marketcache.cache.admission import LoadRequest
from marketcache.cache.hedge import LoadTimes
from marketcache.clock import ManualClock, settle
from marketcache.errors import RateLimited

FR = Freshness(fresh=2.0, stale=30.0)
HEDGED = CacheOptions(refresh_ahead=False, hedge_factor=4.0, hedge_min=0.5)


class Exchange:
    """A loader whose next call can be made to hang (until cancelled), or to take a while."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.calls = 0
        self.hang_next = False
        self.takes = 0.0  # seconds of the clock each call takes
        self.hung: list[asyncio.Future[None]] = []

    async def __call__(self) -> bytes:
        self.calls += 1
        if self.hang_next:
            self.hang_next = False
            never: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self.hung.append(never)
            await never
        if self.takes:
            await self.clock.sleep(self.takes)
        return b"v%d" % self.calls


async def test_a_hung_refresh_is_hedged_and_the_hot_key_is_fresh_again(
    clock: ManualClock,
) -> None:
    cache = Cache(HEDGED, clock=clock)
    exchange = Exchange(clock)
    await cache.get_or_load("ticker:x", exchange, FR)  # usual time: instant (0 s)
    await clock.advance(2.5)
    exchange.hang_next = True
    assert (await cache.get_or_load("ticker:x", exchange, FR)).status == "stale"
    await settle()
    assert exchange.calls == 2  # the refresh hangs
    await clock.advance(0.4)
    assert (await cache.get_or_load("ticker:x", exchange, FR)).status == "stale"
    await clock.advance(0.1)  # 0.5 s (hedge_min) into the refresh: a second attempt
    assert exchange.calls == 3
    got = await cache.get_or_load("ticker:x", exchange, FR)
    assert (got.status, got.value) == ("hit", b"v3")
    assert exchange.hung[0].cancelled()  # the hung call is abandoned
    assert cache.stats.hedges == 1
    await cache.stop()


async def test_the_hedge_waits_for_a_multiple_of_the_usual_time(clock: ManualClock) -> None:
    cache = Cache(HEDGED, clock=clock)
    exchange = Exchange(clock)
    exchange.takes = 1.0  # this kind of load usually takes 1 s: hedge after 4 s
    first = asyncio.ensure_future(cache.get_or_load("ohlcv:x", exchange, FR))
    await settle()
    await clock.advance(1.0)
    await first
    await clock.advance(2.5)
    exchange.hang_next = True
    assert (await cache.get_or_load("ohlcv:x", exchange, FR)).status == "stale"
    await settle()
    await clock.advance(3.9)
    assert exchange.calls == 2  # slow, but not far beyond the usual yet
    await clock.advance(0.1)
    assert exchange.calls == 3
    await clock.advance(1.0)
    assert (await cache.get_or_load("ohlcv:x", exchange, FR)).status == "hit"
    await cache.stop()


async def test_cold_loads_and_refused_hedges_are_not_hedged(clock: ManualClock) -> None:
    refusing = {"on": False}

    def admit(request: LoadRequest) -> Exception | None:
        return RateLimited("spent") if refusing["on"] else None

    cache = Cache(HEDGED, clock=clock, admit=admit)
    exchange = Exchange(clock)
    await cache.get_or_load("ticker:x", exchange, FR)
    exchange.hang_next = True
    cold = asyncio.ensure_future(cache.get_or_load("ticker:y", exchange, FR, deadline=60.0))
    await settle()
    await clock.advance(5.0)
    assert exchange.calls == 2  # nothing held of "ticker:y": one attempt only
    cold.cancel()
    await clock.advance(2.5)  # "ticker:x" stale
    exchange.hang_next = True
    assert (await cache.get_or_load("ticker:x", exchange, FR)).status == "stale"
    await settle()
    refusing["on"] = True
    await clock.advance(5.0)
    assert exchange.calls == 3  # the hedge would go over the budget: none
    assert cache.stats.hedges == 0
    await cache.stop()


async def test_without_a_hedge_factor_a_slow_load_is_left_alone(clock: ManualClock) -> None:
    cache = Cache(CacheOptions(refresh_ahead=False), clock=clock)
    exchange = Exchange(clock)
    await cache.get_or_load("ticker:x", exchange, FR)
    await clock.advance(2.5)
    exchange.hang_next = True
    await cache.get_or_load("ticker:x", exchange, FR)
    await clock.advance(10.0)
    assert exchange.calls == 2
    await cache.stop()


def test_load_times_average_per_key_family() -> None:
    times = LoadTimes()
    assert times.typical("ticker:a") is None
    times.record("ticker:a", 1.0)
    times.record("ticker:b", 2.0)  # same family
    assert times.typical("ticker:c") == 1.2
    assert times.typical("ohlcv:a") is None


async def test_a_loaders_own_timeout_error_is_its_failure_not_the_caches(
    clock: ManualClock,
) -> None:
    cache = Cache(HEDGED, clock=clock)

    async def times_out() -> bytes:
        raise TimeoutError("the exchange's own")

    with pytest.raises(TimeoutError, match="the exchange's own"):
        await cache.get_or_load("ticker:x", times_out, FR)
    await cache.stop()


async def test_a_load_no_attempt_answers_gives_up_at_load_timeout(clock: ManualClock) -> None:
    options = CacheOptions(refresh_ahead=False, hedge_factor=4.0, hedge_min=0.5, load_timeout=3.0)
    cache = Cache(options, clock=clock)
    exchange = Exchange(clock)
    await cache.get_or_load("ticker:x", exchange, FR)
    await clock.advance(2.5)
    exchange.hang_next = True
    assert (await cache.get_or_load("ticker:x", exchange, FR)).status == "stale"
    await settle()
    exchange.hang_next = True  # the hedge hangs too
    await clock.advance(0.5)
    assert exchange.calls == 3
    await clock.advance(2.5)  # 3 s into the refresh: both attempts given up
    assert [f.cancelled() for f in exchange.hung] == [True, True]
    assert cache.stats.load_errors == 1
    assert (await cache.get_or_load("ticker:x", exchange, FR)).status == "stale"
    await cache.stop()
