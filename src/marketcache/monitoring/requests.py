"""What the API served: the open minute's requests by outcome and latency, and misses by symbol.

It also counts the client-side hit rate: among market requests (the market
endpoints and `/prices`) that got data or failed on the service's side, the
ones answered from the cache (`hit` or `stale`). Warming, refresh-ahead and the
raw-series lookups behind an answer are not client requests: they are the
cache's lookup-level counters, reported apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
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


Labels = tuple[str, int, str | None, str | None, str, str]
"""What tells one request from another for counting: path, status, cache status, symbol,
and the endpoint and method labels of the metrics."""
GroupSink = Callable[[Labels, list[float]], None]  # a label set and its latencies (seconds)


class RequestRecorder:
    """Counts every request into the open period; `take` closes it and starts the next.

    A request is only appended to a batch when it is answered (a few hundred
    nanoseconds); the batch is counted, requests of one label set together, whenever
    anything reads the counts (every reader goes through `settle`), or once it holds
    `SETTLE_AT` requests. `sinks` (the Prometheus counters) get each label set's
    latencies at the same moment, so the two never disagree.
    """

    SETTLE_AT = 256  # bounds the batch's memory and the pause its counting takes (~0.2 ms)

    def __init__(
        self,
        kind_by_path: Mapping[str, str],
        max_symbols: int = MAX_SYMBOLS,
        market_paths: Iterable[str] = MARKET_PATHS,
    ) -> None:
        self.kind_by_path = dict(kind_by_path)
        self.max_symbols = max_symbols
        self.market_paths = frozenset(market_paths)
        self.sinks: list[GroupSink] = []
        self._pending: list[tuple[Labels, float]] = []
        self._current = RequestCounts()
        self._market_total = 0  # market requests since start
        self._market_cached_total = 0  # ... answered from the cache
        self._symbols: dict[str, SymbolTally] = {}
        self._symbols_dropped = 0  # answers not tallied because the tally was full

    def record(
        self,
        path: str,
        status: int,
        cache_status: str | None,
        latency_ms: float,
        symbol: str | None = None,
    ) -> None:
        """Count one request: its path, status, how the cache served it, its latency, its symbol."""
        self.add((path, status, cache_status, symbol, "", ""), latency_ms / 1000)

    def add(self, labels: Labels, latency_s: float) -> None:
        """Count one request of `labels` that took `latency_s` (batched: see the class)."""
        pending = self._pending
        pending.append((labels, latency_s))
        if len(pending) >= self.SETTLE_AT:
            self.settle()

    def settle(self) -> None:
        """Count the batch: its requests grouped by label set, into the counts and the sinks."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        groups: dict[Labels, list[float]] = {}
        for labels, latency_s in pending:
            found = groups.get(labels)
            if found is None:
                groups[labels] = [latency_s]
            else:
                found.append(latency_s)
        for labels, latencies in groups.items():
            self._count(labels, latencies)
            for sink in self.sinks:
                sink(labels, latencies)

    def _count(self, labels: Labels, latencies: list[float]) -> None:
        path, status, cache_status, symbol = labels[0], labels[1], labels[2], labels[3]
        n = len(latencies)
        counts = self._current
        counts.requests += n
        counts.latency.add_seconds(latencies)
        if is_error(status):
            counts.errors += n
        elif status >= 400:
            counts.client_errors += n
        if is_market_request(path, status, self.market_paths):
            counts.market += n
            self._market_total += n
            if cache_status in FROM_CACHE:
                counts.market_cached += n
                self._market_cached_total += n
        if cache_status is None:
            return
        counts.by_cache[cache_status] = counts.by_cache.get(cache_status, 0) + n
        if status >= 300:
            return
        kind = self.kind_by_path.get(path)
        if kind is not None:
            counts.reads[kind] = counts.reads.get(kind, 0) + n
        if symbol is not None:
            self._tally(symbol, n, cache_status in COLD)

    def _tally(self, symbol: str, n: int, cold: bool) -> None:
        tally = self._symbols.get(symbol)
        if tally is None:
            if len(self._symbols) >= self.max_symbols:
                self._symbols_dropped += n
                return
            tally = self._symbols[symbol] = SymbolTally()
        tally.answers += n
        if cold:
            tally.cold += n

    @property
    def current(self) -> RequestCounts:
        """The open period's counts so far."""
        self.settle()
        return self._current

    @property
    def market_total(self) -> int:
        """Market requests since start."""
        self.settle()
        return self._market_total

    @property
    def market_cached_total(self) -> int:
        """Market requests since start answered from the cache (hit or stale)."""
        self.settle()
        return self._market_cached_total

    @property
    def symbols(self) -> dict[str, SymbolTally]:
        """Market answers by symbol as clients spelled it, since start (bounded)."""
        self.settle()
        return self._symbols

    @property
    def symbols_dropped(self) -> int:
        """Answers not tallied because the symbol tally was full."""
        self.settle()
        return self._symbols_dropped

    def take(self) -> RequestCounts:
        """Close the open period and return its counts."""
        self.settle()
        closed, self._current = self._current, RequestCounts()
        return closed
