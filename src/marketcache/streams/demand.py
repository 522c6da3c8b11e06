"""Demand: reads per minute of each raw series, which are hot, which went quiet.

A series is hot when it was read `threshold` times within the last minute, and
quiet when it has not been read for `quiet_s` seconds (the reads before a quiet
period no longer count). Per series: the times of
its last `threshold` reads (a bounded deque) and of its last read; O(1) a read.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

WINDOW_S = 60.0


@dataclass(slots=True)
class _Reads:
    times: deque[float]
    last: float = 0.0
    total: int = field(default=0)


class Demand:
    """Reads of raw series keys (`ticker:binance:BTC/USDT`, `ohlcv:...:1m`) over time."""

    def __init__(self, threshold: int, quiet_s: float, max_keys: int = 10_000) -> None:
        if threshold < 1:
            raise ValueError("the threshold must be at least 1 read per minute")
        self.threshold = threshold
        self.quiet_s = quiet_s
        self.max_keys = max_keys
        self._reads: dict[str, _Reads] = {}

    def read(self, key: str, now: float) -> None:
        """Count one read of `key` at `now`."""
        reads = self._reads.get(key)
        if reads is None:
            if len(self._reads) >= self.max_keys:
                self.forget_quiet(now)
                if len(self._reads) >= self.max_keys:
                    return  # a flood of distinct keys: none of them is hot anyway
            reads = self._reads[key] = _Reads(deque(maxlen=self.threshold))
        elif now - reads.last >= self.quiet_s:
            reads.times.clear()  # a quiet period ended the demand: count afresh
        reads.times.append(now)
        reads.last = now
        reads.total += 1

    def rate(self, key: str, now: float) -> int:
        """Reads of `key` in the last minute, counted up to the threshold."""
        reads = self._reads.get(key)
        if reads is None:
            return 0
        return sum(1 for t in reads.times if now - t <= WINDOW_S)

    def is_hot(self, key: str, now: float) -> bool:
        """Whether `key` was read `threshold` times within the last minute (and not quiet
        since: a quiet period shorter than the minute still ends the demand)."""
        reads = self._reads.get(key)
        return (
            reads is not None
            and len(reads.times) == self.threshold
            and now - reads.times[0] <= WINDOW_S
            and now - reads.last < self.quiet_s
        )

    def hot(self, now: float) -> list[str]:
        """Every hot key, most read first."""
        found = [k for k in self._reads if self.is_hot(k, now)]
        return sorted(found, key=lambda k: -self._reads[k].total)

    def is_quiet(self, key: str, now: float) -> bool:
        """Whether `key` has not been read for `quiet_s` seconds (or never)."""
        reads = self._reads.get(key)
        return reads is None or now - reads.last >= self.quiet_s

    def forget_quiet(self, now: float) -> int:
        """Drop the counts of keys quiet for longer than a minute past `quiet_s`; how many."""
        doomed = [k for k, r in self._reads.items() if now - r.last >= self.quiet_s + WINDOW_S]
        for key in doomed:
            del self._reads[key]
        return len(doomed)

    def __len__(self) -> int:
        return len(self._reads)
