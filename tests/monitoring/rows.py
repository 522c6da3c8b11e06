"""Builders of history rows for the monitoring tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from marketcache.cache.stats import CacheStats
from marketcache.monitoring.histogram import BINS, bin_of
from marketcache.monitoring.history import History, Rows


def latency_of(values_ms: Sequence[float]) -> list[int]:
    """A latency histogram of the given latencies."""
    counts = [0] * BINS
    for ms in values_ms:
        counts[bin_of(ms)] += 1
    return counts


def rows_of(minutes: Sequence[Mapping[str, float]], start: float = 0.0) -> Rows:
    """Rows of consecutive minutes; a minute's `latency_ms` (if any) is its every request's."""
    history = History(capacity=max(1, len(minutes)))
    for i, minute in enumerate(minutes):
        values = {k: v for k, v in minute.items() if k != "latency_ms"}
        each = minute.get("latency_ms")
        requests = int(values.get("requests", 0))
        if each is not None:
            values["latency_sum_ms"] = each * requests
        latency = latency_of([each] * requests if each is not None else [])
        history.append(start + 60 * i, start + 60 * (i + 1), values, latency)
    return history.since(start - 1)


def cache_stats(**values: int | bool) -> CacheStats:
    """A cache snapshot: zero everywhere but `values` (max_bytes 1 MiB unless given)."""
    fields = {f.name: 0 for f in dataclasses.fields(CacheStats)}
    fields["backend_available"] = False
    fields["max_bytes"] = 1024 * 1024
    fields.update(values)
    return CacheStats(**fields)  # type: ignore[arg-type]
