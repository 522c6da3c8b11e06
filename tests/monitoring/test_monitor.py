"""The Monitor on its own: bounded history whatever the span asked, the uncached service."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from marketcache.cache import Cache, CacheOptions
from marketcache.cache.entry import Freshness
from marketcache.clock import ManualClock
from marketcache.config import Settings
from marketcache.monitoring.memory import MB, MemoryLimit
from marketcache.monitoring.monitor import Monitor
from tests.fakes import FakeSource


async def test_the_history_stays_bounded_whatever_the_hours_asked() -> None:
    clock = ManualClock(start=1_764_000_000.0)
    source = FakeSource(clock)
    monitor = Monitor(Settings(_env_file=None), clock, None, source, capacity=5)
    size = monitor.history.nbytes
    await monitor.start()
    for _minute in range(20):
        monitor.record(
            method="GET",
            path="/cache/stats",
            endpoint="/cache/stats",
            status=200,
            cache_status=None,
            latency_s=0.001,
            symbol=None,
        )
        await clock.advance(60)
    await monitor.stop()
    assert len(monitor.history) == 5
    assert monitor.history.nbytes == size
    week = monitor.performance(168)
    assert len(week["buckets"]) == 6  # the five kept and the running minute
    assert week["summary"]["requests"] == 5
    assert monitor.sampler.state.runs == 20
    with pytest.raises(ValueError, match="hours"):
        monitor.performance(169)


async def test_an_idle_uncached_monitor_is_healthy() -> None:
    clock = ManualClock()
    monitor = Monitor(Settings(_env_file=None), clock, None, FakeSource(clock))
    report = monitor.health(reachable=True)
    assert report["status"] == "healthy"
    assert report["reasons"] == []
    assert report["cache_enabled"] is False
    assert report["metrics"]["hit_rate"] == 0.0
    assert report["metrics"]["hit_rate_basis"] == "client_requests_since_start"
    assert list(report["tasks"]) == ["monitor.sampler"]
    assert monitor.recommendations()["recommendations"] == []


def memory_monitor(clock: ManualClock, cache: Cache | None, rss: list[int]) -> Monitor:
    """A monitor whose process has `rss[0]` bytes resident under a 1000 MB cgroup limit."""
    return Monitor(
        Settings(_env_file=None),
        clock,
        cache,
        FakeSource(clock),
        rss=lambda: rss[0],
        memory_limit=lambda: MemoryLimit(1000 * MB, "cgroup"),
    )


def memory_alert(report: dict[str, object]) -> str | None:
    alerts = report["alerts"]
    assert isinstance(alerts, list)
    found = [a["severity"] for a in alerts if a["name"] == "memory_high"]
    return found[0] if found else None


async def test_a_cache_filled_past_its_bound_is_not_an_alert() -> None:
    clock = ManualClock(start=1_764_000_000.0)
    cache = Cache(CacheOptions(max_bytes=64 * 1024, refresh_ahead=False), clock=clock)

    async def load() -> bytes:
        return b"x" * 1000

    for i in range(200):  # about 200 KB into a 64 KB bound: evictions keep it full
        await cache.get_or_load(f"ticker:binance:S{i}/USDT", load, Freshness(60, 60))
    assert cache.stats.evictions > 0
    monitor = memory_monitor(clock, cache, [100 * MB])
    report = monitor.health(reachable=True)
    metrics = report["metrics"]
    assert metrics["cache_fill_percent"] > 90
    assert metrics["memory_usage_percent"] == 10.0
    assert (metrics["memory_limit_mb"], metrics["memory_limit_source"]) == (1000.0, "cgroup")
    assert metrics["rss_mb"] == 100.0
    assert memory_alert(report) is None
    assert report["status"] == "healthy"
    assert report["active_alerts"] == 0


@pytest.mark.parametrize(
    ("rss_mb", "severity"), [(790, None), (850, "warning"), (900, "warning"), (950, "critical")]
)
async def test_the_memory_alert_is_the_process_rss_against_its_limit(
    rss_mb: int, severity: str | None
) -> None:
    clock = ManualClock(start=1_764_000_000.0)
    monitor = memory_monitor(clock, None, [rss_mb * MB])
    report = monitor.health(reachable=True)
    assert report["metrics"]["memory_usage_percent"] == rss_mb / 10
    assert memory_alert(report) == severity
    assert report["status"] == "healthy"  # an alert says how well it serves, not whether


async def test_the_memory_alert_follows_the_rss_as_it_moves() -> None:
    clock = ManualClock(start=1_764_000_000.0)
    rss = [500 * MB]
    monitor = memory_monitor(clock, None, rss)
    assert memory_alert(monitor.health(reachable=True)) is None
    rss[0] = 950 * MB
    assert memory_alert(monitor.health(reachable=True)) == "critical"
    rss[0] = 850 * MB
    assert memory_alert(monitor.health(reachable=True)) == "warning"
    text = monitor.metrics.exposition().decode()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("marketcache_memory_rss_bytes", ())] == 850 * MB
    assert samples[("marketcache_memory_limit_bytes", (("source", "cgroup"),))] == 1000 * MB


def market(monitor: Monitor, path: str, status: int, cache: str | None) -> None:
    monitor.record(
        method="POST",
        path=path,
        endpoint=path,
        status=status,
        cache_status=cache,
        latency_s=0.001,
        symbol="BTC/USDT",
    )


async def test_the_hit_rate_is_the_clients_market_requests_answered_from_the_cache() -> None:
    clock = ManualClock(start=1_764_000_000.0)
    monitor = Monitor(Settings(_env_file=None), clock, None, FakeSource(clock))
    market(monitor, "/comprehensive_analysis", 200, "miss")
    market(monitor, "/comprehensive_analysis", 200, "hit")
    market(monitor, "/cvd", 200, "stale")
    market(monitor, "/prices", 200, "hit")
    market(monitor, "/price", 503, None)  # the service failed: counted, not from the cache
    market(monitor, "/price", 422, None)  # the client's mistake: not counted
    market(monitor, "/cache/warm", 200, None)  # warming is not a client market request
    market(monitor, "/cache/stats", 200, None)
    report = monitor.health(reachable=True)
    metrics = report["metrics"]
    assert metrics["market_requests"] == 5
    assert metrics["hit_rate"] == 60.0
    assert metrics["hit_rate_basis"] == "client_requests_window"
    assert metrics["requests"] == 8
    monitor.sampler.close()
    await clock.advance(3600)  # the period closed an hour ago, out of the window: since start
    metrics = monitor.health(reachable=True)["metrics"]
    assert (metrics["hit_rate"], metrics["hit_rate_basis"]) == (
        60.0,
        "client_requests_since_start",
    )
