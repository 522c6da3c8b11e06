"""wiring: the cache, backend and budget built from Settings, in one place."""

from __future__ import annotations

import dataclasses

from marketcache.cache.options import CacheOptions
from marketcache.clock import ManualClock
from marketcache.config import Settings
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
        refresh_ahead=False,
        refresh_loads_per_s=7.0,
        refresh_concurrency=3,
        purge_interval=9.0,
        backend_retry=0.5,
        backend_retry_max=4.0,
        lease_ttl=6.0,
    )


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
    assert build_budget(s, clock, FakeSource(clock), None) is None
