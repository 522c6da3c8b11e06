"""CacheOptions: defaults that make a working cache, and every bad value refused by name."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from marketcache.cache import Cache, CacheOptions


def test_the_defaults_build_a_cache() -> None:
    cache = Cache(CacheOptions(max_bytes=10_000))
    assert cache.options.max_bytes == 10_000
    assert cache.stats.max_bytes == 10_000
    assert Cache().options == CacheOptions()


def test_options_are_frozen() -> None:
    options = CacheOptions()
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.max_bytes = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"max_bytes": -1}, "max_bytes"),
        ({"eviction": "fifo"}, "eviction"),
        ({"max_entry_share": 0.0}, "max_entry_share"),
        ({"max_entry_share": 1.5}, "max_entry_share"),
        ({"wait_deadline": 0.0}, "wait_deadline"),
        ({"wait_deadline": float("nan")}, "wait_deadline"),
        ({"max_waiters": 0}, "max_waiters"),
        ({"load_timeout": 0.0}, "load_timeout"),
        ({"error_backoff": -1.0}, "error_backoff"),
        ({"hedge_factor": 0.5}, "hedge_factor"),
        ({"hedge_min": 0.0}, "hedge_min"),
        ({"demand_window": -1.0}, "demand_window"),
        ({"demand_keys": -1}, "demand_keys"),
        ({"stale_grace": -0.5}, "stale_grace"),
        ({"stale_wait": -1.0}, "stale_wait"),
        ({"refresh_at": 1.0}, "refresh_at"),
        ({"refresh_at": 0.0}, "refresh_at"),
        ({"refresh_tick": 0.0}, "refresh_tick"),
        ({"refresh_loads_per_s": 0.0}, "refresh_loads_per_s"),
        ({"refresh_concurrency": 0}, "refresh_concurrency"),
        ({"purge_interval": 0.0}, "purge_interval"),
        ({"backend_retry": 0.0}, "backend_retry"),
        ({"backend_retry_max": -1.0}, "backend_retry_max"),
        ({"lease_ttl": 0.0}, "lease_ttl"),
    ],
)
def test_a_bad_value_is_refused_with_its_name(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CacheOptions(**change)


def test_none_means_never_or_plain_swr() -> None:
    options = CacheOptions(load_timeout=None, stale_grace=None, backend_retry_max=None)
    assert options.load_timeout is None
    assert dataclasses.replace(options, stale_grace=2.0).stale_grace == 2.0
    with pytest.raises(ValueError, match="stale_grace"):
        dataclasses.replace(options, stale_grace=-1.0)
