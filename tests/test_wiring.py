"""wiring: the cache, backend and budget built from Settings, in one place."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from marketcache.cache import Freshness
from marketcache.cache.options import CacheOptions
from marketcache.cache.requester import acting_for
from marketcache.clock import ManualClock
from marketcache.config import Settings
from marketcache.errors import ClientRateLimited
from marketcache.wiring import build_backend, build_budget, build_cache, cache_options
from tests.fakes import FakeSource


def settings(**overrides: object) -> Settings:
    return Settings(_env_file=None, **overrides)  # type: ignore[call-arg]


def test_every_cache_setting_reaches_the_options() -> None:
    options = cache_options(
        settings(
            cache_max_memory_mb=2,
            cache_eviction="lru",
            cache_max_entry_share=0.5,
            cache_wait_deadline_s=4,
            cache_stale_grace=1.5,
            cache_stale_wait_s=0.5,
            cache_hedge_factor=3,
            cache_hedge_min_s=0.2,
            refresh_ahead=False,
            refresh_ahead_loads_per_s=7,
            refresh_ahead_concurrency=3,
            purge_interval_s=9,
            redis_retry_s=0.5,
            redis_retry_max_s=4,
            redis_lease_ttl_s=6,
        )
    )
    assert options == dataclasses.replace(
        CacheOptions(),
        max_bytes=2 * 1024 * 1024,
        eviction="lru",
        max_entry_share=0.5,
        wait_deadline=4.0,
        stale_grace=1.5,
        stale_wait=0.5,
        hedge_factor=3.0,
        hedge_min=0.2,
        refresh_ahead=False,
        refresh_loads_per_s=7.0,
        refresh_concurrency=3,
        purge_interval=9.0,
        backend_retry=0.5,
        backend_retry_max=4.0,
        lease_ttl=6.0,
    )


def test_a_hedge_factor_of_zero_means_never() -> None:
    assert cache_options(settings(cache_hedge_factor=0)).hedge_factor is None
    assert cache_options(settings()).hedge_factor == 4.0


def test_no_cache_builds_no_cache_and_no_backend() -> None:
    s = settings(no_cache=True, redis_url="redis://127.0.0.1:1/0")
    assert build_cache(s, ManualClock()) is None
    assert build_backend(s) is None


def test_the_cache_gets_its_options_and_clock() -> None:
    clock = ManualClock()
    s = settings(cache_max_memory_mb=1)
    cache = build_cache(s, clock)
    assert cache is not None
    assert cache.options == cache_options(s)
    assert build_backend(s) is None  # no REDIS_URL: L1 alone


def test_a_rate_budget_in_every_mode() -> None:
    clock = ManualClock()
    source = FakeSource(clock)
    local = build_budget(settings(client_cold_loads_per_min=30), clock, source, None)
    assert (local.limit, local.shared) == (6000, False)  # counted in process without Redis
    assert local.cold_loads is not None
    assert local.cold_loads.per_minute == 30
    uncached = build_budget(settings(no_cache=True), clock, source, None)
    assert uncached.cold_loads is None  # uncached, it only counts
    unlimited = build_budget(settings(client_cold_loads_per_min=0), clock, source, None)
    assert unlimited.cold_loads is None


async def test_the_budgets_see_only_loads_of_raw_series() -> None:
    clock = ManualClock()
    s = settings(client_cold_loads_per_min=1)
    budget = build_budget(s, clock, FakeSource(clock), None)
    cache = build_cache(s, clock, None, budget)
    assert cache is not None
    assert budget.cold_loads is not None

    async def load() -> bytes:
        return b"x"

    fresh = Freshness(2.0, 10.0)
    with acting_for("203.0.113.9"):
        await cache.get_or_load("answer:price:binance:A/USDT", load, fresh)
        await cache.get_or_load("ticker:binance:A/USDT", load, fresh)
        await cache.get_or_load("answer:price:binance:B/USDT", load, fresh)  # no upstream: free
        with pytest.raises(ClientRateLimited):
            await cache.get_or_load("ticker:binance:B/USDT", load, fresh)
    assert budget.cold_loads.to_dict()["admitted"] == 1
    await cache.stop()


def test_every_setting_is_in_env_example() -> None:
    listed = (Path(__file__).parents[1] / ".env.example").read_text()
    assert [name for name in Settings.model_fields if name.upper() not in listed] == []
