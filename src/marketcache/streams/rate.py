"""Messages per second over the last few seconds, in one-second buckets."""

from __future__ import annotations

from collections import deque


class Rate:
    """Events counted per whole second; `per_s` is the mean over the last `seconds` full ones."""

    def __init__(self, seconds: int = 10) -> None:
        self.seconds = seconds
        self._buckets: deque[tuple[int, int]] = deque()
        self.total = 0

    def add(self, now: float, count: int = 1) -> None:
        """Count `count` events at `now`."""
        second = int(now)
        self.total += count
        if self._buckets and self._buckets[-1][0] == second:
            self._buckets[-1] = (second, self._buckets[-1][1] + count)
        else:
            self._buckets.append((second, count))
        while self._buckets and self._buckets[0][0] < second - self.seconds:
            self._buckets.popleft()

    def per_s(self, now: float) -> float:
        """Events per second over the last `seconds` full seconds."""
        second = int(now)
        counted = sum(c for s, c in self._buckets if second - self.seconds <= s < second)
        return counted / self.seconds
