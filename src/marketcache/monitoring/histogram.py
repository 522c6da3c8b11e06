"""Latency histograms with log-spaced bins: fixed size, mergeable, percentiles within a few %.

Bin 0 holds everything under `MIN_MS * GROWTH`; bin i >= 1 holds
`[MIN_MS * GROWTH**i, MIN_MS * GROWTH**(i+1))`; the last bin is open-ended
(about 47 minutes and beyond). A percentile is interpolated geometrically
inside its bin, so its error is bounded by the bin's width (25 %) and is
usually a few percent. Fixed-size counts make a histogram per minute cheap
enough to keep for a week, and histograms of many minutes merge by addition.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

MIN_MS = 0.05
GROWTH = 1.25
BINS = 80
_LOG_GROWTH = math.log(GROWTH)

Counts = npt.NDArray[np.uint32] | npt.NDArray[np.int64] | Sequence[int]


def bin_of(ms: float) -> int:
    """The bin that a latency of `ms` milliseconds falls in."""
    if ms < MIN_MS * GROWTH:
        return 0
    return min(BINS - 1, int(math.log(ms / MIN_MS) / _LOG_GROWTH))


def bin_bounds(index: int) -> tuple[float, float]:
    """The lower and upper edge of bin `index`, in milliseconds."""
    lower = 0.0 if index == 0 else MIN_MS * GROWTH**index
    return lower, MIN_MS * GROWTH ** (index + 1)


def percentile(counts: Counts, q: float) -> float | None:
    """The `q`-quantile (0..1) in milliseconds of the latencies counted, or None if none were."""
    if not 0 <= q <= 1:
        raise ValueError("q is a quantile in [0, 1]")
    values = np.asarray(counts, dtype=np.int64)
    total = int(values.sum())
    if total == 0:
        return None
    cumulative = np.cumsum(values)
    rank = max(1.0, q * total)  # the rank-th smallest latency, 1-based
    index = int(np.searchsorted(cumulative, rank, side="left"))
    before = int(cumulative[index - 1]) if index else 0
    inside = int(values[index])
    fraction = (rank - before) / inside
    lower, upper = bin_bounds(index)
    if index == 0:
        return upper * fraction
    return float(lower * (upper / lower) ** fraction)


class LatencyHistogram:
    """Counts of latencies by bin, bumped on the request path (a plain list: cheap increments)."""

    __slots__ = ("counts", "sum_ms", "total")

    def __init__(self) -> None:
        self.counts = [0] * BINS
        self.total = 0
        self.sum_ms = 0.0

    def add(self, ms: float) -> None:
        """Count one latency of `ms` milliseconds."""
        self.counts[bin_of(ms)] += 1
        self.total += 1
        self.sum_ms += ms

    def add_seconds(self, latencies_s: Sequence[float]) -> None:
        """Count latencies given in seconds (one call for a batch: as `add` each, in ms)."""
        counts = self.counts
        for seconds in latencies_s:
            ms = seconds * 1000
            counts[bin_of(ms)] += 1
            self.sum_ms += ms
        self.total += len(latencies_s)

    def percentile(self, q: float) -> float | None:
        """The `q`-quantile in milliseconds, or None when empty."""
        return percentile(self.counts, q)
