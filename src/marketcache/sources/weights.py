"""The upstream operations a source counts; their weights are each dialect's (`dialect.py`)."""

from __future__ import annotations

from typing import Final

MARKETS: Final = "markets"
TICKER: Final = "ticker"
TICKERS: Final = "tickers"  # several symbols in one request
OHLCV: Final = "ohlcv"
TRADES: Final = "trades"
PING: Final = "ping"
