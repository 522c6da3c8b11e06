"""`Monitor`: the monitoring of one running service, built in the app's lifespan.

It owns the request recorder (fed by the API's middleware), the per-minute
history and its sampler, the alert book, the background-task watch and the
Prometheus registry, and composes them into the reports of `/cache/health`,
`/cache/performance` and `/cache/recommendations`. Health and alerts look at a
recent window (5 minutes by default, plus the minute running); advice at the
last hour. The status of `/health` and `/cache/health` is `serving()` (see
serving.py); the hit rate they show is the clients' (see requests.py); memory is
the process's against its limit (see memory.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marketcache.answer import iso
from marketcache.cache import Cache
from marketcache.cache.stats import CacheStats, TaskState
from marketcache.clock import Clock
from marketcache.config import Settings
from marketcache.errors import MarketCacheError
from marketcache.monitoring.alerts import (
    Alert,
    AlertBook,
    AlertRules,
    ExchangeWatch,
    Observation,
    evaluate,
)
from marketcache.monitoring.history import WEEK_MINUTES, History, Rows
from marketcache.monitoring.memory import MemoryLimit, MemoryLimitReader
from marketcache.monitoring.metrics import Metrics, StatsCollector, StreamsView
from marketcache.monitoring.recommendations import Observed, recommend
from marketcache.monitoring.requests import RequestRecorder
from marketcache.monitoring.sampler import PERIOD_S, Sampler, process_rss
from marketcache.monitoring.serving import ServingHealth, servable_entries, serving_health
from marketcache.monitoring.tasks import TaskWatch
from marketcache.monitoring.trends import (
    MB,
    Summary,
    bucket,
    percent,
    rounded,
    summarize,
    trends,
)
from marketcache.monitoring.trends import client_hit_rate as rows_client_hit_rate
from marketcache.sources.base import Source, UpstreamStats

WINDOW_S = 300.0
ADVICE_WINDOW_S = 3600.0
MAX_HOURS = 168
KIND_BY_PATH = {
    "/price": "ticker",
    "/comprehensive_analysis": "ohlcv",
    "/volume_spike": "ohlcv",
    "/cvd": "ohlcv",
}


class Monitor:
    """Everything the service knows about how it is doing."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        cache: Cache | None,
        source: Source,
        *,
        window_s: float = WINDOW_S,
        capacity: int = WEEK_MINUTES,
        rules: AlertRules | None = None,
        period_s: float = PERIOD_S,
        rss: Callable[[], int] = process_rss,
        memory_limit: Callable[[], MemoryLimit] | None = None,
        streams: StreamsView | None = None,
    ) -> None:
        self.settings = settings
        self.streams = streams
        self.clock = clock
        self.cache = cache
        self.source = source
        self.window_s = window_s
        self.rules = rules or AlertRules()
        self.rss = rss
        self.memory_limit = memory_limit or MemoryLimitReader(settings.memory_limit_mb)
        self.started_at = clock.now()
        self.recorder = RequestRecorder(KIND_BY_PATH)
        self.history = History(capacity)
        self.sampler = Sampler(
            clock,
            self.recorder,
            self.history,
            self._cache_stats,
            self._upstream_stats,
            rss=rss,
            period_s=period_s,
            after_sample=self._after_sample,
        )
        self.tasks = TaskWatch(self._task_states, clock, window_s, period_s)
        self.alerts = AlertBook(clock)
        self.exchange = ExchangeWatch(self.rules.stale_upstream_error_share)
        self._check_exchange()  # what was spent before (loading markets) is not news
        self.metrics = Metrics(
            StatsCollector(
                self._cache_stats,
                self._upstream_stats,
                self._task_states,
                self.evaluate,
                memory=self._memory,
                streams=streams,
            ),
            self.recorder,
        )

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start sampling."""
        await self.sampler.start()

    async def stop(self) -> None:
        """Stop sampling."""
        await self.sampler.stop()

    # -- feeding -----------------------------------------------------------------------

    def record(
        self,
        *,
        method: str,
        path: str,
        endpoint: str,
        status: int,
        method_label: str | None = None,
        cache_status: str | None,
        latency_s: float,
        symbol: str | None,
    ) -> None:
        """Count one answered request (called by the API's middleware).

        `endpoint` and `method_label` become Prometheus labels: the caller bounds them
        (a route's path or `other`; a known method or `OTHER`).
        """
        labels = (path, status, cache_status, symbol, endpoint, method_label or method)
        self.recorder.add(labels, latency_s)  # counted by the recorder and the metrics

    # -- reading -----------------------------------------------------------------------

    def _cache_stats(self) -> CacheStats | None:
        return self.cache.stats if self.cache is not None else None

    def _upstream_stats(self) -> UpstreamStats:
        return self.source.stats

    def _task_states(self) -> dict[str, TaskState]:
        states: dict[str, TaskState] = {}
        if self.cache is not None:
            states.update({f"cache.{name}": s for name, s in self.cache.tasks().items()})
        states["monitor.sampler"] = self.sampler.state
        return states

    def _memory(self) -> tuple[int, MemoryLimit]:
        return self.rss(), self.memory_limit()

    def _check_exchange(self) -> bool:
        stats = self.source.stats
        return self.exchange.check(stats.total_calls, stats.total_errors)

    def _after_sample(self) -> None:
        self.tasks.mark()
        self.evaluate()

    def window(self, seconds: float) -> Rows:
        """The periods of the last `seconds`, the running one last."""
        return self.history.since(self.clock.now() - seconds).plus(self.sampler.open_row())

    def observe(self, rows: Rows) -> Observation:
        """What the alert rules look at, over `rows` and the cache and the process now."""
        summary = summarize(rows)
        stats = self._cache_stats()
        rss = float(rows.column("rss_bytes")[-1]) if len(rows) else float(self.rss())
        limit = self.memory_limit()
        return Observation(
            market_requests=summary.market_requests,
            hit_rate=summary.client_hit_rate,
            memory_fraction=rss / limit.bytes,
            requests=summary.requests,
            error_rate=summary.error_rate,
            stale_answers=summary.stale_answers,
            upstream_calls=summary.upstream_calls,
            upstream_errors=summary.upstream_errors,
            exchange_failing=self._check_exchange(),
            backend_down=(
                stats is not None
                and self.settings.redis_url is not None
                and not stats.backend_available
            ),
            task_errors=self.tasks.recent_errors(),
            streams_down=None if self.streams is None else dict(self.streams.down()),
            rss_mb=rss / MB,
            memory_limit_mb=limit.mb,
            memory_limit_source=limit.source,
        )

    def client_hit_rate(self, summary: Summary | None = None) -> tuple[float, str]:
        """The clients' hit rate (0..1) over the window, else since start, and which it is."""
        rate = (
            summary.client_hit_rate
            if summary is not None
            else rows_client_hit_rate(self.window(self.window_s))  # the two totals, not a summary
        )
        if rate is not None:
            return rate, "client_requests_window"
        total = self.recorder.market_total
        cached = self.recorder.market_cached_total
        return (cached / total if total else 0.0), "client_requests_since_start"

    def serving(self, *, reachable: bool, count: bool = False) -> ServingHealth:
        """healthy, degraded or unhealthy (see serving.py); entries counted when it matters.

        `reachable` is whether the exchange answered its last ping; with `count` the
        servable entries are counted even while the exchange answers.
        """
        failing = self._check_exchange()
        counted = count or not reachable or failing
        return serving_health(
            reachable=reachable,
            failing=failing,
            cache_enabled=self.cache is not None,
            servable=servable_entries(self.cache, self.clock.now()) if counted else None,
        )

    def evaluate(self) -> list[Alert]:
        """Update the alerts from the recent window; the ones firing."""
        return self.alerts.update(evaluate(self.observe(self.window(self.window_s)), self.rules))

    def health(self, *, reachable: bool) -> dict[str, Any]:
        """The `/cache/health` document; `reachable`: the exchange answered its last ping."""
        rows = self.window(self.window_s)
        summary = summarize(rows)
        observation = self.observe(rows)
        alerts = self.alerts.update(evaluate(observation, self.rules))
        serving = self.serving(reachable=reachable, count=True)
        stats = self._cache_stats()
        hit_rate, basis = self.client_hit_rate(summary)
        lookup_hit_rate = summary.hit_rate
        if lookup_hit_rate is None:
            lookup_hit_rate = stats.hit_rate if stats is not None else 0.0
        limit = self.memory_limit()
        return {
            "status": serving.status,
            "reasons": serving.reasons,
            "cache_enabled": self.cache is not None,
            "metrics": {
                "hit_rate": percent(hit_rate),
                "memory_usage_percent": percent(observation.memory_fraction),
                "avg_response_time_ms": rounded(summary.avg_ms) or 0.0,
                "p95_response_time_ms": rounded(summary.p95_ms) or 0.0,
                "error_rate": percent(summary.error_rate) or 0.0,
                "rss_mb": round(observation.rss_mb, 2),
                "memory_limit_mb": round(limit.mb, 2),
                "memory_limit_source": limit.source,
                "cache_fill_percent": percent(stats.used_fraction if stats else 0.0),
                "upstream_calls_per_minute": round(summary.upstream_calls_per_minute, 2),
                "requests": summary.requests,
                "market_requests": summary.market_requests,
                "hit_rate_basis": basis,
                "lookup_hit_rate": percent(lookup_hit_rate),
                "lookups": summary.lookups,
                "stale_answers": summary.stale_answers,
                "window_s": self.window_s,
            },
            "serving": serving.to_dict(),
            "active_alerts": len(alerts),
            "alerts": [alert.to_dict() for alert in alerts],
            "recently_resolved": [alert.to_dict() for alert in list(self.alerts.resolved)[-5:]],
            "tasks": self.tasks.report(),
            "checked_at": iso(self.clock.now()),
        }

    def performance(self, hours: int) -> dict[str, Any]:
        """The `/cache/performance?hours=N` data: per-minute buckets, a summary and the trends."""
        if not 1 <= hours <= MAX_HOURS:
            raise ValueError(f"hours must be within 1..{MAX_HOURS}")
        rows = self.window(hours * 3600.0)
        last = len(rows) - 1
        return {
            "hours": hours,
            "from": iso(float(rows.start[0])),
            "to": iso(float(rows.end[-1])),
            "bucket_s": self.sampler.period_s,
            "capacity_minutes": self.history.capacity,
            "buckets": [bucket(rows, i, partial=i == last) for i in range(len(rows))],
            "summary": summarize(rows).to_dict(),
            "trend": trends(rows),
        }

    def recommendations(self) -> dict[str, Any]:
        """The `/cache/recommendations` data."""
        rows = self.window(ADVICE_WINDOW_S)
        observed = Observed(
            rows=rows,
            observed_minutes=(self.clock.now() - self.started_at) / 60,
            cache=self._cache_stats(),
            cold_by_symbol=self._cold_by_symbol(),
        )
        advice = recommend(observed, self.settings)
        return {
            "recommendations": [r.to_dict() for r in advice],
            "window_minutes": round(rows.span_s() / 60, 2),
        }

    def _cold_by_symbol(self) -> dict[str, tuple[int, int]]:
        """Answers and cold answers per market, merging the spellings clients used."""
        merged: dict[str, tuple[int, int]] = {}
        for raw, tally in self.recorder.symbols.items():
            try:
                symbol = self.source.normalize_symbol(raw)
            except MarketCacheError:
                continue
            answers, cold = merged.get(symbol, (0, 0))
            merged[symbol] = (answers + tally.answers, cold + tally.cold)
        return merged
