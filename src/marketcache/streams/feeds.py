"""Stream messages → the raw entries the REST refresh would have stored.

- ticker: the 24 h ticker stream gives the whole ticker (about once a second on
  Binance); each trade message in between moves its `last` (and `high`, `low`,
  `change`, `change_percent`) to the trade's price, so the price is the tape's
  last trade as soon as it is sent. Volumes move with the next ticker message.
- candles: each kline message's candle replaces the row with its open time or is
  appended after the last one, onto the closed candles the cache holds — the
  splice `candle_pages.lay_over` makes of a REST page. A gap (a candle missed while
  disconnected) asks for a REST backfill instead of inventing one.
Every value is marked `streamed` and stamped with its message's exchange time.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from marketcache.candle_pages import lay_over
from marketcache.freshness import timeframe_seconds
from marketcache.models import Candles, FloatArray, Ticker

if TYPE_CHECKING:
    from marketcache.sources.streaming import TickerUpdate, TradeUpdate


@dataclass(frozen=True, slots=True)
class Target:
    """A raw series a stream keeps fresh: its cache key and what to watch for it."""

    key: str
    kind: str  # ticker | ohlcv
    symbol: str
    timeframe: str | None = None

    @classmethod
    def of(cls, key: str) -> Target | None:
        """The target of a raw key (`ticker:<ex>:<symbol>`, `ohlcv:<ex>:<symbol>:<tf>`)."""
        parts = key.split(":")
        if parts[0] == "ticker" and len(parts) == 3:
            return cls(key, "ticker", parts[2])
        if parts[0] == "ohlcv" and len(parts) == 4:
            return cls(key, "ohlcv", parts[2], parts[3])
        return None

    @property
    def name(self) -> str:
        """`ticker BTC/USDT`, `ohlcv BTC/USDT 1m` (logs, stats and alerts)."""
        return " ".join(p for p in (self.kind, self.symbol, self.timeframe) if p)


class TickerFeed:
    """The streamed ticker of one market: the last ticker message, moved by trades."""

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.base: Ticker | None = None
        self.at_ms = 0

    def on_ticker(self, update: TickerUpdate) -> Ticker | None:
        """The ticker after a ticker message (None if older than what we have)."""
        if update.at_ms < self.at_ms:
            return None
        ticker = dataclasses.replace(update.ticker, timestamp=update.at_ms, streamed=True)
        self.base, self.at_ms = ticker, update.at_ms
        return ticker

    def on_trade(self, update: TradeUpdate) -> Ticker | None:
        """The ticker after trades (None before the first ticker message, or if older)."""
        base = self.base
        if base is None or update.at_ms < self.at_ms:
            return None
        price = update.price
        high = price if base.high is None else max(base.high, price)
        low = price if base.low is None else min(base.low, price)
        change = None if base.open is None else price - base.open
        percent = None if change is None or not base.open else change / base.open * 100
        ticker = dataclasses.replace(
            base,
            timestamp=update.at_ms,
            last=price,
            high=high,
            low=low,
            change=change,
            change_percent=percent,
        )
        self.base, self.at_ms = ticker, update.at_ms
        return ticker


def splice(held: Candles, rows: FloatArray, timeframe: str) -> Candles | None:
    """`held` with streamed `rows` laid over its end; None when they do not join
    (a candle between the two is missing: the series needs a REST backfill)."""
    if not len(rows):
        return Candles(held.symbol, held.timeframe, held.table, True)
    if not len(held):
        return None
    first = float(rows[0, 0])
    step_ms = timeframe_seconds(timeframe) * 1000
    if first > float(held.open_time[-1]) + step_ms:
        return None
    return lay_over(held, rows, streamed=True)
