"""Canonical cache keys for market data: one cheap function per kind.

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


def trades_key(exchange: str, symbol: str) -> str:
    """The raw recent trades of a market."""
    return f"trades:{exchange}:{symbol}"


def answer_key(endpoint: str, exchange: str, symbol: str, *params: object) -> str:
    """The serialized answer of an endpoint for one market and its parameters."""
    tail = "".join(f":{p}" for p in params)
    return f"{ANSWER_PREFIX}{endpoint}:{exchange}:{symbol}{tail}"


def price_key(exchange: str, symbol: str) -> str:
    """The `/price` answer."""
    return answer_key("price", exchange, symbol)


def analysis_key(exchange: str, symbol: str, timeframe: str) -> str:
    """The `/comprehensive_analysis` answer."""
    return answer_key("comprehensive_analysis", exchange, symbol, timeframe)


def volume_spike_key(
    exchange: str, symbol: str, timeframe: str, lookback: int, threshold: float
) -> str:
    """The `/volume_spike` answer; `threshold` always as a float, so `2` and `2.0` share."""
    return answer_key("volume_spike", exchange, symbol, timeframe, lookback, float(threshold))


def cvd_key(exchange: str, symbol: str, timeframe: str, limit: int) -> str:
    """The `/cvd` answer."""
    return answer_key("cvd", exchange, symbol, timeframe, limit)


def symbol_prefixes(exchange: str, symbol: str) -> list[str]:
    """Every key prefix under which data of one market is kept."""
    prefixes = [f"{kind}:{exchange}:{symbol}" for kind in RAW_KINDS]
    for endpoint in ("price", "comprehensive_analysis", "volume_spike", "cvd"):
        prefixes.append(answer_key(endpoint, exchange, symbol))
    return prefixes


def key_symbol(key: str) -> str | None:
    """The market a key belongs to, or None if it is not a market key."""
    parts = key.split(":")
    if parts[0] == "answer" and len(parts) >= 4:
        return parts[3]
    if parts[0] in RAW_KINDS and len(parts) >= 3:
        return parts[2]
    return None
