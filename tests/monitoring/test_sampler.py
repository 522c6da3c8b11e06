"""The sampler closes one period per clock minute; tests move the clock."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from marketcache.cache.stats import CacheStats
from marketcache.clock import ManualClock
from marketcache.monitoring.history import History
from marketcache.monitoring.requests import RequestRecorder
from marketcache.monitoring.sampler import Sampler
from marketcache.sources.base import UpstreamStats
from tests.monitoring.rows import cache_stats

START = 1_764_000_000.0  # on a minute boundary


class World:
    """What the sampler reads, changed by the test."""

    def __init__(self) -> None:
        self.clock = ManualClock(start=START)
        self.recorder = RequestRecorder({"/price": "ticker"})
        self.history = History(capacity=100)
        self.stats: CacheStats = cache_stats()
        self.upstream = UpstreamStats()
        self.rss = 50 * 1024 * 1024
        self.fail_rss = False
        self.sampler = Sampler(
            self.clock,
            self.recorder,
            self.history,
            lambda: self.stats,
            lambda: self.upstream,
            rss=self.read_rss,
        )

    def read_rss(self) -> int:
        if self.fail_rss:
            raise OSError("no /proc here")
        return self.rss


@pytest.fixture
async def world() -> AsyncIterator[World]:
    w = World()
    await w.sampler.start()
    yield w
    await w.sampler.stop()
    assert w.sampler.state.running is False


async def test_one_row_per_minute_with_counter_increases_and_gauges(world: World) -> None:
    world.recorder.record("/price", 200, "miss", 20.0, "BTC/USDT")
    world.stats = cache_stats(lookups=10, hits=6, misses=4, bytes=1000, entries=3)
    world.upstream.record("ticker", 2)
    await world.clock.advance(60)
    world.recorder.record("/price", 200, "hit", 1.0, "BTC/USDT")
    world.recorder.record("/price", 200, "hit", 1.0, "BTC/USDT")
    world.stats = cache_stats(lookups=30, hits=24, misses=6, bytes=1500, entries=4)
    await world.clock.advance(60)
    rows = world.history.since(0)
    assert len(rows) == 2
    assert list(rows.start) == [START, START + 60]
    assert list(rows.column("requests")) == [1, 2]
    assert list(rows.column("lookups")) == [10, 20]
    assert list(rows.column("hits")) == [6, 18]
    assert list(rows.column("upstream_calls")) == [1, 0]
    assert list(rows.column("calls_ticker")) == [1, 0]
    assert list(rows.column("reads_ticker")) == [1, 2]
    assert list(rows.column("served_hit")) == [0, 2]
    assert list(rows.column("cache_bytes")) == [1000, 1500]
    assert list(rows.column("rss_bytes")) == [world.rss, world.rss]
    assert world.sampler.state.runs == 2


async def test_the_open_row_shows_the_minute_so_far(world: World) -> None:
    await world.clock.advance(60)
    await world.clock.advance(15)
    world.recorder.record("/price", 503, None, 3.0, "BTC/USDT")
    world.stats = cache_stats(lookups=5, misses=5)
    row = world.sampler.open_row()
    assert (float(row.start[0]), float(row.end[0])) == (START + 60, START + 75)
    assert row.total("errors") == 1
    assert row.total("lookups") == 5


async def test_a_jump_of_several_minutes_closes_each_minute(world: World) -> None:
    await world.clock.advance(300)
    assert len(world.history) == 5
    assert world.clock.sleepers == 1  # waiting for the next minute


async def test_a_failing_sample_is_counted_logged_and_survived(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="marketcache.monitoring.sampler")
    world.fail_rss = True
    await world.clock.advance(60)
    state = world.sampler.state
    assert state.errors == 1
    assert state.last_error is not None
    assert "no /proc here" in state.last_error
    assert any("sampler failed" in r.getMessage() and r.exc_info for r in caplog.records)
    world.fail_rss = False
    await world.clock.advance(60)
    assert state.runs == 2
    assert state.errors == 1
    assert len(world.history) >= 1


async def test_the_sample_hook_runs_after_each_period() -> None:
    w = World()
    seen: list[int] = []
    w.sampler.after_sample = lambda: seen.append(len(w.history))
    await w.sampler.start()
    await w.clock.advance(180)
    await w.sampler.stop()
    assert seen == [1, 2, 3]


def test_period_must_be_positive() -> None:
    w = World()
    with pytest.raises(ValueError, match="period_s"):
        Sampler(w.clock, w.recorder, w.history, lambda: None, lambda: w.upstream, period_s=0)
