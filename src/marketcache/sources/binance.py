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

from typing import Any, Final

from marketcache.models import Candles, Trades
from marketcache.sources import weights
from marketcache.sources.dialect import Call
from marketcache.sources.parse import candles_from_binance, trades_from_binance

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
