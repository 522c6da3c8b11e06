"""The comprehensive analysis of one symbol and timeframe.

Indicators are computed on CLOSED candles only: `comprehensive_analysis` takes
the candles as fetched (the last one may still be open) and `now_ms`, keeps the
candles whose close time has passed, and reports the live price separately
(from the ticker when given, else the open candle's close, else the last close).
An indicator that needs more closed candles than there are is None.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from marketcache.analytics import indicators as ind
from marketcache.analytics.levels import support_resistance
from marketcache.analytics.signal import score_signal
from marketcache.analytics.trend import trend
from marketcache.models import Candles, FloatArray, Ticker

VOLUME_PERIOD = 20


def parameters() -> dict[str, Any]:
    """The indicator parameters the analysis uses (a fresh dict)."""
    return {
        "rsi": 14,
        "macd": [12, 26, 9],
        "bollinger": [20, 2.0],
        "ema": [9, 21, 50, 200],
        "sma": [20, 50],
        "atr": 14,
        "stochastic": [14, 3, 3],
        "adx": 14,
        "volume_average": VOLUME_PERIOD,
    }


def _column(candles: Candles, name: str) -> FloatArray:
    return np.ascontiguousarray(candles.column(name), dtype=np.float64)


DAY_MS = 86_400_000


MAX_CANDLE_FOR_24H_MS = 3_600_000  # coarser candles cannot say what the price was 24 h ago


def _open_at(candles: Candles, at_ms: float) -> float | None:
    """The open of the candle that was live at `at_ms` (the price then, within the candle's
    length), if the series has it and its candles are at most an hour long."""
    index = int(np.searchsorted(candles.open_time, at_ms, side="right")) - 1
    if index < 0 or candles.close_time[index] < at_ms:
        return None
    if candles.close_time[index] - candles.open_time[index] >= MAX_CANDLE_FOR_24H_MS:
        return None
    return float(candles.open[index])


def _price(closed: Candles, live: Candles, ticker: Ticker | None, now_ms: float) -> dict[str, Any]:
    last_close = float(closed.close[-1]) if len(closed) else None
    price: dict[str, Any] = {
        "last": last_close,
        "source": "last_closed_candle" if len(closed) else None,
        "timestamp": int(closed.close_time[-1]) if len(closed) else None,
        "last_close": last_close,
        "change_24h": None,
        "change_24h_percent": None,
        "window_change_percent": None,
    }
    if ticker is not None:
        price.update(
            last=float(ticker.last),
            source="ticker",
            timestamp=int(ticker.timestamp),
            change_24h=ind.as_float(ticker.change),
            change_24h_percent=ind.as_float(ticker.change_percent),
        )
    else:
        if len(live):
            price.update(last=float(live.close[-1]), source="live_candle", timestamp=int(now_ms))
        whole = Candles(closed.symbol, closed.timeframe, np.vstack([closed.table, live.table]))
        before = _open_at(whole, now_ms - DAY_MS) if len(whole) else None
        if before and price["last"] is not None:
            change = price["last"] - before
            price.update(change_24h=change, change_24h_percent=100.0 * change / before)
    if len(closed) and closed.open[0] != 0:
        first_open = float(closed.open[0])
        price["window_change_percent"] = ind.as_float(
            100.0 * (float(closed.close[-1]) - first_open) / first_open
        )
    return price


def _volume(volume: FloatArray) -> dict[str, Any]:
    summary: dict[str, Any] = {"last": None, "average": None, "relative": None}
    if len(volume):
        summary["last"] = float(volume[-1])
    if len(volume) > VOLUME_PERIOD:
        average = float(np.mean(volume[-VOLUME_PERIOD - 1 : -1]))
        summary["average"] = average
        summary["relative"] = float(volume[-1]) / average if average > 0 else None
    summary["average_of"] = f"the {VOLUME_PERIOD} closed candles before the last"
    return summary


def compute_indicators(closed: Candles) -> dict[str, Any]:
    """Every indicator of the analysis on closed candles (latest values, None if short)."""
    high, low = _column(closed, "high"), _column(closed, "low")
    close, volume = _column(closed, "close"), _column(closed, "volume")
    return {
        "rsi": ind.rsi(close, 14),
        "macd": ind.macd(close, 12, 26, 9),
        "bollinger": ind.bollinger(close, 20, 2.0),
        "moving_averages": {
            "ema_9": ind.ema(close, 9),
            "ema_21": ind.ema(close, 21),
            "ema_50": ind.ema(close, 50),
            "ema_200": ind.ema(close, 200),
            "sma_20": ind.sma(close, 20),
            "sma_50": ind.sma(close, 50),
        },
        "atr": ind.atr(high, low, close, 14),
        "stochastic": ind.stochastic(high, low, close, 14, 3, 3),
        "adx": ind.adx(high, low, close, 14),
        "obv": ind.obv(close, volume),
        "vwap": ind.vwap(high, low, close, volume),
    }


def comprehensive_analysis(
    candles: Candles, *, now_ms: float, ticker: Ticker | None = None
) -> dict[str, Any]:
    """Indicators, volume, levels, trend and signal of the candles closed at `now_ms`."""
    closed = candles.closed(now_ms)
    live = Candles(candles.symbol, candles.timeframe, candles.table[candles.close_time >= now_ms])
    indicators = compute_indicators(closed)
    close = _column(closed, "close")
    last_close = float(close[-1]) if len(close) else None
    price = _price(closed, live, ticker, now_ms)
    levels_price = price["last"] if price["last"] is not None else last_close
    levels: dict[str, Any] = {"support": [], "resistance": []}
    if levels_price is not None:
        levels = support_resistance(
            closed.open_time, closed.high, closed.low, levels_price, indicators["atr"]
        )
    return {
        "symbol": candles.symbol,
        "timeframe": candles.timeframe,
        "price": price,
        "candles": {
            "closed": len(closed),
            "first_open_time": int(closed.open_time[0]) if len(closed) else None,
            "last_open_time": int(closed.open_time[-1]) if len(closed) else None,
            "live_excluded": len(live) > 0,
        },
        "parameters": parameters(),
        "indicators": indicators,
        "volume": _volume(_column(closed, "volume")),
        "levels": levels,
        "trend": trend(close, indicators["atr"], indicators["adx"]["adx"]),
        "signal": score_signal(last_close, indicators),
    }
