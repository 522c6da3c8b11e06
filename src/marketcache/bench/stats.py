"""The report's arithmetic: percentiles, per-side summaries and the ratios between sides."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from marketcache.bench.loadgen import Record

SERVED_FROM_CACHE = ("hit", "stale", "coalesced")
CACHE_LABELS = (*SERVED_FROM_CACHE, "miss", "bypass")


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile: the smallest value with at least q % of values <= it.

    `values` need not be sorted; q is in [0, 100]; an empty sequence gives NaN.
    """
    if not 0.0 <= q <= 100.0:
        raise ValueError("q must be within [0, 100]")
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Latency:
    """Latency figures in milliseconds (NaN when there was nothing to measure)."""

    count: int
    mean: float
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Latency:
        """Summarize a sample of latencies."""
        if not values:
            return cls(0, math.nan, math.nan, math.nan, math.nan, math.nan)
        return cls(
            len(values),
            sum(values) / len(values),
            percentile(values, 50),
            percentile(values, 95),
            percentile(values, 99),
            max(values),
        )


@dataclass(frozen=True)
class SideSummary:
    """What the clients saw of one side: counts, throughput, latency, errors, cache labels."""

    requests: int
    ok: int
    errors: int
    error_rate: float
    elapsed_s: float
    throughput_rps: float
    ok_throughput_rps: float
    statuses: dict[str, int]  # "200", "429", ..., "none" for no answer
    latency_ok: Latency  # over 2xx answers: the latency a user waits for data
    latency_all: Latency  # over every request, errors included
    latency_from_cache: Latency  # over 2xx answers served from the cache (hit/stale/coalesced)
    data_age: Latency  # meta.age_ms of 2xx answers: how old the data clients got was
    cache: dict[str, int]  # X-Cache label → count; "none" when the header was missing
    hit_rate: float  # (hit + stale + coalesced) / (those + miss); NaN without any of them
    endpoints: dict[str, dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return asdict(self)


def summarize(records: Sequence[Record], elapsed_s: float) -> SideSummary:
    """Fold one side's records into its summary."""
    statuses = Counter("none" if r.status is None else str(r.status) for r in records)
    ok = [r for r in records if r.ok]
    errors = len(records) - len(ok)
    cache = Counter(_cache_label(r) for r in records)
    served = sum(cache.get(label, 0) for label in SERVED_FROM_CACHE)
    looked_up = served + cache.get("miss", 0)
    endpoints: dict[str, dict[str, Any]] = {}
    for name in sorted({r.endpoint for r in records}):
        mine = [r for r in records if r.endpoint == name]
        mine_ok = [r.latency_ms for r in mine if r.ok]
        endpoints[name] = {
            "requests": len(mine),
            "errors": len(mine) - len(mine_ok),
            "latency_ok": asdict(Latency.of(mine_ok)),
        }
    return SideSummary(
        requests=len(records),
        ok=len(ok),
        errors=errors,
        error_rate=ratio(errors, len(records)),
        elapsed_s=elapsed_s,
        throughput_rps=ratio(len(records), elapsed_s),
        ok_throughput_rps=ratio(len(ok), elapsed_s),
        statuses=dict(sorted(statuses.items())),
        latency_ok=Latency.of([r.latency_ms for r in ok]),
        latency_all=Latency.of([r.latency_ms for r in records]),
        latency_from_cache=Latency.of([r.latency_ms for r in ok if r.cache in SERVED_FROM_CACHE]),
        data_age=Latency.of([r.age_ms for r in ok if r.age_ms is not None]),
        cache=dict(sorted(cache.items())),
        hit_rate=ratio(served, looked_up),
        endpoints=endpoints,
    )


def _cache_label(record: Record) -> str:
    if record.cache in CACHE_LABELS:
        return record.cache
    return "none" if record.cache is None else "other"


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, NaN when the denominator is zero or either is NaN."""
    if denominator == 0 or math.isnan(denominator) or math.isnan(numerator):
        return math.nan
    return numerator / denominator


def reduction(before: float, after: float) -> float:
    """How much smaller `after` is than `before`, as a fraction: 1 - after / before."""
    quotient = ratio(after, before)
    return math.nan if math.isnan(quotient) else 1.0 - quotient


def per_second(counts: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Cumulative samples (t, total) → (t, rate since the previous sample)."""
    out: list[tuple[float, float]] = []
    previous: tuple[float, float] | None = None
    for t, total in counts:
        if previous is not None and t > previous[0]:
            out.append((t, (total - previous[1]) / (t - previous[0])))
        previous = (t, total)
    return out
