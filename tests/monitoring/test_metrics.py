"""Prometheus exposition: per-app registries, request instruments, values read at scrape."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families

from marketcache.cache.stats import CacheStats, TaskState
from marketcache.monitoring.alerts import Alert
from marketcache.monitoring.metrics import (
    LATENCY_BUCKETS_S,
    Metrics,
    RequestCollector,
    StatsCollector,
)
from marketcache.monitoring.requests import RequestRecorder
from marketcache.sources.base import UpstreamStats
from tests.monitoring.rows import cache_stats


class Scraped:
    """Samples of one scrape by (name, sorted labels)."""

    def __init__(self, text: str) -> None:
        self.samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                self.samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value

    def get(self, name: str, **labels: str) -> float | None:
        return self.samples.get((name, tuple(sorted(labels.items()))))

    def names(self) -> set[str]:
        return {name for name, _ in self.samples}


def make(stats: list[CacheStats | None], upstream: UpstreamStats, alerts: list[Alert]) -> Metrics:
    tasks = {"cache.purge": TaskState(runs=4, errors=1, last_run=1_700_000_000.0)}
    return Metrics(
        StatsCollector(lambda: stats[0], lambda: upstream, lambda: tasks, lambda: alerts)
    )


def test_requests_are_counted_and_timed_by_endpoint_and_cache_status() -> None:
    metrics = make([cache_stats()], UpstreamStats(), [])
    metrics.observe("/price", "POST", 200, "hit", 0.0004)
    metrics.observe("/price", "POST", 200, "hit", 0.002)
    metrics.observe("/price", "POST", 503, "none", 0.3)
    scraped = Scraped(metrics.exposition().decode())
    labels = {"endpoint": "/price", "method": "POST"}
    assert scraped.get("marketcache_requests_total", **labels, status="200", cache="hit") == 2
    assert scraped.get("marketcache_requests_total", **labels, status="503", cache="none") == 1
    hist = {"endpoint": "/price", "cache": "hit"}
    assert scraped.get("marketcache_request_duration_seconds_count", **hist) == 2
    assert scraped.get("marketcache_request_duration_seconds_bucket", **hist, le="0.0005") == 1
    assert scraped.get("marketcache_request_duration_seconds_bucket", **hist, le="0.0025") == 2


def test_cache_upstream_tasks_and_alerts_are_read_at_scrape_time() -> None:
    stats: list[CacheStats | None] = [cache_stats(lookups=10, hits=7, bytes=500, max_bytes=1000)]
    upstream = UpstreamStats()
    upstream.record("ohlcv", 2)
    upstream.record("ohlcv", 2, failed=True)
    alerts = [Alert("memory_high", "warning", 0.0, 85.0, 80.0, "m", "percent")]
    metrics = make(stats, upstream, alerts)
    first = Scraped(metrics.exposition().decode())
    assert first.get("marketcache_cache_lookups_total") == 10
    assert first.get("marketcache_cache_hits_total") == 7
    assert first.get("marketcache_cache_bytes") == 500
    assert first.get("marketcache_cache_max_bytes") == 1000
    assert first.get("marketcache_cache_enabled") == 1
    assert first.get("marketcache_upstream_calls_total", operation="ohlcv") == 2
    assert first.get("marketcache_upstream_weight_total", operation="ohlcv") == 4
    assert first.get("marketcache_upstream_errors_total", operation="ohlcv") == 1
    assert first.get("marketcache_task_runs_total", task="cache.purge") == 4
    assert first.get("marketcache_task_errors_total", task="cache.purge") == 1
    assert first.get("marketcache_alerts_active", alert="memory_high", severity="warning") == 1
    assert first.get("process_resident_memory_bytes") is not None
    stats[0] = cache_stats(lookups=25, hits=20, bytes=600, max_bytes=1000)
    upstream.record("ticker", 2)
    alerts.clear()
    second = Scraped(metrics.exposition().decode())
    assert second.get("marketcache_cache_lookups_total") == 25
    assert second.get("marketcache_upstream_calls_total", operation="ticker") == 1
    assert second.get("marketcache_alerts_active", alert="memory_high", severity="warning") is None


def test_without_a_cache_the_cache_metrics_are_zero() -> None:
    scraped = Scraped(make([None], UpstreamStats(), []).exposition().decode())
    assert scraped.get("marketcache_cache_enabled") == 0
    assert scraped.get("marketcache_cache_lookups_total") == 0


def test_each_app_has_its_own_registry() -> None:
    one, two = make([cache_stats()], UpstreamStats(), []), make([None], UpstreamStats(), [])
    one.observe("/price", "POST", 200, "hit", 0.001)
    assert one.registry is not two.registry
    labels = {"endpoint": "/price", "method": "POST", "status": "200", "cache": "hit"}
    assert Scraped(two.exposition().decode()).get("marketcache_requests_total", **labels) is None


@pytest.mark.parametrize("batched", [False, True], ids=["one-by-one", "batched-by-recorder"])
@settings(max_examples=50, deadline=None)
@given(
    requests=st.lists(
        st.tuples(
            st.sampled_from(["/price", "/cvd", "other"]),
            st.sampled_from(["GET", "POST"]),
            st.sampled_from([200, 304, 503]),
            st.sampled_from(["hit", "miss", "none"]),
            st.one_of(st.sampled_from(LATENCY_BUCKETS_S), st.floats(0, 20)),
        ),
        max_size=40,
    )
)
def test_plain_counts_expose_what_prometheus_clients_instruments_would(
    requests: list[tuple[str, str, int, str, float]], batched: bool
) -> None:
    """Counter and histogram samples equal prometheus_client's own, bucket edges included,
    whether counted one by one or in the request recorder's batches (grouped by labels)."""
    recorder = RequestRecorder({})
    ours = RequestCollector(recorder.settle)
    recorder.sinks.append(ours.observe_group)
    registry = CollectorRegistry()
    counter = Counter(
        "marketcache_requests", "", ["endpoint", "method", "status", "cache"], registry=registry
    )
    histogram = Histogram(
        "marketcache_request_duration_seconds",
        "",
        ["endpoint", "cache"],
        buckets=LATENCY_BUCKETS_S,
        registry=registry,
    )
    for endpoint, method, status, cache, seconds in requests:
        if batched:
            recorder.add(
                (endpoint, status, None if cache == "none" else cache, None, endpoint, method),
                seconds,
            )
        else:
            ours.observe(endpoint, method, status, cache, seconds)
        counter.labels(endpoint, method, str(status), cache).inc()
        histogram.labels(endpoint, cache).observe(seconds)

    def samples(families: Iterable[Metric]) -> dict[tuple[str, str], float]:
        return {
            (s.name, repr(sorted(s.labels.items()))): s.value
            for family in families
            for s in family.samples
            if not s.name.endswith("_created")
        }

    expected = samples(registry.collect())
    got = samples(ours.collect())
    assert got.keys() == expected.keys()
    for name, value in expected.items():
        assert got[name] == pytest.approx(value), name


class FakeStreams:
    """The streams as monitoring sees them."""

    def down(self) -> dict[str, float]:
        return {}

    def metrics(self) -> list[tuple[str, str, str, float]]:
        return [("open", "gauge", "live", 2.0), ("messages", "counter", "received", 40.0)]

    def ages(self) -> dict[str, float]:
        return {"ticker BTC/USDT": 0.25}


def test_the_streams_figures_are_read_at_scrape_time() -> None:
    tasks: dict[str, TaskState] = {}
    with_streams = Metrics(
        StatsCollector(
            lambda: cache_stats(),
            UpstreamStats,
            lambda: tasks,
            lambda: [],
            streams=FakeStreams(),
        )
    )
    scraped = Scraped(with_streams.exposition().decode())
    assert scraped.get("marketcache_streams_enabled") == 1
    assert scraped.get("marketcache_streams_open") == 2
    assert scraped.get("marketcache_streams_messages_total") == 40
    assert scraped.get("marketcache_stream_age_seconds", stream="ticker BTC/USDT") == 0.25
    without = Scraped(make([cache_stats()], UpstreamStats(), []).exposition().decode())
    assert without.get("marketcache_streams_enabled") == 0
    assert "marketcache_streams_open" not in without.names()
