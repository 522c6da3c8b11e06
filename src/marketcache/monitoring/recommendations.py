"""Advice derived from what was observed: each piece with its evidence and the setting to change.

The rules look at a span of history (the last hour, by default) plus the cache
now. Each needs enough evidence to speak (a minimum of lookups, reads or
observed time), so a healthy, warmed cache gets an empty list. Causes the
counters cannot tell apart exactly are named as the most likely one and the
numbers are given, so an operator can judge.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from marketcache.cache.stats import CacheStats
from marketcache.config import Settings
from marketcache.keys import RAW_KINDS
from marketcache.monitoring.history import Rows
from marketcache.monitoring.trends import hit_rate, percent

Severity = Literal["info", "warning", "critical"]

HIT_RATE_TARGET = 0.80  # the checklist's success criterion
MIN_LOOKUPS = 100
MIN_READS = 50
EVICTION_SHARE_OF_MISSES = 0.10  # evictions this common among misses: the bound is too small
FULL = 0.80  # the cache counts as full from this share of its bound
LOADS_PER_READ = 0.8  # a kind loaded this often per read gains little from its cache
OVERSIZED_AFTER_MINUTES = 60.0
OVERSIZED_SHARE = 0.10
MIN_BOUND_MB = 16.0
BUDGET_WARNING = 0.80
BUDGET_CRITICAL = 0.95
WARM_MIN_COLD = 5
WARM_MIN_COLD_SHARE = 0.2
WARM_TOP = 5
CAUSE_SHARE = 0.3
MB = 1024 * 1024

FRESH_SETTING = {
    "ticker": ("TICKER_FRESH_S", "ticker_fresh_s"),
    "ohlcv": ("KLINES_LIVE_FRESH_S", "klines_live_fresh_s"),
    "trades": ("TRADES_FRESH_S", "trades_fresh_s"),
}
STALE_SETTING = {"ticker": "TICKER_STALE_S", "ohlcv": "KLINES_STALE_S", "trades": "TRADES_STALE_S"}


@dataclass(frozen=True, slots=True)
class Recommendation:
    """One piece of advice."""

    id: str
    severity: Severity
    message: str
    evidence: dict[str, Any]
    setting: str | None
    suggested: Any = None

    def to_dict(self) -> dict[str, Any]:
        """As the API shows it."""
        return {
            "id": self.id,
            "severity": self.severity,
            "message": self.message,
            "evidence": self.evidence,
            "setting": self.setting,
            "suggested": self.suggested,
        }


@dataclass(frozen=True, slots=True)
class Observed:
    """What the advice is drawn from."""

    rows: Rows  # the span looked at, oldest first
    observed_minutes: float  # how long the history goes back
    cache: CacheStats | None  # the cache now (None: the uncached service)
    cold_by_symbol: Mapping[str, tuple[int, int]] = field(default_factory=dict)  # (answers, cold)


def _mb(n: float) -> float:
    return round(n / MB, 3)


def _nice_mb(mb: float) -> float:
    """A bound worth typing: whole MB from 10 MB up, tenths below."""
    return float(math.ceil(mb)) if mb >= 10 else math.ceil(mb * 10) / 10


def memory_too_small(obs: Observed, settings: Settings) -> Recommendation | None:
    """Entries evicted while misses are common: hot keys do not fit."""
    rows, cache = obs.rows, obs.cache
    if cache is None:
        return None
    evictions, misses = rows.total("evictions"), rows.total("misses")
    peak_fraction = max(rows.peak("cache_bytes"), cache.bytes) / cache.max_bytes
    if (
        rows.total("lookups") < MIN_LOOKUPS
        or evictions == 0
        or evictions < EVICTION_SHARE_OF_MISSES * misses
        or peak_fraction < FULL
    ):
        return None
    rate = hit_rate(rows)
    suggested = _nice_mb(settings.cache_max_memory_mb * 2)
    return Recommendation(
        "memory_too_small",
        "warning",
        f"{int(evictions)} entries were evicted while {int(misses)} lookups missed: the cache is "
        f"full and re-loads what it evicted; raise CACHE_MAX_MEMORY_MB "
        f"from {settings.cache_max_memory_mb} to {suggested} and watch evictions",
        {
            "evictions": int(evictions),
            "misses": int(misses),
            "lookups": int(rows.total("lookups")),
            "hit_rate": percent(rate),
            "cache_fill_percent": percent(peak_fraction),
            "entries": cache.entries,
            "cache_max_memory_mb": settings.cache_max_memory_mb,
        },
        "CACHE_MAX_MEMORY_MB",
        suggested,
    )


def memory_too_large(obs: Observed, settings: Settings) -> Recommendation | None:
    """A bound far above what an hour or more of traffic ever used."""
    rows, cache = obs.rows, obs.cache
    if cache is None or obs.observed_minutes < OVERSIZED_AFTER_MINUTES:
        return None
    if settings.cache_max_memory_mb <= MIN_BOUND_MB or rows.total("evictions") > 0:
        return None
    peak = max(rows.peak("cache_bytes"), cache.bytes)
    if peak >= OVERSIZED_SHARE * cache.max_bytes:
        return None
    suggested = _nice_mb(max(MIN_BOUND_MB, peak * 4 / MB))
    return Recommendation(
        "memory_too_large",
        "info",
        f"the cache never used more than {_mb(peak)} MB of its {settings.cache_max_memory_mb} MB "
        f"in {round(obs.observed_minutes)} minutes; CACHE_MAX_MEMORY_MB={suggested} would still "
        "leave four times the peak",
        {
            "peak_cache_mb": _mb(peak),
            "peak_usage_percent": percent(peak / cache.max_bytes),
            "observed_minutes": round(obs.observed_minutes, 1),
            "evictions": 0,
            "cache_max_memory_mb": settings.cache_max_memory_mb,
        },
        "CACHE_MAX_MEMORY_MB",
        suggested,
    )


def entries_rejected(obs: Observed, settings: Settings) -> Recommendation | None:
    """Values too large for one entry's share of the bound are never cached."""
    rejected = obs.rows.total("rejected")
    if obs.cache is None or rejected == 0:
        return None
    limit = settings.cache_max_entry_share * settings.cache_max_memory_mb
    return Recommendation(
        "entries_rejected",
        "warning",
        f"{int(rejected)} values were too large to cache (over {round(limit, 3)} MB, "
        "CACHE_MAX_ENTRY_SHARE of the bound): every read of them goes to the exchange",
        {
            "rejected": int(rejected),
            "max_entry_mb": round(limit, 3),
            "cache_max_entry_share": settings.cache_max_entry_share,
            "cache_max_memory_mb": settings.cache_max_memory_mb,
        },
        "CACHE_MAX_MEMORY_MB",
        _nice_mb(settings.cache_max_memory_mb * 2),
    )


def freshness(obs: Observed, settings: Settings) -> list[Recommendation]:
    """Per data kind: loaded from the exchange nearly as often as read, or more."""
    out: list[Recommendation] = []
    if obs.cache is None:
        return out
    for kind in RAW_KINDS:
        reads, loads = obs.rows.total(f"reads_{kind}"), obs.rows.total(f"calls_{kind}")
        if reads < MIN_READS or loads < LOADS_PER_READ * reads:
            continue
        env, field_name = FRESH_SETTING[kind]
        current = float(getattr(settings, field_name))
        per_read = loads / reads
        if per_read > 1:
            why = "refreshed more often than it is read (refresh-ahead spends budget on it)"
        else:
            why = "reads are further apart than its fresh window, so most of them reload it"
        out.append(
            Recommendation(
                f"freshness_{kind}",
                "warning" if per_read > 1 else "info",
                f"{kind} data is loaded {round(per_read, 2)} times per read: {why}; a longer "
                f"{env} (now {current} s) would answer more reads from the cache, if the data "
                "may be that old",
                {
                    "reads": int(reads),
                    "loads": int(loads),
                    "loads_per_read": round(per_read, 3),
                    "fresh_s": current,
                    "refresh_ahead": settings.refresh_ahead,
                },
                env,
                round(current * 2, 3),
            )
        )
    return out


def warm_symbols(obs: Observed, settings: Settings) -> Recommendation | None:
    """The symbols whose answers most often had to wait for the exchange."""
    if obs.cache is None:
        return None
    candidates = [
        (cold, answers, symbol)
        for symbol, (answers, cold) in obs.cold_by_symbol.items()
        if cold >= WARM_MIN_COLD and cold >= WARM_MIN_COLD_SHARE * answers
    ]
    if not candidates:
        return None
    top = sorted(candidates, key=lambda c: (-c[0], c[2]))[:WARM_TOP]
    symbols = [symbol for _, _, symbol in top]
    return Recommendation(
        "warm_symbols",
        "info",
        f"{', '.join(symbols)} often miss the cache; warm them at start "
        "(POST /cache/warm) so their first readers do not wait for the exchange",
        {"cold_answers": {symbol: {"answers": a, "cold": c} for c, a, symbol in top}},
        "POST /cache/warm",
        {"symbols": symbols},
    )


def upstream_budget(obs: Observed, settings: Settings) -> Recommendation | None:
    """The exchange's request weight per minute close to its limit."""
    spans = (obs.rows.end - obs.rows.start) / 60
    if not len(obs.rows):
        return None
    per_minute = obs.rows.column("upstream_weight") / spans.clip(min=1.0)
    peak = float(per_minute.max())
    share = peak / settings.exchange_weight_limit
    if share < BUDGET_WARNING:
        return None
    severity: Severity = "critical" if share >= BUDGET_CRITICAL else "warning"
    return Recommendation(
        "upstream_budget",
        severity,
        f"up to {round(peak)} of the exchange's {settings.exchange_weight_limit} weight per minute "
        "was spent: near the limit, the exchange answers 429 and may ban the IP; lower "
        "REFRESH_AHEAD_LOADS_PER_S or lengthen freshness windows",
        {
            "peak_weight_per_minute": round(peak, 1),
            "weight_limit_per_minute": settings.exchange_weight_limit,
            "share_percent": percent(share),
            "refresh_ahead_loads_per_s": settings.refresh_ahead_loads_per_s,
        },
        "REFRESH_AHEAD_LOADS_PER_S",
        round(settings.refresh_ahead_loads_per_s / 2, 3),
    )


def hit_rate_below_target(obs: Observed, settings: Settings) -> Recommendation | None:
    """A hit rate under the 80 % target, with its most likely cause."""
    rows = obs.rows
    lookups = rows.total("lookups")
    rate = hit_rate(rows)
    if obs.cache is None or lookups < MIN_LOOKUPS or rate is None or rate >= HIT_RATE_TARGET:
        return None
    misses = rows.total("misses") + rows.total("coalesced")
    evictions, expirations = rows.total("evictions"), rows.total("expirations")
    load_errors = rows.total("load_errors")
    setting: str | None
    if evictions >= CAUSE_SHARE * misses:
        cause, setting = "entries are evicted before they are read again", "CACHE_MAX_MEMORY_MB"
    elif load_errors >= CAUSE_SHARE * misses:
        cause, setting = "loads fail: the exchange is erroring", None
    elif expirations >= CAUSE_SHARE * misses:
        cause = "entries expire before they are read again (reads further apart than fresh+stale)"
        busiest = max(RAW_KINDS, key=lambda kind: rows.total(f"calls_{kind}"))
        setting = STALE_SETTING[busiest]
    else:
        cause = "most misses are first reads of a key (many distinct symbols or parameters)"
        setting = "POST /cache/warm"
    return Recommendation(
        "hit_rate_below_target",
        "warning" if rate < 0.5 else "info",
        f"hit rate {percent(rate)}% is under the {percent(HIT_RATE_TARGET)}% target: {cause}",
        {
            "hit_rate": percent(rate),
            "target": percent(HIT_RATE_TARGET),
            "lookups": int(lookups),
            "misses": int(misses),
            "evictions": int(evictions),
            "expirations": int(expirations),
            "load_errors": int(load_errors),
        },
        setting,
    )


def recommend(obs: Observed, settings: Settings) -> list[Recommendation]:
    """Every piece of advice that the observations support, most severe first."""
    found: list[Recommendation | None] = [
        upstream_budget(obs, settings),
        memory_too_small(obs, settings),
        entries_rejected(obs, settings),
        hit_rate_below_target(obs, settings),
        *freshness(obs, settings),
        warm_symbols(obs, settings),
        memory_too_large(obs, settings),
    ]
    order = {"critical": 0, "warning": 1, "info": 2}
    return sorted((r for r in found if r is not None), key=lambda r: order[r.severity])
