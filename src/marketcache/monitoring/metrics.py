"""Prometheus exposition: request metrics recorded per request, cache and upstream read at scrape.

Each app has its own `CollectorRegistry` (tests build many apps in one
process). Requests are counted and timed by endpoint (the route's path, or
`other` for unknown paths, so label values stay bounded), method, status and
cache status. The cache's, the exchange's, the background tasks' and the
alerts' numbers are read by a custom collector when Prometheus scrapes, so the
hot path pays nothing for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.process_collector import ProcessCollector

from marketcache.cache.stats import CacheStats, Figure, TaskState, figures
from marketcache.monitoring.alerts import Alert
from marketcache.monitoring.memory import MemoryLimit
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
    ) -> None:
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


class Metrics:
    """The app's Prometheus registry and its per-request instruments."""

    def __init__(self, collector: StatsCollector) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = Counter(
            f"{PREFIX}_requests",
            "HTTP requests answered",
            ["endpoint", "method", "status", "cache"],
            registry=self.registry,
        )
        self.latency = Histogram(
            f"{PREFIX}_request_duration_seconds",
            "time to answer an HTTP request",
            ["endpoint", "cache"],
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.collector = collector
        self.registry.register(collector)
        ProcessCollector(registry=self.registry)
        # the labelled children by label values: `labels()` costs more than the increment
        self._children: dict[tuple[str, str, int, str], tuple[Counter, Histogram]] = {}

    def observe(self, endpoint: str, method: str, status: int, cache: str, seconds: float) -> None:
        """Count and time one request."""
        key = (endpoint, method, status, cache)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(endpoint, method, str(status), cache),
                self.latency.labels(endpoint, cache),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)
