"""Percentiles, per-side summaries, ratios and rates."""

from __future__ import annotations

import math
import random

import pytest

from marketcache.bench.loadgen import Record
from marketcache.bench.stats import Latency, per_second, percentile, ratio, reduction, summarize


def record(
    latency_ms: float,
    status: int | None = 200,
    cache: str | None = "hit",
    endpoint: str = "price",
    start_s: float = 0.0,
) -> Record:
    return Record(0, endpoint, start_s, latency_ms, status, cache)


@pytest.mark.parametrize(
    ("q", "expected"),
    [(0, 1), (10, 1), (11, 2), (50, 5), (90, 9), (95, 10), (99, 10), (100, 10)],
)
def test_nearest_rank_percentile_of_one_to_ten(q: float, expected: float) -> None:
    assert percentile([float(v) for v in range(1, 11)], q) == expected


def test_percentile_sorts_its_input_and_returns_a_member() -> None:
    values = [30.0, 10.0, 20.0, 50.0, 40.0]
    assert percentile(values, 50) == 30.0
    assert percentile(values, 61) == 40.0
    assert values == [30.0, 10.0, 20.0, 50.0, 40.0]  # untouched


def test_percentile_of_a_single_value_and_of_nothing() -> None:
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))


@pytest.mark.parametrize("q", [-1, 100.5])
def test_percentile_outside_zero_to_hundred_is_refused(q: float) -> None:
    with pytest.raises(ValueError, match="q must be"):
        percentile([1.0], q)


def test_percentile_is_monotone_in_q() -> None:
    rng = random.Random(2)
    values = [rng.expovariate(1.0) for _ in range(999)]
    quantiles = [percentile(values, q) for q in range(101)]
    assert quantiles == sorted(quantiles)
    assert quantiles[0] == min(values)
    assert quantiles[-1] == max(values)


def test_latency_summary() -> None:
    summary = Latency.of([4.0, 1.0, 3.0, 2.0])
    assert summary == Latency(count=4, mean=2.5, p50=2.0, p95=4.0, p99=4.0, max=4.0)
    empty = Latency.of([])
    assert empty.count == 0
    assert math.isnan(empty.p95)


def test_summarize_counts_statuses_errors_and_cache_labels() -> None:
    records = [
        record(1.0, 200, "hit"),
        record(2.0, 200, "stale"),
        record(3.0, 200, "coalesced", endpoint="cvd"),
        record(100.0, 200, "miss", endpoint="cvd"),
        record(5.0, 503, None),
        record(30_000.0, None, None),
    ]
    summary = summarize(records, elapsed_s=2.0)
    assert summary.requests == 6
    assert summary.ok == 4
    assert summary.errors == 2
    assert summary.error_rate == pytest.approx(2 / 6)
    assert summary.statuses == {"200": 4, "503": 1, "none": 1}
    assert sum(summary.statuses.values()) == summary.requests
    assert summary.cache == {"coalesced": 1, "hit": 1, "miss": 1, "none": 2, "stale": 1}
    assert sum(summary.cache.values()) == summary.requests
    assert summary.hit_rate == pytest.approx(3 / 4)
    assert summary.throughput_rps == pytest.approx(3.0)
    assert summary.ok_throughput_rps == pytest.approx(2.0)
    assert summary.latency_ok.count == 4
    assert summary.latency_ok.max == 100.0
    assert summary.latency_all.count == 6
    assert summary.latency_from_cache.count == 3
    assert summary.latency_from_cache.max == 3.0
    assert summary.endpoints["cvd"]["requests"] == 2
    assert summary.endpoints["price"]["errors"] == 2


def test_uncached_answers_have_no_hit_rate() -> None:
    summary = summarize([record(200.0, 200, "bypass")] * 3, elapsed_s=1.0)
    assert summary.cache == {"bypass": 3}
    assert math.isnan(summary.hit_rate)


def test_unexpected_cache_labels_are_counted_as_other() -> None:
    assert summarize([record(1.0, 200, "weird")], 1.0).cache == {"other": 1}


def test_ratio_and_reduction() -> None:
    assert ratio(6, 3) == 2
    assert math.isnan(ratio(1, 0))
    assert math.isnan(ratio(math.nan, 1))
    assert reduction(200, 50) == pytest.approx(0.75)
    assert reduction(100, 150) == pytest.approx(-0.5)
    assert math.isnan(reduction(0, 10))


def test_per_second_turns_cumulative_counts_into_rates() -> None:
    samples = [(0.0, 0), (1.0, 10), (2.0, 10), (2.5, 15), (2.5, 15)]
    assert per_second(samples) == [(1.0, 10.0), (2.0, 0.0), (2.5, 10.0)]
    assert per_second([(0.0, 5)]) == []


def test_data_age_is_summarized_over_answers_that_carry_it() -> None:
    import dataclasses

    records = [
        dataclasses.replace(record(latency_ms=1.0, cache="hit"), age_ms=age)
        for age in (100.0, 300.0, 200.0)
    ]
    records.append(record(latency_ms=1.0, cache="miss"))  # no age: left out
    summary = summarize(records, elapsed_s=1.0)
    assert summary.data_age.count == 3
    assert summary.data_age.mean == 200.0
    assert summary.data_age.max == 300.0
