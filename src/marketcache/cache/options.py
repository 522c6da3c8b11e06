"""`CacheOptions`: everything that tunes a `Cache`, frozen and checked once when built.

What is injected (clock, L2 backend, hooks) is not an option: it goes to the
`Cache` constructor beside the options. `marketcache.wiring.cache_options`
builds the options from `Settings`; tests write `CacheOptions(max_bytes=...)`
and keep the defaults for the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Eviction = Literal["lru", "sieve", "s3fifo"]
EVICTIONS: tuple[Eviction, ...] = ("lru", "sieve", "s3fifo")
MB = 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class CacheOptions:
    """How a cache is bounded, how long callers wait, and how it refreshes (all seconds)."""

    max_bytes: int = 128 * MB  # the L1 bound, as the store counts bytes
    eviction: Eviction = "sieve"
    max_entry_share: float = 0.1  # a value above this share of max_bytes is not stored
    wait_deadline: float = 10.0  # how long a caller waits for a load in flight
    max_waiters: int = 1000  # callers waiting on one key's load, beyond which they are refused
    load_timeout: float | None = 60.0  # a loader call is given up after this (None: never)
    # A load of a held key that takes hedge_factor × its kind's usual time (at least
    # hedge_min) gets a second attempt beside it (hedge.py). None: never.
    hedge_factor: float | None = None
    hedge_min: float = 0.5
    error_backoff: float = 1.0  # after a failed refresh, no background refresh of the key this long
    # Stale-while-revalidate grace, as a share of an entry's fresh window: past
    # fresh + grace × fresh, a read waits up to `stale_wait` for the reload. None:
    # every stale read is served at once (plain SWR).
    stale_grace: float | None = None
    stale_wait: float = 1.0
    refresh_ahead: bool = True  # reload keys read in their fresh window before it ends
    refresh_at: float = 0.85  # ... at this share of the fresh window
    refresh_tick: float = 0.1  # how often refresh-ahead looks at most
    refresh_loads_per_s: float = 5.0  # refresh-ahead's average rate ...
    refresh_concurrency: int = 4  # ... and how many at once
    purge_interval: float = 5.0  # how often entries past their stale window are dropped
    backend_retry: float = 5.0  # after an L2 failure, L1 alone this long, doubling per episode
    backend_retry_max: float | None = None  # ... up to this (None: no doubling)
    lease_ttl: float = 5.0  # a shared L2's load lease lapses after this if not kept alive
    demand_window: float = 60.0  # a key missed again within this is "asked for twice" ...
    demand_keys: int = 65536  # ... as long as it is among the last this many keys missed

    def __post_init__(self) -> None:
        _check(self.max_bytes >= 0, "max_bytes must be >= 0")
        _check(self.eviction in EVICTIONS, f"eviction must be one of {', '.join(EVICTIONS)}")
        _check(0 < self.max_entry_share <= 1, "max_entry_share must be in (0, 1]")
        _check(_positive(self.wait_deadline), "wait_deadline must be > 0")
        _check(self.max_waiters >= 1, "max_waiters must be >= 1")
        _check(
            self.load_timeout is None or _positive(self.load_timeout),
            "load_timeout must be > 0 (or None: never)",
        )
        _check(
            self.hedge_factor is None or self.hedge_factor >= 1,
            "hedge_factor must be >= 1 (or None: never)",
        )
        _check(_positive(self.hedge_min), "hedge_min must be > 0")
        _check(_non_negative(self.error_backoff), "error_backoff must be >= 0")
        _check(
            self.stale_grace is None or _non_negative(self.stale_grace),
            "stale_grace is a share of the fresh window, >= 0 (or None: plain SWR)",
        )
        _check(_non_negative(self.stale_wait), "stale_wait must be >= 0")
        _check(0 < self.refresh_at < 1, "refresh_at is a share of the fresh window, in (0, 1)")
        _check(_positive(self.refresh_tick), "refresh_tick must be > 0")
        _check(_positive(self.refresh_loads_per_s), "refresh_loads_per_s must be > 0")
        _check(self.refresh_concurrency >= 1, "refresh_concurrency must be >= 1")
        _check(_positive(self.purge_interval), "purge_interval must be > 0")
        _check(_positive(self.backend_retry), "backend_retry must be > 0")
        _check(
            self.backend_retry_max is None or _positive(self.backend_retry_max),
            "backend_retry_max must be > 0 (or None)",
        )
        _check(_positive(self.lease_ttl), "lease_ttl must be > 0")
        _check(_non_negative(self.demand_window), "demand_window must be >= 0")
        _check(self.demand_keys >= 0, "demand_keys must be >= 0")


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _positive(x: float) -> bool:
    return x > 0  # also rejects NaN


def _non_negative(x: float) -> bool:
    return x >= 0  # also rejects NaN
