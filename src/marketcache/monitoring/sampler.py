"""The sampler: a background task that closes one period per clock minute into the history.

A period's row holds the requests the API recorded during it, the increase of
the cache's and the exchange's counters over it, and the gauges (bytes,
entries, RSS) at its end. `open_row` gives the period still running, so readers
see the last seconds too. The sampler sleeps on the injected clock: tests move
time instead of waiting.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable

import psutil

from marketcache.cache.stats import CacheStats, TaskState
from marketcache.clock import Clock
from marketcache.keys import RAW_KINDS
from marketcache.monitoring.history import (
    CACHE_COUNTERS,
    History,
    Rows,
    single_row,
)
from marketcache.monitoring.requests import RequestCounts, RequestRecorder
from marketcache.sources.base import UpstreamStats
from marketcache.tasks import stop_tasks

log = logging.getLogger(__name__)

PERIOD_S = 60.0


def process_rss() -> int:
    """The resident memory of this process, in bytes."""
    return int(psutil.Process().memory_info().rss)


def cumulative_counters(cache: CacheStats | None, upstream: UpstreamStats) -> dict[str, float]:
    """Every counter the history tracks, as totals since start."""
    out: dict[str, float] = {}
    for name in CACHE_COUNTERS:
        out[name] = float(getattr(cache, name)) if cache is not None else 0.0
    out["upstream_calls"] = float(upstream.total_calls)
    out["upstream_weight"] = float(upstream.total_weight)
    out["upstream_errors"] = float(upstream.total_errors)
    for kind in RAW_KINDS:
        operation = upstream.operations.get(kind)
        out[f"calls_{kind}"] = float(operation.calls) if operation is not None else 0.0
    return out


def request_values(counts: RequestCounts) -> dict[str, float]:
    """The API's side of a row."""
    out = {
        "requests": float(counts.requests),
        "errors": float(counts.errors),
        "client_errors": float(counts.client_errors),
        "latency_sum_ms": counts.latency.sum_ms,
        "market_requests": float(counts.market),
        "market_cached": float(counts.market_cached),
    }
    for status, n in counts.by_cache.items():
        out[f"served_{status}"] = float(n)
    for kind, n in counts.reads.items():
        out[f"reads_{kind}"] = float(n)
    return out


class Sampler:
    """Closes a period into `history` at every minute of `clock`, while started."""

    def __init__(
        self,
        clock: Clock,
        recorder: RequestRecorder,
        history: History,
        cache_stats: Callable[[], CacheStats | None],
        upstream_stats: Callable[[], UpstreamStats],
        *,
        rss: Callable[[], int] = process_rss,
        period_s: float = PERIOD_S,
        after_sample: Callable[[], None] | None = None,
    ) -> None:
        if period_s <= 0:
            raise ValueError("period_s must be > 0")
        self.clock = clock
        self.recorder = recorder
        self.history = history
        self.cache_stats = cache_stats
        self.upstream_stats = upstream_stats
        self.rss = rss
        self.period_s = period_s
        self.after_sample = after_sample
        self.state = TaskState()
        self._open_since = clock.now()
        self._baseline = self._cumulative()
        self._task: asyncio.Task[None] | None = None

    @property
    def open_since(self) -> float:
        """When the running period began."""
        return self._open_since

    def _cumulative(self) -> dict[str, float]:
        return cumulative_counters(self.cache_stats(), self.upstream_stats())

    def _row_values(
        self, counts: RequestCounts, now_counters: dict[str, float]
    ) -> dict[str, float]:
        values = request_values(counts)
        for name, total in now_counters.items():
            values[name] = max(0.0, total - self._baseline.get(name, 0.0))
        stats = self.cache_stats()
        if stats is not None:
            values["cache_bytes"] = float(stats.bytes)
            values["cache_entries"] = float(stats.entries)
            values["max_bytes"] = float(stats.max_bytes)
        values["rss_bytes"] = float(self.rss())
        return values

    def open_row(self) -> Rows:
        """The running period so far, as one row."""
        counts = self.recorder.current
        values = self._row_values(counts, self._cumulative())
        return single_row(self._open_since, self.clock.now(), values, counts.latency.counts)

    def close(self) -> None:
        """End the running period now, store it, and start the next."""
        now = self.clock.now()
        counters = self._cumulative()
        counts = self.recorder.take()
        values = self._row_values(counts, counters)
        self.history.append(self._open_since, now, values, counts.latency.counts)
        self._open_since = now
        self._baseline = counters

    async def run(self) -> None:
        """Sample at every period boundary until cancelled; a failure is logged, not fatal."""
        self.state.running = True
        try:
            while True:
                now = self.clock.now()
                boundary = (math.floor(now / self.period_s) + 1) * self.period_s
                await self.clock.sleep(boundary - now)
                error: Exception | None = None
                try:
                    self.close()
                    if self.after_sample is not None:
                        self.after_sample()
                except Exception as exc:
                    error = exc
                    log.exception("monitoring sampler failed: %s", exc, extra={"task": "sampler"})
                self.state.record(self.clock.now(), error)
        finally:
            self.state.running = False

    async def start(self) -> None:
        """Start the background task (once); returns when it waits for its first boundary."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self.run(), name="monitor-sampler")
            await asyncio.sleep(0)  # let it reach its first sleep, so clock moves are not missed

    async def stop(self) -> None:
        """Cancel the background task and wait for it."""
        task, self._task = self._task, None
        await stop_tasks(task)
