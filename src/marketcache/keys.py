"""Canonical cache keys for market data: one cheap function per kind.

Answer keys are made by each endpoint's declaration (`endpoints.py`) through
`answer_key`, so a new endpoint needs nothing here.

A key names what the data means, never how it was asked for: the symbol is the
normalized one (`BTC/USDT`), so `btcusdt` and `BTC-USDT` share an entry. Keys are
`kind:exchange:symbol[:timeframe][:params]`, so `invalidate_prefix` can drop all
of one kind (`answer:`), or one symbol's raw series (`ohlcv:binance:BTC/USDT:`).
"""

from __future__ import annotations

RAW_KINDS = ("ticker", "ohlcv", "trades")
ANSWER_PREFIX = "answer:"


def ticker_key(exchange: str, symbol: str) -> str:
    """The raw 24 h ticker of a market."""
    return f"ticker:{exchange}:{symbol}"


def ohlcv_key(exchange: str, symbol: str, timeframe: str) -> str:
    """The raw candles of a market and timeframe."""
    return f"ohlcv:{exchange}:{symbol}:{timeframe}"


def markets_key(exchange: str) -> str:
    """The raw list of an exchange's markets."""
    return f"markets:{exchange}"


def markets_answer_key(exchange: str, quote: str | None) -> str:
    """The `/markets` answer, all of them or of one quote asset (not a market's key)."""
    return f"{ANSWER_PREFIX}markets:{exchange}" + (f"|{quote}" if quote else "")


def trades_key(exchange: str, symbol: str) -> str:
    """The raw recent trades of a market."""
    return f"trades:{exchange}:{symbol}"


def answer_key(endpoint: str, exchange: str, symbol: str, *params: object) -> str:
    """The serialized answer of an endpoint for one market and its parameters."""
    tail = "".join(f":{p}" for p in params)
    return f"{ANSWER_PREFIX}{endpoint}:{exchange}:{symbol}{tail}"


def raw_prefixes(exchange: str, symbol: str) -> list[str]:
    """The key of each raw series of one market (every raw key of it starts with one)."""
    return [f"{kind}:{exchange}:{symbol}" for kind in RAW_KINDS]


def key_symbol(key: str) -> str | None:
    """The market a key belongs to, or None if it is not a market key."""
    parts = key.split(":")
    if parts[0] == "answer" and len(parts) >= 4:
        return parts[3]
    if parts[0] in RAW_KINDS and len(parts) >= 3:
        return parts[2]
    return None
