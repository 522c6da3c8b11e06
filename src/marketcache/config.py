"""Settings, read from the environment and `.env` (pydantic-settings)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting of the service; each one is also an environment variable."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_prefix="")

    # serving
    host: str = Field("127.0.0.1", description="address to listen on")
    port: int = Field(8001, ge=0, le=65535, description="port to listen on")
    log_format: Literal["text", "json"] = "text"
    log_level: str = "info"

    # the exchange
    exchange: str = Field("binance", description="ccxt exchange id")
    exchange_url: str | None = Field(None, description="re-point every REST URL at this host")
    exchange_timeout_s: float = Field(10.0, gt=0)
    exchange_weight_limit: int = Field(6000, gt=0, description="request weight per minute")
    client_cold_loads_per_min: int = Field(
        120, ge=0, description="loads of uncached keys one client may cause a minute (0: no limit)"
    )
    offline: bool = Field(False, description="start the emulator and use it as the exchange")
    emulator_latency_ms: float = Field(0.0, ge=0)
    emulator_jitter_ms: float = Field(0.0, ge=0)

    # the cache
    no_cache: bool = Field(False, description="the original service: every request upstream")
    cache_max_memory_mb: float = Field(128.0, gt=0)
    cache_eviction: Literal["lru", "sieve", "s3fifo"] = "sieve"
    cache_max_entry_share: float = Field(0.1, gt=0, le=1)
    cache_wait_deadline_s: float = Field(10.0, gt=0)
    cache_stale_grace: float = Field(
        3.0, ge=0, description="stale served at once until fresh + this share of fresh"
    )
    cache_stale_wait_s: float = Field(
        1.0, ge=0, description="past the grace, how long a read waits for the reload"
    )
    cache_hedge_factor: float = Field(
        4.0, ge=0, description="a held key's load this many times slower than usual is hedged"
    )
    cache_hedge_min_s: float = Field(0.5, gt=0, description="... and never before this")
    ticker_fresh_s: float = Field(2.0, gt=0)
    ticker_stale_s: float = Field(30.0, ge=0)
    klines_live_fresh_s: float = Field(5.0, gt=0)
    klines_stale_s: float = Field(120.0, ge=0)
    trades_fresh_s: float = Field(2.0, gt=0)
    trades_stale_s: float = Field(30.0, ge=0)
    refresh_ahead: bool = True
    refresh_ahead_loads_per_s: float = Field(5.0, gt=0)
    refresh_ahead_concurrency: int = Field(4, gt=0)
    purge_interval_s: float = Field(5.0, gt=0)
    fast_path: bool = Field(True, description="serve cache hits before FastAPI routing")

    # L2
    redis_url: str | None = None
    redis_prefix: str = "marketcache"
    redis_timeout_ms: float = Field(50.0, gt=0, description="every Redis call, then L1 alone")
    redis_lease_ttl_s: float = Field(
        5.0, gt=0, description="a dead loader's lease lapses after this (kept alive while loading)"
    )
    redis_retry_s: float = Field(1.0, gt=0, description="first pause after a Redis failure")
    redis_retry_max_s: float = Field(10.0, gt=0, description="the pause doubles up to this")
    budget_pause_at: float = Field(
        0.8, gt=0, le=1, description="share of EXCHANGE_WEIGHT_LIMIT where background loads wait"
    )

    # admin
    admin_token: str | None = None

    @property
    def cache_max_bytes(self) -> int:
        """The L1 bound in bytes."""
        return int(self.cache_max_memory_mb * 1024 * 1024)
