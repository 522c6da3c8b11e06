"""TA-Lib indicator wrappers that return the latest value, or None when history is short.

Every function takes float64 numpy arrays (oldest first) and returns plain Python
floats. TA-Lib marks the warm-up part of its output with NaN; a NaN (or an
infinity) at the last position becomes None, so a value that needs more history
than the input holds is reported as missing, never invented.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import talib

from marketcache.models import FloatArray

# talib's package does not re-export MA_Type for type checkers; its SMA is 0 at runtime.
_SMA: Any = talib.MA_Type.SMA  # type: ignore[attr-defined]


def as_float(value: float | np.floating | None) -> float | None:
    """A finite plain float, or None for None/NaN/infinity."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def last(values: FloatArray) -> float | None:
    """The last element as a plain float; None when empty or not finite."""
    return as_float(values[-1]) if len(values) else None


def _contiguous(values: FloatArray) -> FloatArray:
    return np.ascontiguousarray(values, dtype=np.float64)


def rsi(close: FloatArray, period: int = 14) -> float | None:
    """Wilder's relative strength index (needs period + 1 closes)."""
    if len(close) <= period:
        return None
    return last(talib.RSI(_contiguous(close), timeperiod=period))


def ema(close: FloatArray, period: int) -> float | None:
    """Exponential moving average seeded with the SMA of the first `period` closes."""
    if len(close) < period:
        return None
    return last(talib.EMA(_contiguous(close), timeperiod=period))


def sma(close: FloatArray, period: int) -> float | None:
    """Simple moving average of the last `period` closes."""
    if len(close) < period:
        return None
    return last(talib.SMA(_contiguous(close), timeperiod=period))


def macd(
    close: FloatArray, fast: int = 12, slow: int = 26, signal: int = 9
) -> dict[str, float | None]:
    """MACD line, signal line, histogram, and the histogram one candle earlier."""
    empty: dict[str, float | None] = {
        "macd": None,
        "signal": None,
        "histogram": None,
        "previous_histogram": None,
    }
    if len(close) < slow + signal - 1:
        return empty
    line, sig, hist = talib.MACD(
        _contiguous(close), fastperiod=fast, slowperiod=slow, signalperiod=signal
    )
    return {
        "macd": last(line),
        "signal": last(sig),
        "histogram": last(hist),
        "previous_histogram": last(hist[:-1]),
    }


def bollinger(
    close: FloatArray, period: int = 20, deviations: float = 2.0
) -> dict[str, float | None]:
    """Bollinger bands (SMA ± k population std) with %B and relative width."""
    result: dict[str, float | None] = {
        "upper": None,
        "middle": None,
        "lower": None,
        "percent_b": None,
        "width": None,
    }
    if len(close) < period:
        return result
    upper, middle, lower = talib.BBANDS(
        _contiguous(close),
        timeperiod=period,
        nbdevup=deviations,
        nbdevdn=deviations,
        matype=_SMA,
    )
    up, mid, low = last(upper), last(middle), last(lower)
    result.update(upper=up, middle=mid, lower=low)
    if up is not None and low is not None and up > low:
        result["percent_b"] = as_float((float(close[-1]) - low) / (up - low))
    if up is not None and low is not None and mid:
        result["width"] = as_float((up - low) / mid)
    return result


def atr(high: FloatArray, low: FloatArray, close: FloatArray, period: int = 14) -> float | None:
    """Wilder's average true range (needs period + 1 candles)."""
    if len(close) <= period:
        return None
    return last(
        talib.ATR(_contiguous(high), _contiguous(low), _contiguous(close), timeperiod=period)
    )


def stochastic(
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    k_period: int = 14,
    k_smooth: int = 3,
    d_period: int = 3,
) -> dict[str, float | None]:
    """Slow stochastic: %K smoothed by an SMA of `k_smooth`, %D an SMA of %K."""
    if len(close) < k_period + k_smooth + d_period - 2:
        return {"k": None, "d": None}
    k, d = talib.STOCH(
        _contiguous(high),
        _contiguous(low),
        _contiguous(close),
        fastk_period=k_period,
        slowk_period=k_smooth,
        slowk_matype=_SMA,
        slowd_period=d_period,
        slowd_matype=_SMA,
    )
    return {"k": last(k), "d": last(d)}


def adx(
    high: FloatArray, low: FloatArray, close: FloatArray, period: int = 14
) -> dict[str, float | None]:
    """Wilder's ADX with the +DI and -DI it is built from."""
    h, lo, c = _contiguous(high), _contiguous(low), _contiguous(close)
    plus = last(talib.PLUS_DI(h, lo, c, timeperiod=period)) if len(c) > period else None
    minus = last(talib.MINUS_DI(h, lo, c, timeperiod=period)) if len(c) > period else None
    strength = last(talib.ADX(h, lo, c, timeperiod=period)) if len(c) >= 2 * period else None
    return {"adx": strength, "plus_di": plus, "minus_di": minus}


def obv(close: FloatArray, volume: FloatArray) -> float | None:
    """On-balance volume over the input, starting from the first candle's volume (TA-Lib)."""
    if len(close) == 0:
        return None
    return last(talib.OBV(_contiguous(close), _contiguous(volume)))


def vwap(high: FloatArray, low: FloatArray, close: FloatArray, volume: FloatArray) -> float | None:
    """Volume-weighted average of the typical price (high + low + close) / 3 over the input."""
    total = float(np.sum(volume))
    if len(close) == 0 or total <= 0.0:
        return None
    typical = (high + low + close) / 3.0
    return as_float(float(np.dot(typical, volume)) / total)
