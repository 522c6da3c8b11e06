"""The subscription limits (from `Settings`) and the count of connections per client address."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from marketcache.config import Settings
from marketcache.errors import TooManySubscriptions


@dataclass(frozen=True, slots=True)
class Limits:
    """How much one connection, one address and all clients together may hold."""

    per_connection: int = 50
    connections_per_client: int = 20
    keys: int = 1000
    backlog: int = 64

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """The `SUBSCRIBE_MAX_*` settings."""
        return cls(
            per_connection=settings.subscribe_max_per_connection,
            connections_per_client=settings.subscribe_max_connections_per_client,
            keys=settings.subscribe_max_keys,
            backlog=settings.subscribe_max_backlog,
        )


class Addresses:
    """Open subscription connections per client address, at most `limit` each."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: Counter[str] = Counter()

    def admit(self, host: str) -> None:
        """Count one more connection of `host`; TooManySubscriptions past the limit."""
        if self._open[host] >= self.limit:
            raise TooManySubscriptions(
                f"too many subscription connections from this address ({self.limit} at most)"
            )
        self._open[host] += 1

    def release(self, host: str) -> None:
        """One connection of `host` closed."""
        left = self._open[host] - 1
        if left > 0:
            self._open[host] = left
        else:
            self._open.pop(host, None)

    @property
    def total(self) -> int:
        """Connections open over all addresses."""
        return sum(self._open.values())
