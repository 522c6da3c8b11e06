"""Admission: the budget's priorities under pressure, and each client's cold loads, on a
manual clock. A loader here costs the exchange 2 weight per call, as a klines call does."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from marketcache.cache import Cache, CacheOptions, Freshness
from marketcache.cache.admission import Demand, LoadRequest
from marketcache.cache.budget import RateBudget
from marketcache.cache.cold_loads import ColdLoadBudget
from marketcache.cache.requester import acting_for, current_requester
from marketcache.clock import ManualClock, settle
from marketcache.errors import ClientRateLimited, RateLimited

FR = Freshness(fresh=2.0, stale=30.0)
WEIGHT_PER_LOAD = 2


class Exchange:
    """Loaders that spend weight, and the weight total the budget reads."""

    def __init__(self) -> None:
        self.weight = 0
        self.calls: list[str] = []

    def total(self) -> int:
        return self.weight

    def loader(self, key: str) -> Callable[[], Awaitable[bytes]]:
        async def load() -> bytes:
            self.weight += WEIGHT_PER_LOAD
            self.calls.append(key)
            return key.encode()

        return load


def budgeted(
    clock: ManualClock, exchange: Exchange, *, limit: int = 1000, per_client: int = 20
) -> tuple[Cache, RateBudget]:
    cold = ColdLoadBudget(per_client, clock)
    budget = RateBudget(limit, clock=clock, weight_total=exchange.total, cold_loads=cold)
    cache = Cache(
        CacheOptions(refresh_ahead=False),
        clock=clock,
        admit=budget.admit,
        admit_cold=cold.admit,
    )
    return cache, budget


async def read(cache: Cache, exchange: Exchange, key: str, who: str | None) -> str:
    """One client read: its status, or the code of the error it got."""
    with acting_for(who):
        try:
            return (await cache.get_or_load(key, exchange.loader(key), FR)).status
        except RateLimited as exc:
            return exc.code


async def test_a_flood_of_distinct_keys_is_refused_past_the_clients_budget(
    clock: ManualClock,
) -> None:
    exchange = Exchange()
    cache, budget = budgeted(clock, exchange, per_client=20)
    assert await read(cache, exchange, "hot", "bob") == "miss"
    flood = await asyncio.gather(*(read(cache, exchange, f"k{i}", "mallory") for i in range(100)))
    assert flood.count("miss") == 20
    assert flood.count("client_rate_limited") == 80
    # the hot key, for anyone, and the other client's own cold loads are unaffected
    assert await read(cache, exchange, "hot", "bob") == "hit"
    assert await read(cache, exchange, "hot", "mallory") == "hit"
    assert await read(cache, exchange, "bob-new", "bob") == "miss"
    assert exchange.weight == (20 + 2) * WEIGHT_PER_LOAD
    assert exchange.weight < budget.limit
    assert len(exchange.calls) == 22  # nothing refused went upstream
    assert budget.to_dict()["client_cold_loads"] == {
        "per_minute": 20,
        "requesters": 2,
        "admitted": 22,
        "refused": 80,
    }
    await cache.stop()


async def test_the_refusal_says_when_to_retry_and_the_budget_refills(clock: ManualClock) -> None:
    exchange = Exchange()
    cache, _ = budgeted(clock, exchange, per_client=6)  # one cold load every 10 s
    for i in range(6):
        assert await read(cache, exchange, f"k{i}", "mallory") == "miss"
    with acting_for("mallory"), pytest.raises(ClientRateLimited) as refused:
        await cache.get_or_load("k6", exchange.loader("k6"), FR)
    assert refused.value.status == 429
    assert refused.value.retry_after == 10
    await clock.advance(10.0)
    assert await read(cache, exchange, "k6", "mallory") == "miss"
    assert await read(cache, exchange, "k7", "mallory") == "client_rate_limited"
    await cache.stop()


async def test_only_a_clients_own_cold_misses_count(clock: ManualClock) -> None:
    """Hits, coalesced waits, refreshes and requester-less work (warming) cost nothing."""
    exchange = Exchange()
    cache, budget = budgeted(clock, exchange, per_client=2)
    cold = budget.cold_loads
    assert cold is not None
    assert await read(cache, exchange, "warm", None) == "miss"  # warming: no requester
    held = asyncio.Event()

    async def slow() -> bytes:
        await held.wait()
        return b"slow"

    with acting_for("bob"):
        leader = asyncio.ensure_future(cache.get_or_load("shared", slow, FR))
    await settle()
    with acting_for("mallory"):
        waiter = asyncio.ensure_future(cache.get_or_load("shared", slow, FR))
    await settle()
    held.set()
    assert [(await leader).status, (await waiter).status] == ["miss", "coalesced"]
    await clock.advance(3.0)  # stale: mallory's read refreshes it behind her, for nobody
    assert await read(cache, exchange, "warm", "mallory") == "stale"
    await settle()
    assert await read(cache, exchange, "warm", "mallory") == "hit"
    assert exchange.calls == ["warm", "warm"]
    assert (cold.admitted, cold.refused) == (1, 0)  # bob's miss on "shared" alone
    await cache.stop()


async def test_under_pressure_keys_asked_twice_and_refreshes_come_first(
    clock: ManualClock,
) -> None:
    exchange = Exchange()
    cache, budget = budgeted(clock, exchange, limit=100, per_client=1000)
    assert await read(cache, exchange, "hot", "bob") == "miss"
    exchange.weight = 80  # past pause_at (0.8)
    await budget.tick()
    assert budget.paused
    assert await read(cache, exchange, "new", "mallory") == "rate_limited"  # a first ask
    assert await read(cache, exchange, "new", "alice") == "miss"  # asked for twice in 60 s
    await clock.advance(3.0)
    assert await read(cache, exchange, "hot", "bob") == "stale"  # its refresh is admitted
    await settle()
    assert await read(cache, exchange, "hot", "bob") == "hit"
    assert await read(cache, exchange, "other", "mallory") == "rate_limited"
    await clock.advance(61.0)
    exchange.weight += 80
    await budget.tick()  # the next minute is under pressure too
    assert budget.paused
    # its last miss was more than a minute ago: a first ask again
    assert await read(cache, exchange, "other", "mallory") == "rate_limited"
    await cache.stop()


async def test_callers_waiting_together_make_a_key_asked_twice(clock: ManualClock) -> None:
    exchange = Exchange()
    cache, budget = budgeted(clock, exchange, limit=100, per_client=1000)
    exchange.weight = 85
    await budget.tick()
    both = await asyncio.gather(read(cache, exchange, "k", "a"), read(cache, exchange, "k", "b"))
    assert both == ["miss", "coalesced"]
    await cache.stop()


async def test_a_load_made_for_another_inherits_its_demand_and_requester(
    clock: ManualClock,
) -> None:
    seen: list[LoadRequest] = []

    def record(request: LoadRequest) -> None:
        seen.append(request)

    cache = Cache(CacheOptions(refresh_ahead=False), clock=clock, admit=record)

    async def raw() -> bytes:
        assert current_requester() is None or current_requester() == "bob"
        return b"raw"

    async def answer() -> bytes:
        return (await cache.get_or_load("raw", raw, FR)).value + b"!"

    with acting_for("bob"):
        await cache.get_or_load("answer", answer, FR)
        await clock.advance(3.0)
        await cache.get_or_load("answer", answer, FR)  # stale: refreshed behind, for nobody
    await settle()
    first_answer, first_raw, refresh, raw_for_refresh = seen
    assert (first_answer.key, first_answer.requester, first_answer.in_demand) == (
        "answer",
        "bob",
        False,
    )
    assert (first_raw.key, first_raw.requester, first_raw.cold) == ("raw", "bob", True)
    assert (refresh.key, refresh.background, refresh.requester) == ("answer", True, None)
    assert raw_for_refresh.key == "raw"
    assert raw_for_refresh.background  # made for a refresh
    assert raw_for_refresh.in_demand
    assert raw_for_refresh.requester is None
    await cache.stop()


def test_demand_remembers_the_last_misses_within_its_window() -> None:
    demand = Demand(window=60.0, capacity=2)
    assert not demand.missed("a", 0.0)
    assert demand.missed("a", 59.0)
    assert not demand.missed("a", 120.0)  # 61 s after the last
    demand.missed("b", 121.0)
    demand.missed("c", 122.0)  # "a" is the oldest: forgotten
    assert len(demand) == 2
    assert not demand.missed("a", 123.0)
