"""Wiring: the cache, its L2 backend and the exchange's rate budget, built from `Settings`.

The one place where settings become cache objects: the app's lifespan (and
anything else that serves) calls these and injects the results.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from marketcache.cache import Cache
from marketcache.cache.admission import AdmitHook, LoadRequest
from marketcache.cache.budget import RateBudget
from marketcache.cache.cold_loads import ColdLoadBudget
from marketcache.cache.options import CacheOptions
from marketcache.clock import Clock
from marketcache.config import Settings
from marketcache.keys import RAW_KINDS
from marketcache.sources.base import Source

if TYPE_CHECKING:
    from marketcache.cache.redis import RedisBackend


def cache_options(settings: Settings) -> CacheOptions:
    """The cache's options as the settings ask for them."""
    return CacheOptions(
        max_bytes=settings.cache_max_bytes,
        eviction=settings.cache_eviction,
        max_entry_share=settings.cache_max_entry_share,
        wait_deadline=settings.cache_wait_deadline_s,
        stale_grace=settings.cache_stale_grace,
        stale_wait=settings.cache_stale_wait_s,
        hedge_factor=settings.cache_hedge_factor or None,
        hedge_min=settings.cache_hedge_min_s,
        refresh_ahead=settings.refresh_ahead,
        refresh_loads_per_s=settings.refresh_ahead_loads_per_s,
        refresh_concurrency=settings.refresh_ahead_concurrency,
        purge_interval=settings.purge_interval_s,
        backend_retry=settings.redis_retry_s,
        backend_retry_max=settings.redis_retry_max_s,
        lease_ttl=settings.redis_lease_ttl_s,
    )


def build_backend(settings: Settings) -> RedisBackend | None:
    """Redis as L2 when REDIS_URL is set (and the cache is on); otherwise L1 alone."""
    if settings.no_cache or not settings.redis_url:
        return None
    from marketcache.cache.redis import RedisBackend  # only this path needs redis

    return RedisBackend(
        settings.redis_url,
        prefix=settings.redis_prefix,
        timeout=settings.redis_timeout_ms / 1000,
        reconnect_max=settings.redis_retry_max_s,
    )


def build_budget(
    settings: Settings, clock: Clock, source: Source, backend: RedisBackend | None
) -> RateBudget:
    """The exchange's rate budget: counted in process, or for all replicas with Redis; with
    the cache on, each client's cold loads per minute too (uncached, it only counts)."""
    per_client = settings.client_cold_loads_per_min
    return RateBudget(
        settings.exchange_weight_limit,
        clock=clock,
        weight_total=lambda: source.stats.total_weight,
        backend=backend,
        pause_at=settings.budget_pause_at,
        cold_loads=ColdLoadBudget(per_client, clock)
        if per_client and not settings.no_cache
        else None,
    )


def upstream_only(hook: AdmitHook) -> AdmitHook:
    """`hook`, asked only about loads of raw series (the exchange's data, `keys.RAW_KINDS`):
    an answer computed from cached series costs the exchange nothing."""

    def admit(request: LoadRequest) -> Exception | None:
        if request.key.partition(":")[0] not in RAW_KINDS:
            return None
        return hook(request)

    return admit


def build_cache(
    settings: Settings,
    clock: Clock,
    backend: RedisBackend | None = None,
    budget: RateBudget | None = None,
) -> Cache | None:
    """The cache the settings ask for, or None for the original, uncached service."""
    if settings.no_cache:
        return None
    cold_loads = budget.cold_loads if budget is not None else None
    cache = Cache(
        cache_options(settings),
        clock=clock,
        backend=backend,
        admit=upstream_only(budget.admit) if budget is not None else None,
        admit_cold=upstream_only(cold_loads.admit) if cold_loads is not None else None,
    )
    if budget is not None:
        budget.on_pause(lambda paused: setattr(cache, "refresh_paused", paused))
    return cache
