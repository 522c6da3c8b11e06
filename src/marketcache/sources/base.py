"""The `Source` protocol: what the service needs from an exchange."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from marketcache.models import Candles, Market, Ticker, Trades


@dataclass(slots=True)
class OperationCount:
    """Calls, errors and request weight spent on one upstream operation."""

    calls: int = 0
    errors: int = 0
    weight: int = 0


@dataclass(slots=True)
class UpstreamStats:
    """Upstream calls counted per operation (`ticker`, `ohlcv`, `trades`, `markets`, `ping`)."""

    operations: dict[str, OperationCount] = field(default_factory=dict)

    def record(self, operation: str, weight: int, *, failed: bool = False) -> None:
        """Count one call of `operation` costing `weight`."""
        count = self.operations.get(operation)
        if count is None:
            count = self.operations[operation] = OperationCount()
        count.calls += 1
        count.weight += weight
        if failed:
            count.errors += 1

    @property
    def total_calls(self) -> int:
        return sum(c.calls for c in self.operations.values())

    @property
    def total_weight(self) -> int:
        return sum(c.weight for c in self.operations.values())

    @property
    def total_errors(self) -> int:
        return sum(c.errors for c in self.operations.values())


class Source(Protocol):
    """An exchange, seen through the operations the service needs.

    Every method raises only errors of `marketcache.errors`.
    """

    @property
    def exchange_id(self) -> str:
        """The ccxt id of the exchange, e.g. `binance`."""
        ...

    @property
    def source_name(self) -> str:
        """Where the data really comes from: the exchange id, or `emulator`."""
        ...

    @property
    def timeframes(self) -> tuple[str, ...]:
        """The intervals the exchange offers, e.g. `1m`, `15m`, `1d`."""
        ...

    @property
    def stats(self) -> UpstreamStats:
        """Calls made so far, per operation."""
        ...

    async def load_markets(self) -> Mapping[str, Market]:
        """Load (once) and return the spot markets by unified symbol."""
        ...

    async def fetch_markets(self) -> list[Market]:
        """The spot markets as the exchange lists them now, by symbol (always a request)."""
        ...

    def normalize_symbol(self, raw: str) -> str:
        """`btcusdt`, `BTC-USDT`, `btc/usdt` → `BTC/USDT`; raises `UnknownSymbol`.

        Needs `load_markets` to have run; makes no network call.
        """
        ...

    def check_timeframe(self, timeframe: str) -> str:
        """Return the timeframe if the exchange offers it; raises `UnsupportedTimeframe`."""
        ...

    async def fetch_ticker(self, symbol: str) -> Ticker:
        """The 24 h ticker of a normalized symbol."""
        ...

    async def fetch_tickers(self, symbols: Sequence[str]) -> dict[str, Ticker]:
        """The 24 h tickers of normalized symbols, in one request where the exchange can."""
        ...

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, limit: int, since_ms: int | None = None
    ) -> Candles:
        """Up to `limit` candles, oldest first, the live one last."""
        ...

    async def fetch_trades(self, symbol: str, limit: int) -> Trades:
        """Up to `limit` recent trades, oldest first."""
        ...

    async def ping(self) -> bool:
        """Whether the exchange answers now."""
        ...

    async def close(self) -> None:
        """Release the client and its connections."""
        ...
