"""A token bucket on an injected clock's times: an average rate with bounded bursts."""

from __future__ import annotations


class TokenBucket:
    """At most `rate` takes per second on average, with bursts of up to `burst`."""

    __slots__ = ("_at", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0")
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self._tokens = self.burst
        self._at: float | None = None

    def take(self, now: float) -> bool:
        """Take one token if there is one."""
        if self._at is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def wait_time(self) -> float:
        """Seconds until a token is available (after a failed take)."""
        return max(0.0, (1 - self._tokens) / self.rate)
