"""The dialect of an exchange id: Binance's own, else ccxt's unified methods."""

from __future__ import annotations

from marketcache.sources.binance import Binance
from marketcache.sources.dialect import Dialect, Unified


def dialect_for(exchange_id: str) -> Dialect:
    """The exchange-specific part of `exchange_id`'s calls (REST and streams)."""
    return Binance() if exchange_id == "binance" else Unified()
