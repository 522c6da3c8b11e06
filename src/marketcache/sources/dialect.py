"""How one exchange's calls are made through ccxt: the seam for exchange specifics.

`CcxtSource` is generic; what differs per exchange — constructor options, request
weights, and whether candles and trades come from ccxt's unified methods or from
raw endpoints that keep more columns, the options and message parsing of its
websocket streams — is a `Dialect`, chosen by exchange id in `dialects.py` (for
`CcxtSource` and `CcxtStreams`). Binance's lives in `binance.py`; every other
exchange uses `Unified`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from marketcache.models import Candles, Ticker, Trades
from marketcache.sources.parse import candles_from_ohlcv, ticker_from_unified, trades_from_unified

T = TypeVar("T")

DEFAULT_WEIGHT = 1  # exchanges that publish no comparable figure through ccxt


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One upstream request and the parser of its answer."""

    request: Callable[[], Awaitable[Any]]
    parse: Callable[[Any], T]


class Dialect(Protocol):
    """The exchange-specific part of a ccxt source."""

    def options(self) -> dict[str, Any]:
        """ccxt's `options` for the constructor."""
        ...

    def weight(self, operation: str, count: int = 1) -> int:
        """The request weight one call of `operation` costs (for `count` symbols)."""
        ...

    def ohlcv(
        self,
        exchange: Any,
        market_id: str,
        symbol: str,
        timeframe: str,
        limit: int,
        since_ms: int | None,
    ) -> Call[Candles]:
        """The request for candles."""
        ...

    def trades(self, exchange: Any, market_id: str, symbol: str, limit: int) -> Call[Trades]:
        """The request for recent trades."""
        ...

    def stream_options(self, connections: int, per_connection: int) -> dict[str, Any]:
        """ccxt.pro's `options` for the stream limits (connections, streams on each)."""
        ...

    def stream_ticker(self, ticker: Any, symbol: str) -> Ticker:
        """ccxt.pro's ticker of a stream message → `Ticker`."""
        ...

    def capture_klines(self, exchange: Any, sink: Callable[..., None]) -> bool:
        """Hand raw kline messages to `sink(symbol, timeframe, k, exchange_ms)`; whether
        this exchange's are captured (else ccxt.pro's unified candles are used)."""
        ...


class Unified:
    """Any ccxt exchange through its unified methods (spot, weight 1 a call)."""

    def options(self) -> dict[str, Any]:
        """Spot markets."""
        return {"defaultType": "spot"}

    def weight(self, operation: str, count: int = 1) -> int:
        """Every call counts 1."""
        return DEFAULT_WEIGHT

    def ohlcv(
        self,
        exchange: Any,
        market_id: str,
        symbol: str,
        timeframe: str,
        limit: int,
        since_ms: int | None,
    ) -> Call[Candles]:
        """`fetch_ohlcv`: no taker volume (CVD then comes from trades)."""
        period_ms = int(exchange.parse_timeframe(timeframe) * 1000)
        return Call(
            lambda: exchange.fetch_ohlcv(symbol, timeframe, since_ms, limit),
            lambda rows: candles_from_ohlcv(rows, symbol, timeframe, period_ms),
        )

    def trades(self, exchange: Any, market_id: str, symbol: str, limit: int) -> Call[Trades]:
        """`fetch_trades`."""
        return Call(
            lambda: exchange.fetch_trades(symbol, None, limit),
            lambda rows: trades_from_unified(rows, symbol),
        )

    def stream_options(self, connections: int, per_connection: int) -> dict[str, Any]:
        """Spot, and ccxt.pro's own connection handling."""
        return {"defaultType": "spot"}

    def stream_ticker(self, ticker: Any, symbol: str) -> Ticker:
        """ccxt.pro's unified ticker."""
        return ticker_from_unified(ticker, symbol)

    def capture_klines(self, exchange: Any, sink: Callable[..., None]) -> bool:
        """Nothing to capture: the unified candles (no taker volume)."""
        return False
