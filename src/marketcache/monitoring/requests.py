"""What the API served: the open minute's requests by outcome and latency, and misses by symbol.

It also counts the client-side hit rate: among market requests (the market
endpoints and `/prices`) that got data or failed on the service's side, the
ones answered from the cache (`hit` or `stale`). Warming, refresh-ahead and the
raw-series lookups behind an answer are not client requests: they are the
cache's lookup-level counters, reported apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from marketcache.endpoints import MARKET_ENDPOINTS
from marketcache.monitoring.histogram import LatencyHistogram

MAX_SYMBOLS = 5000  # spellings tallied; beyond, new ones are not (the tally stays bounded)
COLD = frozenset(("miss", "coalesced"))  # answers that had to wait for the exchange
FROM_CACHE = frozenset(("hit", "stale"))  # answers the cache gave without waiting on a load
BATCH_PATH = "/prices"
MARKET_PATHS = frozenset((*(e.path for e in MARKET_ENDPOINTS), BATCH_PATH))


def is_error(status: int) -> bool:
    """Whether a response counts against the error rate: the service failed, not the client."""
    return status >= 500 or status == 429


def is_market_request(path: str, status: int, paths: frozenset[str] = MARKET_PATHS) -> bool:
    """Whether a request counts in the client hit rate: a market path, answered or failed by us.

    A client's bad input (4xx other than 429) is not: no cache could have answered it.
    """
    return path in paths and (status < 400 or is_error(status))


@dataclass(slots=True)
class RequestCounts:
    """The requests of one period: counts by outcome, reads per data kind, latencies."""

    requests: int = 0
    errors: int = 0  # 5xx and 429 (see is_error)
    client_errors: int = 0  # other 4xx
    by_cache: dict[str, int] = field(default_factory=dict)  # hit, stale, miss, coalesced, bypass
    reads: dict[str, int] = field(default_factory=dict)  # successful market answers per data kind
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    market: int = 0  # market requests (see is_market_request)
    market_cached: int = 0  # ... of them answered from the cache (hit or stale)

    @property
    def stale(self) -> int:
        """Answers served stale."""
        return self.by_cache.get("stale", 0)


@dataclass(slots=True)
class SymbolTally:
    """Market answers and cold answers (miss or coalesced) of one symbol, as clients spelled it."""

    answers: int = 0
    cold: int = 0


class RequestRecorder:
    """Counts every request into the open period; `take` closes it and starts the next."""

    def __init__(
        self,
        kind_by_path: Mapping[str, str],
        max_symbols: int = MAX_SYMBOLS,
        market_paths: Iterable[str] = MARKET_PATHS,
    ) -> None:
        self.kind_by_path = dict(kind_by_path)
        self.max_symbols = max_symbols
        self.market_paths = frozenset(market_paths)
        self.current = RequestCounts()
        self.market_total = 0  # market requests since start
        self.market_cached_total = 0  # ... answered from the cache
        self.symbols: dict[str, SymbolTally] = {}
        self.symbols_dropped = 0  # answers not tallied because the tally was full

    def record(
        self,
        path: str,
        status: int,
        cache_status: str | None,
        latency_ms: float,
        symbol: str | None = None,
    ) -> None:
        """Count one request: its path, status, how the cache served it, its latency, its symbol."""
        counts = self.current
        counts.requests += 1
        counts.latency.add(latency_ms)
        if is_error(status):
            counts.errors += 1
        elif status >= 400:
            counts.client_errors += 1
        if is_market_request(path, status, self.market_paths):
            counts.market += 1
            self.market_total += 1
            if cache_status in FROM_CACHE:
                counts.market_cached += 1
                self.market_cached_total += 1
        if cache_status is None:
            return
        counts.by_cache[cache_status] = counts.by_cache.get(cache_status, 0) + 1
        if status >= 300:
            return
        kind = self.kind_by_path.get(path)
        if kind is not None:
            counts.reads[kind] = counts.reads.get(kind, 0) + 1
        if symbol is not None:
            self._tally(symbol, cache_status in COLD)

    def _tally(self, symbol: str, cold: bool) -> None:
        tally = self.symbols.get(symbol)
        if tally is None:
            if len(self.symbols) >= self.max_symbols:
                self.symbols_dropped += 1
                return
            tally = self.symbols[symbol] = SymbolTally()
        tally.answers += 1
        if cold:
            tally.cold += 1

    def take(self) -> RequestCounts:
        """Close the open period and return its counts."""
        closed, self.current = self.current, RequestCounts()
        return closed
