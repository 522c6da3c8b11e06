"""Request weight per upstream operation: the one table of what each call costs.

Binance spot weights (IP weight, limit 6000 per minute) as reflected in ccxt's
binance API cost table (`ccxt/binance.py`, `api.public.get`, where cost = 0.2 ×
weight): `exchangeInfo` 4 → 20, `ticker/24hr` with a symbol 0.4 → 2, `klines`
0.4 → 2, `aggTrades` 0.4 → 2, `time` 0.2 → 1. Other exchanges publish no
comparable figure through ccxt; each of their calls counts as weight 1.
"""

from __future__ import annotations

from typing import Final

MARKETS: Final = "markets"
TICKER: Final = "ticker"
OHLCV: Final = "ohlcv"
TRADES: Final = "trades"
PING: Final = "ping"

# operation → (Binance spot endpoint, request weight)
BINANCE_ENDPOINTS: Final[dict[str, tuple[str, int]]] = {
    MARKETS: ("/api/v3/exchangeInfo", 20),
    TICKER: ("/api/v3/ticker/24hr", 2),
    OHLCV: ("/api/v3/klines", 2),
    TRADES: ("/api/v3/aggTrades", 2),
    PING: ("/api/v3/time", 1),
}

DEFAULT_WEIGHT: Final = 1


def weight_of(exchange_id: str, operation: str) -> int:
    """The request weight one call of `operation` costs on `exchange_id`."""
    if exchange_id == "binance":
        return BINANCE_ENDPOINTS[operation][1]
    return DEFAULT_WEIGHT
