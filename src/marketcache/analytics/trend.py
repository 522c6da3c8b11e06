"""Trend direction (regression against volatility) and strength (ADX).

Direction: fit a least-squares line to the last `period` closes (at least
`MIN_CLOSES`); the line's move across them is compared with the ATR: up when it
rises by more than one ATR, down when it falls by more, sideways otherwise.
Strength grades the ADX: below 20 weak, 20-25 moderate, 25-50 strong, 50 and
above very_strong. Either is None when its inputs need more history.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from marketcache.analytics.indicators import as_float
from marketcache.models import FloatArray

TREND_PERIOD = 50
MIN_CLOSES = 20


def regression_move(values: FloatArray) -> float:
    """How far the least-squares line of `values` moves from the first to the last point."""
    x = np.arange(len(values), dtype=np.float64)
    x -= x.mean()
    slope = float(np.dot(x, values - values.mean()) / np.dot(x, x))
    return slope * (len(values) - 1)


def adx_strength(adx: float | None) -> str | None:
    """The conventional grade of an ADX value."""
    if adx is None:
        return None
    if adx < 20:
        return "weak"
    if adx < 25:
        return "moderate"
    if adx < 50:
        return "strong"
    return "very_strong"


def trend(
    close: FloatArray, atr: float | None, adx: float | None, period: int = TREND_PERIOD
) -> dict[str, Any]:
    """Direction and strength of the trend of the last `period` closes."""
    recent = close[-period:]
    direction: str | None = None
    move: float | None = None
    if len(recent) >= MIN_CLOSES and atr is not None:
        move = regression_move(recent)
        if move > atr:
            direction = "up"
        elif move < -atr:
            direction = "down"
        else:
            direction = "sideways"
    start = float(recent[0]) if len(recent) else 0.0
    return {
        "direction": direction,
        "strength": adx_strength(adx),
        "adx": adx,
        "period": len(recent),
        "regression_move": as_float(move),
        "regression_move_percent": as_float(100.0 * move / start)
        if move is not None and start
        else None,
        "rule": "up/down when the regression line over the period moves more than 1 ATR",
    }
