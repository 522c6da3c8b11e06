"""The emulator's clock: starts at a chosen instant, runs with real time or stays frozen."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def parse_clock_start(text: str) -> int:
    """Milliseconds since the epoch from an ISO time (UTC if no zone) or a number of ms."""
    stripped = text.strip()
    if stripped.lstrip("-").isdigit():
        return int(stripped)
    moment = datetime.fromisoformat(stripped.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


class EmulatorClock:
    """Milliseconds of emulated time; `frozen` clocks move only by `advance`/`set`."""

    def __init__(self, start_ms: int | None = None, *, frozen: bool = False) -> None:
        self.start_ms = int(time.time() * 1000) if start_ms is None else int(start_ms)
        self.frozen = frozen
        self._base_ms = self.start_ms
        self._base_real = time.monotonic()

    def now_ms(self) -> int:
        """The emulator's current time."""
        if self.frozen:
            return self._base_ms
        return self._base_ms + int((time.monotonic() - self._base_real) * 1000)

    def advance(self, ms: int) -> int:
        """Move the clock forward by `ms` (running or frozen); returns the new time."""
        return self.set(self.now_ms() + int(ms))

    def set(self, ms: int) -> int:
        """Put the clock at `ms`; returns it."""
        self._base_ms = int(ms)
        self._base_real = time.monotonic()
        return self._base_ms
