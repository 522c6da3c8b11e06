"""Binance's specifics: spot-only options, request weights, raw klines and aggTrades.

Weights (IP weight, limit 6000 per minute) as in ccxt's binance API cost table
(`api.public.get`, where cost = 0.2 × weight): `exchangeInfo` 4 → 20,
`ticker/24hr` with a symbol 0.4 → 2 (with `symbols`: 2 up to 20, 40 up to 100,
80 beyond, as Binance documents it), `klines` 0.4 → 2, `aggTrades` 0.4 → 2,
`time` 0.2 → 1. Candles and trades come from the raw endpoints (still through
ccxt's client, limiter and error handling) to keep the columns ccxt's unified
format drops: taker-buy volume, quote volume, trade count, buyer-maker flag.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from marketcache.errors import BadResponse
from marketcache.models import Candles, Ticker, Trades
from marketcache.sources import weights
from marketcache.sources.dialect import Call
from marketcache.sources.parse import (
    candles_from_binance,
    ticker_from_unified,
    trades_from_binance,
)

# operation → (Binance spot endpoint, request weight)
ENDPOINTS: Final[dict[str, tuple[str, int]]] = {
    weights.MARKETS: ("/api/v3/exchangeInfo", 20),
    weights.TICKER: ("/api/v3/ticker/24hr", 2),
    weights.TICKERS: ("/api/v3/ticker/24hr", 2),  # 2 for 1-20 symbols, 40 to 100, 80 beyond
    weights.OHLCV: ("/api/v3/klines", 2),
    weights.TRADES: ("/api/v3/aggTrades", 2),
    weights.PING: ("/api/v3/time", 1),
}


class Binance:
    """The Binance spot dialect."""

    def options(self) -> dict[str, Any]:
        """Spot markets only: no currencies (sapi capital/config) nor margin pairs."""
        return {
            "defaultType": "spot",
            "fetchMarkets": {"types": ["spot"]},
            "fetchCurrencies": False,
            "fetchMargins": False,
        }

    def weight(self, operation: str, count: int = 1) -> int:
        """Binance's request weight of one call."""
        if operation == weights.TICKERS:
            return 2 if count <= 20 else 40 if count <= 100 else 80
        return ENDPOINTS[operation][1]

    def ohlcv(
        self,
        exchange: Any,
        market_id: str,
        symbol: str,
        timeframe: str,
        limit: int,
        since_ms: int | None,
    ) -> Call[Candles]:
        """`GET /api/v3/klines`, all 12 columns."""
        params: dict[str, Any] = {
            "symbol": market_id,
            "interval": exchange.timeframes[timeframe],
            "limit": limit,
        }
        if since_ms is not None:
            params["startTime"] = since_ms
        return Call(
            lambda: exchange.publicGetKlines(params),
            lambda rows: candles_from_binance(rows, symbol, timeframe),
        )

    def trades(self, exchange: Any, market_id: str, symbol: str, limit: int) -> Call[Trades]:
        """`GET /api/v3/aggTrades`, with the buyer-maker flag."""
        params = {"symbol": market_id, "limit": limit}
        return Call(
            lambda: exchange.publicGetAggTrades(params),
            lambda rows: trades_from_binance(rows, symbol),
        )

    def stream_options(self, connections: int, per_connection: int) -> dict[str, Any]:
        """Subscriptions spread over `connections` connections (ccxt.pro's `streamLimits`),
        at most `per_connection` on each (Binance: 1024), and the 24 h ticker stream (not
        the mini ticker, which has no bid and ask)."""
        return {
            "defaultType": "spot",
            "streamLimits": {"spot": connections},
            "subscriptionLimitByStream": {"spot": per_connection},
            "watchTickers": {"name": "ticker"},
        }

    def stream_ticker(self, ticker: Any, symbol: str) -> Ticker:
        """A `24hrTicker` message (ccxt.pro keeps it as `info`) → `Ticker`, bid and ask
        included as the REST ticker has them (ccxt.pro drops them)."""
        info = ticker.get("info") if isinstance(ticker, Mapping) else None
        if not isinstance(info, Mapping) or info.get("e") != "24hrTicker":
            return ticker_from_unified(ticker, symbol)
        merged = dict(ticker)
        merged["bid"], merged["ask"] = _float(info.get("b")), _float(info.get("a"))
        return ticker_from_unified(merged, symbol)

    def capture_klines(self, exchange: Any, sink: Callable[..., None]) -> bool:
        """Every raw `kline` message to `sink(symbol, timeframe, k, E)` before ccxt.pro keeps
        its 6 unified columns (the taker-buy volume is in the rest)."""
        handle = exchange.handle_ohlcv

        def handle_ohlcv(client: Any, message: Any) -> None:
            kline = message.get("k") if isinstance(message, Mapping) else None
            if isinstance(kline, Mapping):
                market = exchange.safe_market(kline.get("s"), None, None, "spot")
                timeframe = exchange.find_timeframe(kline.get("i"))
                sink(market["symbol"], timeframe, kline, message.get("E"))
            handle(client, message)

        exchange.handle_ohlcv = handle_ohlcv
        return True


def kline_row(kline: Mapping[str, Any]) -> list[float]:
    """One `kline` stream message's `k` → a row of `Candles.COLUMNS` (as REST klines give)."""
    fields = ("t", "o", "h", "l", "c", "v", "T", "q", "n", "V", "Q")
    try:
        return [float(kline[name]) for name in fields]
    except (KeyError, TypeError, ValueError) as exc:
        raise BadResponse(f"kline stream: unusable message ({exc})") from exc


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
