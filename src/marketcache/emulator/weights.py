"""Request weights as Binance documents them, the per-minute limit, and usage counters."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Mapping

FIXED_WEIGHTS: dict[str, int] = {
    "/api/v3/ping": 1,
    "/api/v3/time": 1,
    "/api/v3/exchangeInfo": 20,
    "/api/v3/klines": 2,
    "/api/v3/uiKlines": 2,
    "/api/v3/aggTrades": 2,
    "/api/v3/trades": 10,
    "/api/v3/avgPrice": 2,
}
_DEPTH_WEIGHTS = [(100, 5), (500, 25), (1000, 50), (5000, 250)]


def _symbols_count(query: Mapping[str, str]) -> int | None:
    raw = query.get("symbols")
    if raw is None:
        return None
    try:
        parsed = json.loads(raw)
    except ValueError:
        return 1
    return len(parsed) if isinstance(parsed, list) else 1


def request_weight(path: str, query: Mapping[str, str]) -> int:
    """The weight Binance charges for one request (unknown paths weigh 1)."""
    if path in FIXED_WEIGHTS:
        return FIXED_WEIGHTS[path]
    if path == "/api/v3/depth":
        try:
            limit = int(query.get("limit", "100"))
        except ValueError:
            limit = 100
        return next((w for top, w in _DEPTH_WEIGHTS if limit <= top), 250)
    if path in {"/api/v3/ticker/24hr", "/api/v3/ticker"}:
        if "symbol" in query:
            return 2
        count = _symbols_count(query)
        if count is None or count > 100:
            return 80
        return 2 if count <= 20 else 40
    if path in {"/api/v3/ticker/price", "/api/v3/ticker/bookTicker"}:
        return 2 if "symbol" in query else 4
    return 1


class WeightMeter:
    """Counts requests and weight per path, and the weight used in the current minute."""

    def __init__(self, limit_per_minute: int, wall_clock: Callable[[], float] = time.time) -> None:
        self.limit = limit_per_minute
        self._wall_clock = wall_clock
        self.requests: Counter[str] = Counter()
        self.weights: Counter[str] = Counter()
        self._minute = self._current_minute()
        self._used = 0

    def _current_minute(self) -> int:
        return int(self._wall_clock() // 60)

    def used_this_minute(self) -> int:
        """Weight used since the start of the current wall-clock minute."""
        minute = self._current_minute()
        if minute != self._minute:
            self._minute, self._used = minute, 0
        return self._used

    def charge(self, path: str, weight: int) -> int:
        """Record one request; returns the weight used this minute, this request included."""
        self.requests[path] += 1
        self.weights[path] += weight
        self._used = self.used_this_minute() + weight
        return self._used

    def over_limit(self) -> bool:
        """Whether this minute's weight exceeds the limit."""
        return self.used_this_minute() > self.limit

    def seconds_to_next_minute(self) -> int:
        """Whole seconds until the minute (and its weight) resets, at least 1."""
        return max(1, int(60 - self._wall_clock() % 60 + 0.999))

    def reset(self) -> None:
        """Zero every counter."""
        self.requests.clear()
        self.weights.clear()
        self._used = 0

    def stats(self) -> dict[str, object]:
        """The `/_emulator/stats` answer."""
        return {
            "requests": dict(self.requests),
            "weight": dict(self.weights),
            "total_requests": sum(self.requests.values()),
            "total_weight": sum(self.weights.values()),
            "weight_this_minute": self.used_this_minute(),
        }
