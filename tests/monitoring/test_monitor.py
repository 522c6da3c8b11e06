"""The Monitor on its own: bounded history whatever the span asked, the uncached service."""

from __future__ import annotations

import pytest

from marketcache.clock import ManualClock
from marketcache.config import Settings
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
    report = monitor.health()
    assert report["status"] == "healthy"
    assert report["cache_enabled"] is False
    assert report["metrics"]["hit_rate"] == 0.0
    assert report["metrics"]["hit_rate_basis"] == "since_start"
    assert list(report["tasks"]) == ["monitor.sampler"]
    assert monitor.recommendations()["recommendations"] == []
