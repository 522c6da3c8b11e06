"""Latency histograms: bins, percentiles against exact ones, merging."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketcache.monitoring.histogram import (
    BINS,
    GROWTH,
    MIN_MS,
    LatencyHistogram,
    bin_bounds,
    bin_of,
    percentile,
)


def test_bins_cover_their_values() -> None:
    for ms in (0.0, 0.01, MIN_MS, 0.2, 1.0, 3.7, 99.9, 1500.0, 60_000.0):
        index = bin_of(ms)
        lower, upper = bin_bounds(index)
        assert lower <= ms < upper
    assert bin_of(10**9) == BINS - 1  # the last bin is open-ended


def test_empty_histogram_has_no_percentile() -> None:
    assert percentile([0] * BINS, 0.5) is None
    assert LatencyHistogram().percentile(0.95) is None


def test_quantile_must_be_within_zero_and_one() -> None:
    with pytest.raises(ValueError, match="quantile"):
        percentile([1] * BINS, 1.5)


@pytest.mark.parametrize("q", [0.5, 0.95, 0.99])
def test_percentiles_are_within_a_bin_of_the_exact_ones(q: float) -> None:
    rng = np.random.default_rng(7)
    latencies = np.concatenate(
        [rng.lognormal(np.log(0.3), 0.4, 9000), rng.lognormal(np.log(40), 0.5, 1000)]
    )
    histogram = LatencyHistogram()
    for ms in latencies:
        histogram.add(float(ms))
    exact = float(np.quantile(latencies, q))
    estimate = histogram.percentile(q)
    assert estimate is not None
    assert exact / GROWTH <= estimate <= exact * GROWTH
    assert histogram.total == len(latencies)
    assert histogram.sum_ms == pytest.approx(float(latencies.sum()))


def test_histograms_merge_by_addition() -> None:
    fast, slow = LatencyHistogram(), LatencyHistogram()
    for _ in range(90):
        fast.add(1.0)
    for _ in range(10):
        slow.add(100.0)
    merged = np.add(fast.counts, slow.counts)
    p50 = percentile(merged, 0.5)
    p99 = percentile(merged, 0.99)
    assert p50 is not None
    assert 1.0 / GROWTH <= p50 <= 1.0 * GROWTH
    assert p99 is not None
    assert 100.0 / GROWTH <= p99 <= 100.0 * GROWTH


@given(st.lists(st.floats(0, 3600), max_size=50))
def test_seconds_in_a_batch_count_as_milliseconds_one_by_one(latencies_s: list[float]) -> None:
    one, batch = LatencyHistogram(), LatencyHistogram()
    for seconds in latencies_s:
        one.add(seconds * 1000)
    batch.add_seconds(latencies_s)
    assert (one.counts, one.total) == (batch.counts, batch.total)
    assert one.sum_ms == pytest.approx(batch.sum_ms)
