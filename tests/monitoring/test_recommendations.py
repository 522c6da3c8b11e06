"""Advice from observations: each rule speaks on its evidence, and only then."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from marketcache.config import Settings
from marketcache.monitoring.recommendations import Observed, recommend
from tests.monitoring.rows import cache_stats, rows_of

MB = 1024 * 1024


def settings(**overrides: Any) -> Settings:
    return Settings(_env_file=None, **overrides)


def advice(
    minutes: Sequence[Mapping[str, float]],
    *,
    observed_minutes: float = 10,
    cold: Mapping[str, tuple[int, int]] | None = None,
    config: Settings | None = None,
    **stats: int,
) -> dict[str, dict[str, Any]]:
    obs = Observed(rows_of(minutes), observed_minutes, cache_stats(**stats), cold or {})
    return {r.id: r.to_dict() for r in recommend(obs, config or settings())}


HEALTHY = {"lookups": 1000, "hits": 950, "misses": 50, "requests": 900, "cache_bytes": 300_000}


def test_a_healthy_cache_gets_no_advice() -> None:
    assert advice([HEALTHY] * 5, bytes=300_000, max_bytes=128 * MB) == {}


def test_the_uncached_service_gets_no_cache_advice() -> None:
    obs = Observed(rows_of([{**HEALTHY, "evictions": 500}]), 100, None, {"BTC/USDT": (50, 50)})
    assert recommend(obs, settings(no_cache=True)) == []


def test_evictions_of_a_full_cache_ask_for_more_memory() -> None:
    thrash = {"lookups": 1000, "hits": 500, "misses": 500, "evictions": 400, "cache_bytes": 990_000}
    found = advice([thrash], config=settings(cache_max_memory_mb=1.0), bytes=990_000, entries=300)
    rec = found["memory_too_small"]
    assert rec["severity"] == "warning"
    assert rec["setting"] == "CACHE_MAX_MEMORY_MB"
    assert rec["suggested"] == 2.0
    assert rec["evidence"]["evictions"] == 400
    assert rec["evidence"]["cache_fill_percent"] > 90
    # and the hit rate under target names evictions as the cause
    assert "evicted" in found["hit_rate_below_target"]["message"]


def test_a_few_evictions_among_many_misses_are_not_worth_it() -> None:
    cold = {"lookups": 1000, "hits": 850, "misses": 150, "evictions": 5, "cache_bytes": 990_000}
    assert "memory_too_small" not in advice([cold], bytes=990_000)


def test_a_bound_far_above_use_is_said_only_after_an_hour() -> None:
    config = settings(cache_max_memory_mb=512)
    quiet = [HEALTHY] * 3
    assert advice(quiet, observed_minutes=30, config=config, max_bytes=512 * MB) == {}
    found = advice(quiet, observed_minutes=90, config=config, bytes=300_000, max_bytes=512 * MB)
    rec = found["memory_too_large"]
    assert rec["severity"] == "info"
    assert rec["suggested"] == 16.0  # four times the peak, at least 16 MB


def test_values_too_large_to_store() -> None:
    found = advice([{**HEALTHY, "rejected": 3}])
    assert found["entries_rejected"]["evidence"]["rejected"] == 3


def test_data_loaded_for_nearly_every_read_asks_for_a_longer_fresh_window() -> None:
    minutes = [{**HEALTHY, "reads_ticker": 100, "calls_ticker": 90, "reads_ohlcv": 100}]
    found = advice(minutes)
    rec = found["freshness_ticker"]
    assert (rec["severity"], rec["setting"], rec["suggested"]) == ("info", "TICKER_FRESH_S", 4.0)
    assert rec["evidence"]["loads_per_read"] == 0.9
    assert "freshness_ohlcv" not in found


def test_refreshing_more_than_reading_is_a_warning() -> None:
    minutes = [{**HEALTHY, "reads_ohlcv": 60, "calls_ohlcv": 200}]
    rec = advice(minutes)["freshness_ohlcv"]
    assert rec["severity"] == "warning"
    assert rec["setting"] == "KLINES_LIVE_FRESH_S"
    assert "refreshed more often than it is read" in rec["message"]


def test_most_missed_symbols_are_worth_warming() -> None:
    cold = {"BTC/USDT": (100, 2), "DOGE/USDT": (20, 15), "SOL/USDT": (12, 9), "XRP/USDT": (3, 3)}
    rec = advice([HEALTHY], cold=cold)["warm_symbols"]
    assert rec["suggested"] == {"symbols": ["DOGE/USDT", "SOL/USDT"]}
    assert rec["setting"] == "POST /cache/warm"
    assert rec["evidence"]["cold_answers"]["DOGE/USDT"] == {"answers": 20, "cold": 15}


@pytest.mark.parametrize(
    ("weight", "severity"), [(4700, None), (4900, "warning"), (5800, "critical")]
)
def test_the_exchange_budget_near_its_limit(weight: int, severity: str | None) -> None:
    found = advice(
        [{**HEALTHY, "upstream_weight": weight}], config=settings(exchange_weight_limit=6000)
    )
    assert found.get("upstream_budget", {}).get("severity") == severity


@pytest.mark.parametrize(
    ("extra", "setting", "words"),
    [
        ({"expirations": 400, "calls_ticker": 300}, "TICKER_STALE_S", "expire"),
        ({"load_errors": 400}, None, "exchange"),
        ({}, "POST /cache/warm", "first reads"),
    ],
)
def test_a_low_hit_rate_names_its_likely_cause(
    extra: dict[str, int], setting: str | None, words: str
) -> None:
    minutes = [{"lookups": 1000, "hits": 400, "misses": 600, **extra}]
    rec = advice(minutes)["hit_rate_below_target"]
    assert rec["setting"] == setting
    assert words in rec["message"]
    assert rec["severity"] == "warning"  # under 50 %
    assert rec["evidence"]["hit_rate"] == 40.0


def test_advice_comes_most_severe_first() -> None:
    minutes = [{**HEALTHY, "upstream_weight": 5900, "reads_ticker": 100, "calls_ticker": 95}]
    found = list(advice(minutes, config=settings(exchange_weight_limit=6000)).values())
    assert [r["severity"] for r in found] == ["critical", "info"]
