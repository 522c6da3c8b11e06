"""The per-minute history: a ring buffer of fixed capacity, allocated once.

Each row is one sampled period (normally one clock minute): the counters'
increase over it, the gauges at its end, and a latency histogram. Rows live in
preallocated numpy arrays, so the history's memory is the same whether it
holds one minute or a week, and whatever span a reader asks for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from marketcache.cache.stats import figures
from marketcache.keys import RAW_KINDS
from marketcache.monitoring.histogram import BINS

CACHE_COUNTERS = tuple(figure.name for figure in figures("history", "counter"))
"""The cache's counters a row holds (their increase over the period): see cache/stats.py."""

FIELDS: tuple[str, ...] = (
    # requests (from the API)
    "requests",
    "errors",
    "client_errors",
    "served_hit",
    "served_stale",
    "served_miss",
    "served_coalesced",
    "served_bypass",
    "latency_sum_ms",
    *(f"reads_{kind}" for kind in RAW_KINDS),
    # client market requests, and those answered from the cache (the client hit rate)
    "market_requests",
    "market_cached",
    # the cache's counters (increase over the period)
    *CACHE_COUNTERS,
    # the exchange (increase over the period)
    "upstream_calls",
    "upstream_weight",
    "upstream_errors",
    *(f"calls_{kind}" for kind in RAW_KINDS),
    # gauges at the end of the period
    "cache_bytes",
    "cache_entries",
    "max_bytes",
    "rss_bytes",
)
GAUGES = frozenset(("cache_bytes", "cache_entries", "max_bytes", "rss_bytes"))
COLUMN = {name: index for index, name in enumerate(FIELDS)}

WEEK_MINUTES = 7 * 24 * 60


@dataclass(frozen=True, slots=True)
class Rows:
    """Consecutive periods, oldest first: their bounds, values and latency histograms."""

    start: npt.NDArray[np.float64]
    end: npt.NDArray[np.float64]
    values: npt.NDArray[np.float64]  # (rows, len(FIELDS))
    latency: npt.NDArray[np.uint32]  # (rows, BINS)

    def __len__(self) -> int:
        return int(self.start.shape[0])

    def column(self, name: str) -> npt.NDArray[np.float64]:
        """One field for every row."""
        return self.values[:, COLUMN[name]]

    def total(self, name: str) -> float:
        """The sum of a counter over the rows."""
        return float(self.column(name).sum())

    def peak(self, name: str) -> float:
        """The largest value of a field over the rows (0 when there are none)."""
        column = self.column(name)
        return float(column.max()) if column.size else 0.0

    def latency_total(self) -> npt.NDArray[np.int64]:
        """The latency histogram of all rows together."""
        total: npt.NDArray[np.int64] = self.latency.sum(axis=0, dtype=np.int64)
        return total

    def span_s(self) -> float:
        """Seconds from the first row's start to the last row's end."""
        return float(self.end[-1] - self.start[0]) if len(self) else 0.0

    def row(self, index: int) -> Rows:
        """Row `index` alone."""
        end = index + 1 if index != -1 else None
        return Rows(
            self.start[index:end],
            self.end[index:end],
            self.values[index:end],
            self.latency[index:end],
        )

    def split(self, at: int) -> tuple[Rows, Rows]:
        """The rows before index `at` and from it on."""
        return (
            Rows(self.start[:at], self.end[:at], self.values[:at], self.latency[:at]),
            Rows(self.start[at:], self.end[at:], self.values[at:], self.latency[at:]),
        )

    def plus(self, other: Rows) -> Rows:
        """These rows followed by `other`'s."""
        return Rows(
            np.concatenate([self.start, other.start]),
            np.concatenate([self.end, other.end]),
            np.concatenate([self.values, other.values]),
            np.concatenate([self.latency, other.latency]),
        )


def single_row(
    start: float, end: float, values: Mapping[str, float], latency: Sequence[int]
) -> Rows:
    """One period as `Rows` (the open minute, for readers)."""
    row = np.zeros((1, len(FIELDS)), dtype=np.float64)
    for name, value in values.items():
        row[0, COLUMN[name]] = value
    return Rows(
        np.array([start], dtype=np.float64),
        np.array([end], dtype=np.float64),
        row,
        np.asarray(latency, dtype=np.uint32).reshape(1, BINS),
    )


class History:
    """The last `capacity` periods; appending beyond overwrites the oldest."""

    def __init__(self, capacity: int = WEEK_MINUTES) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self.capacity = capacity
        self._start = np.zeros(capacity, dtype=np.float64)
        self._end = np.zeros(capacity, dtype=np.float64)
        self._values = np.zeros((capacity, len(FIELDS)), dtype=np.float64)
        self._latency = np.zeros((capacity, BINS), dtype=np.uint32)
        self._appended = 0

    def __len__(self) -> int:
        return min(self._appended, self.capacity)

    @property
    def nbytes(self) -> int:
        """The bytes held by the ring's arrays (constant: allocated once)."""
        arrays = (self._start, self._end, self._values, self._latency)
        return sum(int(a.nbytes) for a in arrays)

    def append(
        self, start: float, end: float, values: Mapping[str, float], latency: Sequence[int]
    ) -> None:
        """Add the period `[start, end)`; fields not given are 0."""
        slot = self._appended % self.capacity
        self._start[slot] = start
        self._end[slot] = end
        row = self._values[slot]
        row[:] = 0.0
        for name, value in values.items():
            row[COLUMN[name]] = value
        self._latency[slot] = np.asarray(latency, dtype=np.uint32)
        self._appended += 1

    def since(self, t: float) -> Rows:
        """The periods ending after `t`, oldest first (copies)."""
        size = len(self)
        first = self._appended % self.capacity if self._appended > self.capacity else 0
        order = (np.arange(size) + first) % self.capacity
        order = order[self._end[order] > t]
        return Rows(self._start[order], self._end[order], self._values[order], self._latency[order])
