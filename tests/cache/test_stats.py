"""The cache's figures: declared once, every view derived from the declaration."""

from __future__ import annotations

import dataclasses

from marketcache.cache.stats import (
    FIGURES,
    SUMMARY,
    CacheStats,
    Counters,
    figures,
    public_stats,
    snapshot,
)
from marketcache.monitoring.history import CACHE_COUNTERS, FIELDS

README_STATS = [  # the `/cache/stats` fields the README documents
    "hit_rate",
    "entries",
    "memory_mb",
    "hits",
    "misses",
    "evictions",
    "stale_hits",
    "coalesced",
    "lookups",
    "loads",
    "load_errors",
    "refreshes",
    "expirations",
    "bytes",
    "max_bytes",
    "memory_usage_percent",
]


def test_every_figure_is_declared_with_its_meaning() -> None:
    names = [f.name for f in FIGURES]
    assert names == [f.name for f in dataclasses.fields(CacheStats)]
    assert len(set(names)) == len(names)
    assert all(f.help and f.kind in ("counter", "gauge") for f in FIGURES)


def test_the_public_stats_keep_the_documented_fields() -> None:
    empty = public_stats(CacheStats())
    assert sorted(empty) == sorted(README_STATS)
    assert set(empty.values()) == {0}
    assert list(empty)[: len(SUMMARY)] == list(SUMMARY)


def test_public_stats_render_percent_and_megabytes() -> None:
    stats = CacheStats(hits=3, stale_hits=1, lookups=7, bytes=3 * 1024 * 1024, max_bytes=12 << 20)
    shown = public_stats(stats)
    assert shown["hit_rate"] == 57.14
    assert shown["memory_mb"] == 3.0
    assert shown["memory_usage_percent"] == 25.0
    assert shown["hits"] == 3


def test_the_history_holds_the_declared_counters() -> None:
    assert tuple(f.name for f in figures("history", "counter")) == CACHE_COUNTERS
    assert set(CACHE_COUNTERS) <= set(FIELDS)
    assert "rejected" in CACHE_COUNTERS
    assert "rejected" not in public_stats(CacheStats())


def test_a_snapshot_copies_every_counter() -> None:
    counters = Counters()
    for i, field in enumerate(dataclasses.fields(Counters), start=1):
        setattr(counters, field.name, i)
    stats = snapshot(counters, entries=4, bytes=10, max_bytes=100)
    for i, field in enumerate(dataclasses.fields(Counters), start=1):
        assert getattr(stats, field.name) == i
    counters.hits += 100
    assert stats.hits != counters.hits  # a snapshot, not a view
    assert stats.to_dict()["used_fraction"] == 0.1
