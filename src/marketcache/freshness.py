"""How long market data stays fresh, per kind, in market terms.

- A ticker moves every trade: fresh for about 2 s.
- Candles: closed ones never change, only the live candle moves, so a series is
  fresh for a few seconds, and never past the moment its live candle closes
  (then a new candle exists that the entry does not have).
- Recent trades: like the ticker.
- The list of markets changes with listings: fresh for an hour.
- An answer computed from raw data is exactly as fresh as that data: it has the
  same windows, counted from when the data was fetched (`Loaded.as_of`).
After `fresh` comes `stale`: the window in which the entry may still be served
while a refresh runs, or while the exchange fails.
"""

from __future__ import annotations

from dataclasses import dataclass

from marketcache.cache import Freshness
from marketcache.config import Settings

# Seconds per timeframe unit; `1M` is taken as 31 days, an upper bound that only
# matters to know when the live monthly candle closes (we cap freshness anyway).
# A kline stream sends the closed candle and the next one within its cadence
# (Binance: every 2 s): a streamed series waits that long for them before REST.
STREAMED_CLOSE_GRACE_S = 3.0
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "M": 2678400}


def timeframe_seconds(timeframe: str) -> int:
    """`15m` → 900."""
    return int(timeframe[:-1]) * _UNIT_SECONDS[timeframe[-1]]


@dataclass(frozen=True, slots=True)
class MarketFreshness:
    """Freshness per data kind, from the settings."""

    ticker: Freshness
    klines_fresh: float
    klines_stale: float
    trades: Freshness
    markets: Freshness

    @classmethod
    def from_settings(cls, settings: Settings) -> MarketFreshness:
        """Read the windows from the settings."""
        return cls(
            ticker=Freshness(settings.ticker_fresh_s, settings.ticker_stale_s),
            klines_fresh=settings.klines_live_fresh_s,
            klines_stale=settings.klines_stale_s,
            trades=Freshness(settings.trades_fresh_s, settings.trades_stale_s),
            markets=Freshness(settings.markets_fresh_s, settings.markets_stale_s),
        )

    def klines(
        self, live_close_ms: float | None, now: float, *, streamed: bool = False
    ) -> Freshness:
        """Fresh for a few seconds, and not past the close of the live candle (streamed:
        not past it by more than the stream takes to send the next candle)."""
        fresh = self.klines_fresh
        if live_close_ms is not None:
            if streamed:
                live_close_ms += STREAMED_CLOSE_GRACE_S * 1000
            until_close = live_close_ms / 1000.0 - now
            fresh = max(0.0, min(fresh, until_close + 0.001))
        return Freshness(fresh, self.klines_stale)
