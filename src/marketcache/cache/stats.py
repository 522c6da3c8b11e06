"""Cache counters, their snapshot (`CacheStats`) and the state of background tasks.

Each figure is declared once, as a field of `Counters` (what the cache counts)
or `CacheStats` (what is read from the store and L2 at snapshot time), with its
meaning, its kind and the views it is shown in; `/cache/stats`, `/health`, the
per-minute history and the Prometheus metrics are derived from `FIGURES`.

Counting rule: every `get_or_load` call, and every `peek` that returns a value,
is one lookup and exactly one of hits, stale_hits, misses or coalesced — so
`hits + stale_hits + misses + coalesced == lookups` always. A `peek` that
returns None counts nothing (its caller goes on to `get_or_load`, which counts).
In `get_or_load`, the caller that starts a load counts a miss (or a hit when L2
had the value fresh), callers that wait on someone else's load count coalesced,
whatever the load's outcome; an answer served stale (stale hit, or fallback
after a failed load) counts as a stale hit. A leader whose value came from
another replica's load (through its lease) counts coalesced.

Replica counters (a shared L2 only): `lease_waits` flights that waited for
another replica's load, `lease_takeovers` of which took the lease over after
it ended without a value, `lease_skips` background refreshes left to the
replica holding the lease, `remote_loads` values received from another
replica's load, `fanout_updates` L1 entries replaced by another replica's load,
`fanout_drops` L1 entries dropped by another replica's invalidation or clear.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from marketcache.cache.entry import Status

View = Literal["stats", "history", "metrics"]
"""Where a figure is shown: `/cache/stats` (and `/health`), the per-minute history, Prometheus."""
Kind = Literal["counter", "gauge"]
MB = 1024 * 1024


def _declare(
    kind: Kind, help_text: str, views: tuple[View, ...], metric: str | None, default: int | bool
) -> Any:
    metadata = {"kind": kind, "help": help_text, "views": frozenset(views), "metric": metric}
    return field(default=default, metadata=metadata)


def counter(help_text: str, *views: View) -> Any:
    """A figure that only grows (a count since start), shown in `views`."""
    return _declare("counter", help_text, views, None, 0)


def gauge(help_text: str, *views: View, metric: str | None = None, flag: bool = False) -> Any:
    """A figure read as it is now (a yes/no one with `flag`); `metric` renames it in Prometheus."""
    return _declare("gauge", help_text, views, metric, False if flag else 0)


ALL: tuple[View, ...] = ("stats", "history", "metrics")
COUNTED: tuple[View, ...] = ("history", "metrics")


@dataclass(slots=True)
class Counters:
    """The cache's own counters (plain ints, bumped on the hot path), each declared once here."""

    hits: int = counter("lookups answered fresh", *ALL)  # L1, or L2 on an L1 miss
    misses: int = counter("lookups that started a load", *ALL)
    stale_hits: int = counter(
        "lookups answered stale (stale-while-revalidate or stale-if-error)", *ALL
    )
    coalesced: int = counter("lookups that waited on a load another caller started", *ALL)
    lookups: int = counter("get_or_load and peek calls that answered", *ALL)
    loads: int = counter("loader calls, foreground and background", *ALL)
    load_errors: int = counter("loader calls that failed", *ALL)
    loads_refused: int = counter(
        "loads refused before their loader call (rate budget, a client's cold loads)", "metrics"
    )
    refreshes: int = counter("background loads (stale-triggered and refresh-ahead)", *ALL)
    expirations: int = counter("entries dropped past their stale window", *ALL)
    hedges: int = counter(
        "second attempts of loads that took far longer than their kind usually does", "metrics"
    )
    refresh_ahead: int = counter("background loads started by refresh-ahead")
    invalidations: int = counter("entries dropped by invalidate, invalidate_prefix or clear")
    timeouts: int = counter("waiters whose deadline passed")
    waiters_refused: int = counter("callers refused because a key had too many waiters")
    backend_hits: int = counter("L1 misses answered by L2")
    backend_errors: int = counter("L2 calls that failed")
    lease_waits: int = counter("flights that waited for another replica's load")
    lease_takeovers: int = counter("... of which took the lease over after it ended unloaded")
    lease_skips: int = counter("background refreshes left to the replica holding the lease")
    remote_loads: int = counter("values received from another replica's load")
    fanout_updates: int = counter("L1 entries replaced by another replica's load")
    fanout_drops: int = counter("L1 entries dropped by another replica's invalidation or clear")

    def served(self, status: Status) -> None:
        """Count one lookup answered with `status` (the hit path counts its own, inline)."""
        self.lookups += 1
        if status == "miss":
            self.misses += 1
        elif status == "coalesced":
            self.coalesced += 1
        elif status == "hit":
            self.hits += 1
        else:
            self.stale_hits += 1


@dataclass(slots=True)
class CacheStats(Counters):
    """A snapshot of the counters and occupancy (a fresh object per read)."""

    evictions: int = counter("entries evicted to stay under the memory bound", *ALL)
    rejected: int = counter("values too large to store", *COUNTED)
    in_flight: int = gauge("loads running now", "metrics", metric="in_flight_loads")
    entries: int = gauge("entries held", *ALL)
    bytes: int = gauge("bytes held, as counted against the bound", *ALL)
    max_bytes: int = gauge("the memory bound (CACHE_MAX_MEMORY_MB) in bytes", *ALL)
    backend_available: bool = gauge(
        "1 when the shared L2 (Redis) answers", "metrics", metric="l2_available", flag=True
    )
    backend_shared: bool = gauge("L2 coordinates replicas (leases, fan-out)", flag=True)

    @property
    def used_fraction(self) -> float:
        """Bytes held over the bound (0..1)."""
        return self.bytes / self.max_bytes if self.max_bytes else 0.0

    @property
    def hit_rate(self) -> float:
        """Lookups answered from the cache (fresh or stale) over all lookups (0..1)."""
        return (self.hits + self.stale_hits) / self.lookups if self.lookups else 0.0

    def to_dict(self) -> dict[str, int | float | bool]:
        """Every counter, plus used_fraction and hit_rate."""
        out: dict[str, int | float | bool] = asdict(self)
        out["used_fraction"] = self.used_fraction
        out["hit_rate"] = self.hit_rate
        return out


@dataclass(frozen=True, slots=True)
class Figure:
    """One declared figure of the cache: its name, what it means, and where it is shown."""

    name: str
    help: str
    kind: Kind
    views: frozenset[View]
    metric: str  # its name in Prometheus (after `marketcache_cache_`)


def declared(figures_of: type) -> tuple[Figure, ...]:
    """The figures a dataclass declares with `counter` and `gauge`, in declaration order."""
    return tuple(
        Figure(
            f.name,
            f.metadata["help"],
            f.metadata["kind"],
            f.metadata["views"],
            f.metadata["metric"] or f.name,
        )
        for f in dataclasses.fields(figures_of)
    )


FIGURES: tuple[Figure, ...] = declared(CacheStats)
"""Every figure of `CacheStats`, in declaration order."""
COUNTER_NAMES = tuple(f.name for f in dataclasses.fields(Counters))


def figures(view: View, kind: Kind | None = None) -> tuple[Figure, ...]:
    """The figures shown in `view` (of one kind if given), in declaration order."""
    return tuple(f for f in FIGURES if view in f.views and (kind is None or f.kind == kind))


def snapshot(counters: Counters, **occupancy: Any) -> CacheStats:
    """The counters as they are now, with the figures read from the store and L2."""
    return CacheStats(**{name: getattr(counters, name) for name in COUNTER_NAMES}, **occupancy)


SUMMARY = ("hit_rate", "entries", "memory_mb")
"""The figures `/health` shows (the checklist's), first in `/cache/stats` too."""


def public_stats(stats: CacheStats) -> dict[str, int | float]:
    """`/cache/stats`' figures: hit rate and memory use in percent, memory in MB, the rest
    as counted (an all-zero `CacheStats()` without a cache)."""
    out: dict[str, int | float] = {
        "hit_rate": round(stats.hit_rate * 100, 2),
        "entries": stats.entries,
        "memory_mb": round(stats.bytes / MB, 3),
    }
    for figure in figures("stats"):
        out.setdefault(figure.name, getattr(stats, figure.name))
    out["memory_usage_percent"] = round(stats.used_fraction * 100, 2)
    return out


@dataclass(slots=True)
class TaskState:
    """How a background task has fared: runs, the last run (clock time), errors."""

    running: bool = False
    runs: int = 0
    last_run: float | None = None
    last_error: str | None = None
    errors: int = 0

    def record(self, now: float, error: BaseException | None = None) -> None:
        """Count one run ending at `now`, failed with `error` if given."""
        self.runs += 1
        self.last_run = now
        if error is not None:
            self.errors += 1
            self.last_error = f"{type(error).__name__}: {error}"
