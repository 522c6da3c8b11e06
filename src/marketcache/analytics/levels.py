"""Support and resistance levels from swing highs and lows.

A swing high is a candle whose high is strictly above the highs of the `order`
candles on each side; a swing low likewise with lows. Sorted by price, swings
within `tolerance` (one ATR, or 1 % of the price when ATR is unknown) of
a level's lowest member are merged into that level: its price is their mean,
`touches` how many swings it holds, `last_time` the open time of the latest
one. Levels below the current price are supports, above it resistances, both
nearest first.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from marketcache.models import FloatArray

SWING_ORDER = 2
MAX_LEVELS = 3


def swing_points(values: FloatArray, order: int, highs: bool) -> npt.NDArray[np.intp]:
    """Indexes of swing highs (or lows) of `values` with `order` candles on each side."""
    if len(values) < 2 * order + 1:
        return np.empty(0, dtype=np.intp)
    windows = sliding_window_view(values if highs else -values, 2 * order + 1)
    center = windows[:, order]
    others = np.maximum(windows[:, :order].max(axis=1), windows[:, order + 1 :].max(axis=1))
    return np.flatnonzero(center > others) + order


def _cluster(prices: FloatArray, times: FloatArray, tolerance: float) -> list[dict[str, Any]]:
    order = np.argsort(prices, kind="stable")
    levels: list[dict[str, Any]] = []
    members: list[int] = []
    for index in order.tolist():
        if members and prices[index] - prices[members[0]] > tolerance:
            levels.append(_level(prices, times, members))
            members = []
        members.append(index)
    if members:
        levels.append(_level(prices, times, members))
    return levels


def _level(prices: FloatArray, times: FloatArray, members: list[int]) -> dict[str, Any]:
    return {
        "price": float(np.mean(prices[members])),
        "touches": len(members),
        "last_time": int(max(times[members].tolist())),
    }


def support_resistance(
    open_time: FloatArray,
    high: FloatArray,
    low: FloatArray,
    price: float,
    atr: float | None,
    order: int = SWING_ORDER,
    max_levels: int = MAX_LEVELS,
) -> dict[str, Any]:
    """The nearest support levels below `price` and resistance levels above it."""
    tolerance = atr if atr else 0.01 * abs(price)
    swing_high = swing_points(high, order, highs=True)
    swing_low = swing_points(low, order, highs=False)
    prices = np.concatenate((high[swing_high], low[swing_low]))
    times = np.concatenate((open_time[swing_high], open_time[swing_low]))
    levels = _cluster(prices, times, tolerance)
    support = sorted((lv for lv in levels if lv["price"] < price), key=lambda lv: -lv["price"])
    resistance = sorted((lv for lv in levels if lv["price"] > price), key=lambda lv: lv["price"])
    return {
        "support": support[:max_levels],
        "resistance": resistance[:max_levels],
        "tolerance": float(tolerance),
        "swing_order": order,
    }
