"""Summaries of a span of history and whether hit rate and latency are getting better or worse.

A trend compares the first half of the span's periods with the second half:
hit rate by its change in percentage points, latency by the ratio of mean
response times. Halves with too little traffic to judge give `stable`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from marketcache.answer import iso
from marketcache.monitoring.histogram import percentile
from marketcache.monitoring.history import Rows

Trend = Literal["improving", "stable", "degrading"]

HIT_RATE_STEP = 0.02  # a change of more than 2 points is a trend
LATENCY_RATIO = 1.25  # a mean 25 % higher (or 20 % lower) is a trend ...
LATENCY_FLOOR_MS = 0.5  # ... when it is also more than half a millisecond
MIN_LOOKUPS = 20  # per half, to judge hit rate
MIN_REQUESTS = 10  # per half, to judge latency
MB = 1024 * 1024


def ratio(part: float, whole: float) -> float | None:
    """`part / whole`, or None when there is nothing to divide."""
    return part / whole if whole > 0 else None


def hit_rate(rows: Rows) -> float | None:
    """Lookups answered from the cache, fresh or stale (0..1), or None without lookups."""
    return ratio(rows.total("hits") + rows.total("stale_hits"), rows.total("lookups"))


def client_hit_rate(rows: Rows) -> float | None:
    """Market requests answered from the cache, hit or stale (0..1), or None without any."""
    return ratio(rows.total("market_cached"), rows.total("market_requests"))


def mean_ms(rows: Rows) -> float | None:
    """Mean response time in milliseconds, or None without requests."""
    return ratio(rows.total("latency_sum_ms"), rows.total("requests"))


def percent(value: float | None, digits: int = 2) -> float | None:
    """A 0..1 ratio as a rounded percentage."""
    return None if value is None else round(value * 100, digits)


def rounded(value: float | None, digits: int = 3) -> float | None:
    """`round`, passing None through."""
    return None if value is None else round(value, digits)


@dataclass(frozen=True, slots=True)
class Summary:
    """The totals and rates of a span of history."""

    minutes: float
    requests: int
    errors: int
    stale_answers: int
    lookups: int
    misses: int
    evictions: int
    hit_rate: float | None  # 0..1, of lookups
    market_requests: int
    client_hit_rate: float | None  # 0..1, of market requests (see requests.py)
    error_rate: float | None  # 0..1
    avg_ms: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    upstream_calls: int
    upstream_weight: int
    upstream_errors: int
    upstream_calls_per_minute: float
    peak_weight_per_minute: float
    peak_cache_bytes: int
    peak_rss_bytes: int

    def to_dict(self) -> dict[str, Any]:
        """The summary as the API shows it (rates in percent)."""
        return {
            "minutes": round(self.minutes, 2),
            "requests": self.requests,
            "errors": self.errors,
            "error_rate": percent(self.error_rate),
            "stale": self.stale_answers,
            "lookups": self.lookups,
            "misses": self.misses,
            "evictions": self.evictions,
            "hit_rate": percent(self.hit_rate),
            "market_requests": self.market_requests,
            "client_hit_rate": percent(self.client_hit_rate),
            "avg_ms": rounded(self.avg_ms),
            "p50_ms": rounded(self.p50_ms),
            "p95_ms": rounded(self.p95_ms),
            "p99_ms": rounded(self.p99_ms),
            "upstream_calls": self.upstream_calls,
            "upstream_weight": self.upstream_weight,
            "upstream_errors": self.upstream_errors,
            "upstream_calls_per_minute": round(self.upstream_calls_per_minute, 2),
            "peak_weight_per_minute": round(self.peak_weight_per_minute, 2),
            "peak_cache_bytes": self.peak_cache_bytes,
            "peak_rss_mb": round(self.peak_rss_bytes / MB, 2),
        }


def summarize(rows: Rows) -> Summary:
    """Totals, rates and latency percentiles over `rows`."""
    latency = rows.latency_total()
    minutes = rows.span_s() / 60
    calls = rows.total("upstream_calls")
    requests = rows.total("requests")
    # a span shorter than a minute is reported per minute as it is (not extrapolated)
    per_minute_base = max(minutes, 1.0)
    weight = rows.column("upstream_weight")
    spans = (rows.end - rows.start) / 60
    return Summary(
        minutes=minutes,
        requests=int(requests),
        errors=int(rows.total("errors")),
        stale_answers=int(rows.total("served_stale")),
        lookups=int(rows.total("lookups")),
        misses=int(rows.total("misses")),
        evictions=int(rows.total("evictions")),
        hit_rate=hit_rate(rows),
        market_requests=int(rows.total("market_requests")),
        client_hit_rate=client_hit_rate(rows),
        error_rate=ratio(rows.total("errors"), requests),
        avg_ms=mean_ms(rows),
        p50_ms=percentile(latency, 0.50),
        p95_ms=percentile(latency, 0.95),
        p99_ms=percentile(latency, 0.99),
        upstream_calls=int(calls),
        upstream_weight=int(rows.total("upstream_weight")),
        upstream_errors=int(rows.total("upstream_errors")),
        upstream_calls_per_minute=calls / per_minute_base,
        peak_weight_per_minute=float((weight / spans.clip(min=1.0)).max()) if len(rows) else 0.0,
        peak_cache_bytes=int(rows.peak("cache_bytes")),
        peak_rss_bytes=int(rows.peak("rss_bytes")),
    )


def bucket(rows: Rows, index: int, *, partial: bool = False) -> dict[str, Any]:
    """One period of `rows` as the API shows it."""
    one = rows.row(index)
    latency = one.latency_total()
    out: dict[str, Any] = {
        "minute": iso(float(one.start[0])),
        "seconds": round(one.span_s(), 3),
        "requests": int(one.total("requests")),
        "hit_rate": percent(hit_rate(one)),
        "market_requests": int(one.total("market_requests")),
        "client_hit_rate": percent(client_hit_rate(one)),
        "p50_ms": rounded(percentile(latency, 0.50)),
        "p95_ms": rounded(percentile(latency, 0.95)),
        "p99_ms": rounded(percentile(latency, 0.99)),
        "avg_ms": rounded(mean_ms(one)),
        "lookups": int(one.total("lookups")),
        "upstream_calls": int(one.total("upstream_calls")),
        "upstream_weight": int(one.total("upstream_weight")),
        "upstream_errors": int(one.total("upstream_errors")),
        "errors": int(one.total("errors")),
        "stale": int(one.total("served_stale")),
        "evictions": int(one.total("evictions")),
        "cache_bytes": int(one.total("cache_bytes")),
        "rss_mb": round(one.total("rss_bytes") / MB, 2),
    }
    if partial:
        out["partial"] = True
    return out


def hit_rate_trend(first: Rows, second: Rows) -> Trend:
    """Hit rate of the later half against the earlier one."""
    if first.total("lookups") < MIN_LOOKUPS or second.total("lookups") < MIN_LOOKUPS:
        return "stable"
    before, after = hit_rate(first) or 0.0, hit_rate(second) or 0.0
    if after - before > HIT_RATE_STEP:
        return "improving"
    if before - after > HIT_RATE_STEP:
        return "degrading"
    return "stable"


def latency_trend(first: Rows, second: Rows) -> Trend:
    """Mean response time of the later half against the earlier one."""
    if first.total("requests") < MIN_REQUESTS or second.total("requests") < MIN_REQUESTS:
        return "stable"
    before, after = mean_ms(first) or 0.0, mean_ms(second) or 0.0
    if after > before * LATENCY_RATIO and after - before > LATENCY_FLOOR_MS:
        return "degrading"
    if after * LATENCY_RATIO < before and before - after > LATENCY_FLOOR_MS:
        return "improving"
    return "stable"


def trends(rows: Rows) -> dict[str, Any]:
    """`{"hit_rate": trend, "latency": trend, "basis": the halves' numbers}`."""
    first, second = rows.split(len(rows) // 2)
    return {
        "hit_rate": hit_rate_trend(first, second),
        "latency": latency_trend(first, second),
        "basis": {
            "periods": [len(first), len(second)],
            "hit_rate": [percent(hit_rate(first)), percent(hit_rate(second))],
            "avg_ms": [rounded(mean_ms(first)), rounded(mean_ms(second))],
        },
    }
