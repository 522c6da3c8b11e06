"""The one status of /health and /cache/health: can the service serve, and from what."""

from __future__ import annotations

import pytest

from marketcache.cache import Cache, CacheOptions
from marketcache.cache.entry import Freshness
from marketcache.clock import ManualClock
from marketcache.monitoring.serving import Servable, servable_entries, serving_health


def test_the_exchange_answering_is_healthy_whatever_the_cache() -> None:
    state = serving_health(reachable=True, failing=False, cache_enabled=True, servable=None)
    assert (state.status, state.reasons, state.http_status) == ("healthy", [], 200)


@pytest.mark.parametrize(
    ("cache_enabled", "servable", "reasons"),
    [
        (True, Servable(), ["exchange unreachable", "nothing servable in the cache"]),
        (True, Servable(5, 0, 0), ["exchange unreachable", "nothing servable in the cache"]),
        (False, None, ["exchange unreachable", "no cache"]),
    ],
)
def test_unreachable_with_nothing_servable_is_unhealthy(
    cache_enabled: bool, servable: Servable | None, reasons: list[str]
) -> None:
    state = serving_health(
        reachable=False, failing=False, cache_enabled=cache_enabled, servable=servable
    )
    assert (state.status, state.reasons, state.http_status) == ("unhealthy", reasons, 503)


def test_unreachable_while_serving_stale_copies_is_degraded() -> None:
    state = serving_health(
        reachable=False, failing=True, cache_enabled=True, servable=Servable(20, 12, 12)
    )
    assert (state.status, state.http_status) == ("degraded", 200)
    assert state.reasons == ["exchange unreachable", "serving 12 stale entries"]
    assert state.to_dict()["entries"] == {"entries": 20, "servable": 12, "stale": 12}


def test_unreachable_with_fresh_copies_left_is_degraded() -> None:
    state = serving_health(
        reachable=False, failing=False, cache_enabled=True, servable=Servable(3, 3, 0)
    )
    assert state.status == "degraded"
    assert state.reasons == ["exchange unreachable", "serving 3 fresh entries"]


def test_a_failing_exchange_that_answers_pings_is_degraded_not_unhealthy() -> None:
    state = serving_health(reachable=True, failing=True, cache_enabled=True, servable=Servable())
    assert state.status == "degraded"
    assert state.reasons == ["exchange failing", "nothing servable in the cache"]


async def test_servable_entries_counts_market_entries_by_window_without_changing_them() -> None:
    clock = ManualClock(start=1000.0)
    cache = Cache(CacheOptions(max_bytes=1 << 20, refresh_ahead=False), clock=clock)

    async def load() -> bytes:
        return b"x"

    await cache.get_or_load("ticker:binance:BTC/USDT", load, Freshness(2, 30))
    await cache.get_or_load("answer:price:binance:BTC/USDT", load, Freshness(2, 30))
    await cache.get_or_load("ohlcv:binance:BTC/USDT:15m", load, Freshness(5, 120))
    await cache.get_or_load("markets:binance", load, Freshness(3600, 86400))  # not a market
    await cache.get_or_load("answer:markets:binance|USDT", load, Freshness(3600, 86400))  # nor
    assert servable_entries(cache, clock.now()) == Servable(3, 3, 0)
    assert servable_entries(cache, 1010.0) == Servable(3, 3, 3)  # all past fresh, within stale
    assert servable_entries(cache, 1040.0) == Servable(3, 1, 1)  # only the candles' window left
    assert servable_entries(cache, 1200.0) == Servable(3, 0, 0)
    assert servable_entries(None, 1000.0) == Servable()
    before = cache.stats
    servable_entries(cache, 1010.0)
    assert cache.stats.lookups == before.lookups
    assert len(cache) == 5
