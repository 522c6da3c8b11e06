"""Summaries and trends of a span of history."""

from __future__ import annotations

import pytest

from marketcache.monitoring.trends import bucket, summarize, trends
from tests.monitoring.rows import rows_of


def minute(
    lookups: float, hits: float, requests: float = 50, latency_ms: float = 2.0
) -> dict[str, float]:
    return {
        "lookups": lookups,
        "hits": hits,
        "requests": requests,
        "latency_ms": latency_ms,
        "upstream_calls": 4,
        "upstream_weight": 8,
    }


def test_summary_totals_rates_and_percentiles() -> None:
    rows = rows_of(
        [
            {**minute(100, 50, 100, 1.0), "errors": 2, "served_stale": 3, "cache_bytes": 10},
            {**minute(100, 90, 100, 10.0), "errors": 0, "cache_bytes": 30},
        ]
    )
    summary = summarize(rows)
    assert summary.requests == 200
    assert summary.lookups == 200
    assert summary.hit_rate == pytest.approx(0.70)
    assert summary.error_rate == pytest.approx(0.01)
    assert summary.stale_answers == 3
    assert summary.avg_ms == pytest.approx(5.5)
    assert summary.p50_ms is not None
    assert summary.p50_ms < 1.3
    assert summary.p99_ms is not None
    assert summary.p99_ms > 8
    assert summary.upstream_calls_per_minute == pytest.approx(4.0)
    assert summary.peak_cache_bytes == 30
    shown = summary.to_dict()
    assert shown["hit_rate"] == 70.0
    assert shown["error_rate"] == 1.0


def test_summary_of_nothing_has_no_rates() -> None:
    summary = summarize(rows_of([{}]))
    assert summary.hit_rate is None
    assert summary.error_rate is None
    assert summary.p95_ms is None


def test_a_bucket_as_the_api_shows_it() -> None:
    rows = rows_of([minute(10, 5), minute(10, 10, 20, 3.0)])
    shown = bucket(rows, 1, partial=True)
    assert shown["hit_rate"] == 100.0
    assert shown["requests"] == 20
    assert shown["partial"] is True
    assert shown["minute"].endswith("00:01:00.000Z")
    assert "partial" not in bucket(rows, 0)


@pytest.mark.parametrize(
    ("hits", "expected"),
    [
        ((10, 20, 80, 90), "improving"),
        ((90, 80, 20, 10), "degrading"),
        ((80, 81, 80, 81), "stable"),
    ],
)
def test_hit_rate_trend(hits: tuple[int, ...], expected: str) -> None:
    rows = rows_of([minute(100, h) for h in hits])
    assert trends(rows)["hit_rate"] == expected


@pytest.mark.parametrize(
    ("latencies", "expected"),
    [
        ((50.0, 40.0, 2.0, 1.0), "improving"),
        ((1.0, 2.0, 40.0, 50.0), "degrading"),
        ((1.0, 1.1, 1.0, 1.1), "stable"),
        ((0.1, 0.1, 0.3, 0.3), "stable"),  # three times slower, but by a fraction of a ms
    ],
)
def test_latency_trend(latencies: tuple[float, ...], expected: str) -> None:
    rows = rows_of([minute(100, 90, 50, ms) for ms in latencies])
    assert trends(rows)["latency"] == expected


def test_too_little_traffic_is_stable() -> None:
    rows = rows_of([minute(5, 0, 2), minute(5, 5, 2)])
    result = trends(rows)
    assert result["hit_rate"] == "stable"
    assert result["latency"] == "stable"
    assert result["basis"]["hit_rate"] == [0.0, 100.0]
