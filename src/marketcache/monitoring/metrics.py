"""Prometheus exposition: requests counted in plain numbers, everything read at scrape time.

Each app has its own `CollectorRegistry` (tests build many apps in one
process). Requests are counted and timed by endpoint (the route's path, or
`other` for unknown paths, so label values stay bounded), method, status and
cache status. The cache's, the exchange's, the background tasks' and the
alerts' numbers are read by a custom collector when Prometheus scrapes, so the
hot path pays nothing for them.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Protocol, cast

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client import utils as prometheus_utils
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.process_collector import ProcessCollector

from marketcache.cache.stats import CacheStats, Figure, TaskState, figures
from marketcache.monitoring.alerts import Alert
from marketcache.monitoring.memory import MemoryLimit
from marketcache.monitoring.requests import Labels, RequestRecorder
from marketcache.sources.base import UpstreamStats

CONTENT_TYPE = CONTENT_TYPE_LATEST
PREFIX = "marketcache"
LATENCY_BUCKETS_S = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.2,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)


class StreamsView(Protocol):
    """The upstream streams as monitoring reads them (`streams.StreamManager`)."""

    def down(self) -> Mapping[str, float]:
        """Streams down past the alert limit: name → seconds down."""
        ...

    def metrics(self) -> Iterable[tuple[str, str, str, float]]:
        """`(name, kind, help, value)` of each declared figure."""
        ...

    def ages(self) -> Mapping[str, float]:
        """Each live stream's age, seconds since its last message's exchange time."""
        ...


class StatsCollector:
    """Reads the cache, the exchange's counters, the tasks and the alerts at scrape time."""

    def __init__(
        self,
        cache_stats: Callable[[], CacheStats | None],
        upstream_stats: Callable[[], UpstreamStats],
        tasks: Callable[[], Mapping[str, TaskState]],
        alerts: Callable[[], Iterable[Alert]],
        *,
        memory: Callable[[], tuple[int, MemoryLimit]] | None = None,
        streams: StreamsView | None = None,
    ) -> None:
        self.streams = streams
        self.cache_stats = cache_stats
        self.upstream_stats = upstream_stats
        self.tasks = tasks
        self.alerts = alerts
        self.memory = memory  # the process's RSS and its memory limit
        # (prefix, declared figures, their values now or None) of the other parts of the app
        self.sections: list[tuple[str, tuple[Figure, ...], Callable[[], object | None]]] = []

    def add_section(
        self, prefix: str, declared: tuple[Figure, ...], read: Callable[[], object | None]
    ) -> None:
        """Show `declared` figures as `marketcache_<prefix>_<metric>`, read by `read` (or 0)."""
        self.sections.append((prefix, declared, read))

    def describe(self) -> Iterator[Metric]:
        """Nothing up front: the families are produced at collect time."""
        return iter(())

    def collect(self) -> Iterator[Metric]:
        """Every family, read now."""
        yield from self._cache()
        yield from self._upstream()
        yield from self._tasks()
        yield from self._memory()
        yield from self._streams()
        yield from self._sections()
        alerts = GaugeMetricFamily(
            f"{PREFIX}_alerts_active",
            "alerts firing now (1 per alert)",
            labels=["alert", "severity"],
        )
        for alert in self.alerts():
            alerts.add_metric([alert.name, alert.severity], 1.0)
        yield alerts

    def _cache(self) -> Iterator[Metric]:
        stats = self.cache_stats()
        yield GaugeMetricFamily(
            f"{PREFIX}_cache_enabled", "1 when the cache is on", value=float(stats is not None)
        )
        for figure in figures("metrics"):
            value = float(getattr(stats, figure.name)) if stats is not None else 0.0
            family = CounterMetricFamily if figure.kind == "counter" else GaugeMetricFamily
            yield family(f"{PREFIX}_cache_{figure.metric}", figure.help, value=value)

    def _sections(self) -> Iterator[Metric]:
        for prefix, declared, read in self.sections:
            values = read()
            for figure in declared:
                if "metrics" not in figure.views:
                    continue
                value = float(getattr(values, figure.name)) if values is not None else 0.0
                family = CounterMetricFamily if figure.kind == "counter" else GaugeMetricFamily
                yield family(f"{PREFIX}_{prefix}_{figure.metric}", figure.help, value=value)

    def _upstream(self) -> Iterator[Metric]:
        stats = self.upstream_stats()
        families = {
            "calls": CounterMetricFamily(
                f"{PREFIX}_upstream_calls", "calls made to the exchange", labels=["operation"]
            ),
            "weight": CounterMetricFamily(
                f"{PREFIX}_upstream_weight",
                "request weight spent at the exchange",
                labels=["operation"],
            ),
            "errors": CounterMetricFamily(
                f"{PREFIX}_upstream_errors", "exchange calls that failed", labels=["operation"]
            ),
        }
        for operation, count in sorted(stats.operations.items()):
            families["calls"].add_metric([operation], float(count.calls))
            families["weight"].add_metric([operation], float(count.weight))
            families["errors"].add_metric([operation], float(count.errors))
        yield from families.values()

    def _streams(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            f"{PREFIX}_streams_enabled",
            "1 when hot markets are streamed (STREAMS)",
            value=float(self.streams is not None),
        )
        if self.streams is None:
            return
        for name, kind, help_text, value in self.streams.metrics():
            family = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
            yield family(f"{PREFIX}_streams_{name}", help_text, value=value)
        ages = GaugeMetricFamily(
            f"{PREFIX}_stream_age_seconds",
            "seconds since a live stream's last message (its exchange time)",
            labels=["stream"],
        )
        for stream, age in sorted(self.streams.ages().items()):
            ages.add_metric([stream], age)
        yield ages

    def _memory(self) -> Iterator[Metric]:
        if self.memory is None:
            return
        rss, limit = self.memory()
        yield GaugeMetricFamily(
            f"{PREFIX}_memory_rss_bytes",
            "the process's resident memory, as the memory alerts read it",
            value=float(rss),
        )
        family = GaugeMetricFamily(
            f"{PREFIX}_memory_limit_bytes",
            "the process's memory limit: the cgroup's, else MEMORY_LIMIT_MB",
            labels=["source"],
        )
        family.add_metric([limit.source], float(limit.bytes))
        yield family

    def _tasks(self) -> Iterator[Metric]:
        runs = CounterMetricFamily(f"{PREFIX}_task_runs", "background task runs", labels=["task"])
        errors = CounterMetricFamily(
            f"{PREFIX}_task_errors", "background task runs that failed", labels=["task"]
        )
        last = GaugeMetricFamily(
            f"{PREFIX}_task_last_run_timestamp_seconds",
            "when a background task last ran (clock seconds)",
            labels=["task"],
        )
        running = GaugeMetricFamily(
            f"{PREFIX}_task_running", "1 while a background task is running", labels=["task"]
        )
        for name, state in sorted(self.tasks().items()):
            runs.add_metric([name], float(state.runs))
            errors.add_metric([name], float(state.errors))
            if state.last_run is not None:
                last.add_metric([name], state.last_run)
            running.add_metric([name], float(state.running))
        yield from (runs, errors, last, running)


go_float = cast(
    Callable[[float], str], prometheus_utils.floatToGoString
)  # a bound as prometheus_client writes it


@dataclass(slots=True)
class RequestSlot:
    """The requests of one label set: how many, their latencies by bucket, their sum."""

    count: int = 0
    seconds: float = 0.0
    buckets: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS_S) + 1))


class RequestCollector:
    """Counts and times requests in plain numbers; Prometheus reads them when it scrapes.

    A request costs a dict lookup, two additions and a bisection (prometheus_client's
    own Counter and Histogram take a lock and walk the buckets on every request).
    """

    def __init__(self, settle: Callable[[], None] | None = None) -> None:
        self.slots: dict[tuple[str, str, int, str], RequestSlot] = {}
        self.settle = settle  # counts what is batched elsewhere before a scrape reads

    def observe(self, endpoint: str, method: str, status: int, cache: str, seconds: float) -> None:
        """Count and time one request."""
        key = (endpoint, method, status, cache)
        slot = self.slots.get(key)
        if slot is None:
            slot = self.slots[key] = RequestSlot()
        slot.count += 1
        slot.seconds += seconds
        slot.buckets[bisect_left(LATENCY_BUCKETS_S, seconds)] += 1  # le: bound >= seconds

    def observe_group(self, labels: Labels, latencies: list[float]) -> None:
        """Count and time requests of one label set (a `RequestRecorder` sink)."""
        key = (labels[4], labels[5], labels[1], labels[2] or "none")
        slot = self.slots.get(key)
        if slot is None:
            slot = self.slots[key] = RequestSlot()
        slot.count += len(latencies)
        buckets = slot.buckets
        for seconds in latencies:
            slot.seconds += seconds
            buckets[bisect_left(LATENCY_BUCKETS_S, seconds)] += 1

    def describe(self) -> Iterator[Metric]:
        """Nothing up front: the families are produced at collect time."""
        return iter(())

    def collect(self) -> Iterator[Metric]:
        """The request counter (by endpoint, method, status, cache) and latency histogram."""
        if self.settle is not None:
            self.settle()
        slots = list(self.slots.items())  # one C-level copy: safe against a concurrent insert
        requests = CounterMetricFamily(
            f"{PREFIX}_requests",
            "HTTP requests answered",
            labels=["endpoint", "method", "status", "cache"],
        )
        latency: dict[tuple[str, str], tuple[list[int], float]] = {}
        for (endpoint, method, status, cache), slot in sorted(slots):
            requests.add_metric([endpoint, method, str(status), cache], float(slot.count))
            counts, total = latency.get((endpoint, cache), ([0] * len(slot.buckets), 0.0))
            merged = [a + b for a, b in zip(counts, slot.buckets, strict=True)]
            latency[(endpoint, cache)] = (merged, total + slot.seconds)
        yield requests
        histogram = HistogramMetricFamily(
            f"{PREFIX}_request_duration_seconds",
            "time to answer an HTTP request",
            labels=["endpoint", "cache"],
        )
        bounds = [*(go_float(b) for b in LATENCY_BUCKETS_S), "+Inf"]
        for (endpoint, cache), (counts, total) in sorted(latency.items()):
            cumulative = list(accumulate(counts))
            histogram.add_metric(
                [endpoint, cache], list(zip(bounds, map(float, cumulative), strict=True)), total
            )
        yield histogram


class Metrics:
    """The app's Prometheus registry and its per-request instruments."""

    def __init__(self, collector: StatsCollector, recorder: RequestRecorder | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        # the recorder's batches are counted here too; a scrape has it count them first
        self.requests = RequestCollector(recorder.settle if recorder is not None else None)
        if recorder is not None:
            recorder.sinks.append(self.requests.observe_group)
        self.registry.register(self.requests)
        self.collector = collector
        self.registry.register(collector)
        ProcessCollector(registry=self.registry)

    def observe(self, endpoint: str, method: str, status: int, cache: str, seconds: float) -> None:
        """Count and time one request."""
        self.requests.observe(endpoint, method, status, cache, seconds)

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)
