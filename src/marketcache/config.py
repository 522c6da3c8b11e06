"""Settings, read from the environment and `.env` (pydantic-settings).

`load_settings` is how commands read them: a bad value, or a `.env` line that is not
`KEY=VALUE`, raises `SettingsError` with one line per problem naming the setting, the
value and what is allowed (the CLI prints those lines and exits 2, no traceback).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Self, get_args, get_origin

import annotated_types
from dotenv.parser import parse_stream
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_PORT = 8001
SERVICE_URL = f"http://localhost:{DEFAULT_PORT}"  # every client command's default --url
BINANCE_LATENCY_MS = 150.0  # Binance-like exchange latency: `serve --offline`, `bench`
BINANCE_JITTER_MS = 50.0
OFFLINE_EXCHANGE = "binance"  # the only exchange the built-in emulator emulates


class Settings(BaseSettings):
    """Every setting of the service; each one is also an environment variable."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_prefix="")

    # serving
    host: str = Field("127.0.0.1", description="address to listen on")
    port: int = Field(DEFAULT_PORT, ge=0, le=65535, description="port to listen on")
    http_read_timeout_s: float = Field(
        10.0, gt=0, description="a request must arrive whole within this (slow clients cut off)"
    )
    max_connections: int = Field(4096, gt=0, description="open connections in all")
    max_connections_per_client: int = Field(
        1024, gt=0, description="open connections per client address (TRUSTED_PROXIES exempt)"
    )
    max_in_flight: int = Field(
        1024, gt=0, description="requests being served at once; past it a fast 503"
    )
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"

    # the exchange
    exchange: str = Field("binance", description="ccxt exchange id")
    exchange_url: str | None = Field(None, description="re-point every REST URL at this host")
    exchange_timeout_s: float = Field(10.0, gt=0)
    exchange_weight_limit: int = Field(6000, gt=0, description="request weight per minute")
    client_cold_loads_per_min: int = Field(
        600, ge=0, description="loads of uncached keys one client may cause a minute (0: no limit)"
    )
    offline: bool = Field(False, description="start the emulator and use it as the exchange")
    offline_fallback: bool = Field(
        False, description="if the exchange cannot be reached at start-up, serve the emulator"
    )
    emulator_latency_ms: float = Field(
        BINANCE_LATENCY_MS, ge=0, description="with offline: the emulator's added latency"
    )
    emulator_jitter_ms: float = Field(BINANCE_JITTER_MS, ge=0, description="± on that latency")

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
    markets_fresh_s: float = Field(3600.0, gt=0, description="the list of markets (/markets)")
    markets_stale_s: float = Field(86400.0, ge=0)
    refresh_ahead: bool = True
    refresh_ahead_loads_per_s: float = Field(5.0, gt=0)
    refresh_ahead_concurrency: int = Field(4, gt=0)
    purge_interval_s: float = Field(5.0, gt=0)
    fast_path: bool = Field(True, description="serve cache hits before FastAPI routing")
    gc_freeze: bool = Field(
        True, description="`marketcache serve`: keep the start-up heap out of garbage collections"
    )
    batch_max_symbols: int = Field(
        50, ge=1, le=100, description="symbols one POST /prices may ask for (100 at most)"
    )

    # the process
    memory_limit_mb: float = Field(
        512.0, gt=0, description="the process's memory limit when no cgroup limit applies"
    )

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

    # upstream websocket streams (ccxt.pro) for hot markets
    streams: bool = Field(False, description="keep hot markets fresh by the exchange's streams")
    streams_reads_per_min: int = Field(
        30, ge=1, description="reads per minute of a market's series that open its stream"
    )
    streams_quiet_s: float = Field(120.0, gt=0, description="unsubscribed after no read this long")
    streams_max: int = Field(50, ge=1, description="series streamed at most by one replica")
    streams_stall_s: float = Field(
        5.0, gt=0, description="no message this long: REST at once, then reconnect"
    )
    streams_retry_s: float = Field(1.0, gt=0, description="first pause before reconnecting")
    streams_retry_max_s: float = Field(30.0, gt=0, description="the pause doubles up to this")
    streams_down_alert_s: float = Field(
        30.0, gt=0, description="a stream down this long raises an alert"
    )
    streams_connections: int = Field(
        4, ge=1, description="websocket connections the streams are spread over"
    )
    streams_per_connection: int = Field(
        200, ge=1, le=1024, description="streams one connection carries (Binance: 1024)"
    )
    streams_sent_per_s: float = Field(
        4.0, gt=0, le=5, description="messages we send per second (Binance: 5)"
    )
    streams_connects_per_5min: int = Field(
        250, ge=1, le=300, description="new connections per 5 minutes (Binance: 300)"
    )

    # admin
    admin_token: str | None = None
    trusted_proxies: str = Field(
        "",
        description="comma-separated proxy addresses whose X-Forwarded-For names the client "
        "(for logs and per-client budgets); none by default",
    )

    # browsers
    cors_origins: str = Field(
        "", description="comma-separated origins allowed by CORS (`*` for any); none by default"
    )

    # client subscriptions (WebSocket /ws, Server-Sent Events /subscribe/{endpoint})
    subscriptions: bool = Field(True, description="serve subscriptions (they need the cache)")
    subscribe_interval_s: float = Field(
        0.25, gt=0, le=60, description="how often each subscribed answer is read for a change"
    )
    subscribe_max_per_connection: int = Field(
        50, ge=1, le=10_000, description="subscriptions one connection may hold"
    )
    subscribe_max_connections_per_client: int = Field(
        20, ge=1, description="subscription connections (WebSocket and SSE) per client address"
    )
    subscribe_max_keys: int = Field(
        1000, ge=1, description="distinct answers watched at once, over all clients"
    )
    subscribe_max_backlog: int = Field(
        64,
        ge=1,
        description="updates a connection may fall behind (superseded or queued) before it "
        "is cut off",
    )
    subscribe_heartbeat_s: float = Field(
        15.0, gt=0, description="an SSE comment line this often keeps idle streams open"
    )

    @property
    def cors_origin_list(self) -> list[str]:
        """`CORS_ORIGINS` as a list."""
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @property
    def trusted_proxy_list(self) -> list[str]:
        """`TRUSTED_PROXIES` as a list."""
        return [p.strip() for p in self.trusted_proxies.split(",") if p.strip()]

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_any_case(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _offline_emulates_binance_only(self) -> Self:
        if self.offline and self.exchange != OFFLINE_EXCHANGE:
            raise ValueError(
                f"--offline (OFFLINE=true) emulates {OFFLINE_EXCHANGE} only, not "
                f"EXCHANGE={self.exchange!r}: drop --offline to use {self.exchange}, "
                f"or set EXCHANGE={OFFLINE_EXCHANGE}"
            )
        return self

    @property
    def cache_max_bytes(self) -> int:
        """The L1 bound in bytes."""
        return int(self.cache_max_memory_mb * 1024 * 1024)


class SettingsError(ValueError):
    """Settings that cannot be served with; `lines` says each problem in one line."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("; ".join(lines))
        self.lines = lines


def load_settings(
    overrides: Mapping[str, Any] | None = None, *, options: Mapping[str, str] | None = None
) -> Settings:
    """Settings from the environment, `.env` and `overrides` (which win).

    `options` names the command-line option each override came from, for the messages.
    Raises `SettingsError` rather than pydantic's `ValidationError`.
    """
    env_file = Path(str(Settings.model_config.get("env_file") or ".env"))
    dotenv = _read_env_file(env_file)
    try:
        return Settings(**(overrides or {}))
    except ValidationError as exc:
        lines = [_explain(error, options or {}, dotenv, env_file) for error in exc.errors()]
        raise SettingsError(lines) from None


def _read_env_file(path: Path) -> dict[str, int]:
    """The names a `.env` file sets, with their line numbers; `SettingsError` on a bad line."""
    if not path.is_file():
        return {}
    names: dict[str, int] = {}
    bad: list[str] = []
    with path.open(encoding="utf-8") as stream:
        for binding in parse_stream(stream):
            line = binding.original.line
            text = binding.original.string.strip()
            if binding.error or (binding.key is not None and binding.value is None):
                bad.append(f"{path} line {line} is not KEY=VALUE: {text!r}")
            elif binding.key is not None:
                names[binding.key.lower()] = line
    if bad:
        raise SettingsError(bad)
    return names


def _explain(
    error: Mapping[str, Any], options: Mapping[str, str], dotenv: Mapping[str, int], env_file: Path
) -> str:
    """One line for one validation error: the setting, its value, what is allowed."""
    loc = error.get("loc") or ()
    name = str(loc[0]) if loc else ""
    if name not in Settings.model_fields:  # a rule across settings: its message says it all
        return str(error.get("msg", "invalid settings")).removeprefix("Value error, ")
    value = error.get("input")
    if name in options:
        where = f"{options[name]} {value!r}"
    else:
        where = f"{name.upper()}={value!r}"
        in_environment = any(key.lower() == name for key in os.environ)
        if not in_environment and name in dotenv:
            where += f" ({env_file} line {dotenv[name]})"
    expected = allowed(name)
    return f"{where}: must be {expected}" if expected else f"{where}: {error.get('msg')}"


_BOUNDS = (
    (annotated_types.Gt, "gt", ">"),
    (annotated_types.Ge, "ge", ">="),
    (annotated_types.Lt, "lt", "<"),
    (annotated_types.Le, "le", "<="),
)


def allowed(name: str) -> str:
    """What setting `name` accepts, in words, from its declaration (empty if nothing to say)."""
    field = Settings.model_fields[name]
    annotation = field.annotation
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(str(choice) for choice in get_args(annotation))
    if annotation is bool:
        return "true or false"
    kinds = {int: "an integer", float: "a number"}
    if annotation not in kinds:
        return ""
    bounds = [
        f"{symbol} {getattr(rule, attribute):g}"
        for rule in field.metadata
        for kind, attribute, symbol in _BOUNDS
        if isinstance(rule, kind)
    ]
    return " ".join([kinds[annotation], " and ".join(bounds)]).strip()
