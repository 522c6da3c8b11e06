"""Cumulative volume delta (CVD): aggressive buying minus aggressive selling, summed.

From candles, each candle's delta is taker buy volume minus taker sell volume,
`2 * taker_buy - volume`. Exchanges that do not report taker buy volume give
NaN there; `cvd_from_candles` then returns None, and the caller computes CVD
from recent trades with `cvd_from_trades` instead (a trade's delta is +amount
when the buyer took liquidity, -amount when the seller did). Both return the
same shape.

Candles are used as given: a live candle's delta so far is real traded volume,
so the caller may include it.

Trend: the least-squares slope of CVD over the series, times its length, as a
share of the total volume (`slope_share`): rising above +`flat_share`, falling
below -`flat_share`, flat between; None with fewer than two points.

Divergence, comparing the first half of the series with the second:
bullish when price makes a lower low (lowest low of the second half below that
of the first) while CVD makes a higher low; bearish when price makes a higher
high while CVD makes a lower high; none otherwise, or when both hold at once,
or with fewer than four points.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from marketcache.analytics.indicators import as_float
from marketcache.models import Candles, FloatArray, Trades

FLAT_SHARE = 0.05


def _trend(
    cvd: FloatArray, total_volume: float, flat_share: float
) -> tuple[str | None, float | None]:
    count = len(cvd)
    if count < 2 or total_volume <= 0:
        return None, None
    x = np.arange(count, dtype=np.float64)
    x -= x.mean()
    slope = float(np.dot(x, cvd - cvd.mean()) / np.dot(x, x))
    share = slope * (count - 1) / total_volume
    if share > flat_share:
        return "rising", share
    if share < -flat_share:
        return "falling", share
    return "flat", share


def _divergence(cvd: FloatArray, low: FloatArray, high: FloatArray) -> str:
    count = len(cvd)
    if count < 4:
        return "none"
    half = count // 2
    bullish = low[half:].min() < low[:half].min() and cvd[half:].min() > cvd[:half].min()
    bearish = high[half:].max() > high[:half].max() and cvd[half:].max() < cvd[:half].max()
    if bullish and not bearish:
        return "bullish"
    if bearish and not bullish:
        return "bearish"
    return "none"


def summarize(
    source: str,
    times: FloatArray,
    deltas: FloatArray,
    volumes: FloatArray,
    low: FloatArray,
    high: FloatArray,
    flat_share: float = FLAT_SHARE,
) -> dict[str, Any]:
    """The CVD answer for aligned per-step times, deltas, volumes and price ranges."""
    cvd = np.cumsum(deltas)
    total = float(np.sum(volumes))
    buy = float(np.sum((volumes + deltas) / 2.0))
    trend, share = _trend(cvd, total, flat_share)
    return {
        "basis": source,
        "points": len(cvd),
        "latest": float(cvd[-1]) if len(cvd) else None,
        "trend": trend,
        "slope_share": as_float(share),
        "flat_share": flat_share,
        "divergence": _divergence(cvd, low, high),
        "buy_volume": buy,
        "sell_volume": total - buy,
        "buy_share": as_float(buy / total) if total > 0 else None,
        "series": [
            {"time": int(t), "delta": float(d), "cvd": float(c)}
            for t, d, c in zip(times.tolist(), deltas.tolist(), cvd.tolist(), strict=True)
        ],
    }


def cvd_from_candles(
    candles: Candles, limit: int = 100, flat_share: float = FLAT_SHARE
) -> dict[str, Any] | None:
    """CVD over the last `limit` candles; None when they lack taker buy volume."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    recent = candles.tail(limit)
    taker_buy = recent.taker_buy_volume
    if not np.all(np.isfinite(taker_buy)):
        return None
    volume = recent.volume
    return summarize(
        "candles",
        recent.open_time,
        2.0 * taker_buy - volume,
        volume,
        recent.low,
        recent.high,
        flat_share,
    )


def cvd_from_trades(
    trades: Trades, buckets: int = 100, flat_share: float = FLAT_SHARE
) -> dict[str, Any]:
    """CVD from trades grouped, in order, into at most `buckets` groups of equal count.

    Each point's time is that of the group's last trade; its price range is the
    lowest and highest trade price in the group.
    """
    if buckets < 1:
        raise ValueError("buckets must be at least 1")
    count = len(trades)
    amount = trades.column("amount")
    price = trades.column("price")
    signed = np.where(trades.column("is_buyer_maker") > 0.5, -amount, amount)
    groups = min(buckets, count)
    if groups == 0:
        empty = np.empty(0, dtype=np.float64)
        return summarize("trades", empty, empty, empty, empty, empty, flat_share)
    starts = (np.arange(groups) * count) // groups  # every group holds at least one trade
    ends = np.append(starts[1:], count) - 1
    return summarize(
        "trades",
        trades.column("time")[ends],
        np.add.reduceat(signed, starts),
        np.add.reduceat(amount, starts),
        np.minimum.reduceat(price, starts),
        np.maximum.reduceat(price, starts),
        flat_share,
    )
