"""Straightforward reference implementations of the indicators, written from their definitions.

Plain Python loops over lists, independent of TA-Lib, returning full series with
NaN where the indicator has no value yet. Where TA-Lib makes a choice the
textbooks leave open, the same choice is made here and said so:
- an EMA is seeded with the SMA of its first `period` values;
- MACD's fast EMA starts where the slow one does (seeded with the SMA of the
  `fast` values ending at index slow - 1), not at index fast - 1;
- Wilder's DM/TR sums for ADX start from the sum of the first `period - 1`
  values and smooth in the `period`-th;
- OBV starts at the first candle's volume.
"""

from __future__ import annotations

import math

NAN = float("nan")


def sma(values: list[float], period: int) -> list[float]:
    """Simple moving average."""
    out = [NAN] * len(values)
    for i in range(period - 1, len(values)):
        out[i] = sum(values[i - period + 1 : i + 1]) / period
    return out


def ema(values: list[float], period: int, first: int | None = None) -> list[float]:
    """EMA whose first value, at index `first` (default period - 1), is an SMA."""
    first = period - 1 if first is None else first
    out = [NAN] * len(values)
    if len(values) <= first:
        return out
    alpha = 2.0 / (period + 1)
    out[first] = sum(values[first - period + 1 : first + 1]) / period
    for i in range(first + 1, len(values)):
        out[i] = out[i - 1] + alpha * (values[i] - out[i - 1])
    return out


def rsi(close: list[float], period: int = 14) -> list[float]:
    """Wilder's RSI: average gain / loss seeded with a mean, then smoothed by 1/period."""
    out = [NAN] * len(close)
    if len(close) <= period:
        return out
    changes = [close[i] - close[i - 1] for i in range(1, len(close))]
    gain = sum(max(c, 0.0) for c in changes[:period]) / period
    loss = sum(max(-c, 0.0) for c in changes[:period]) / period

    def value() -> float:
        return 100.0 * gain / (gain + loss) if gain + loss else 0.0

    out[period] = value()
    for i in range(period + 1, len(close)):
        change = changes[i - 1]
        gain = (gain * (period - 1) + max(change, 0.0)) / period
        loss = (loss * (period - 1) + max(-change, 0.0)) / period
        out[i] = value()
    return out


def macd(
    close: list[float], fast: int = 12, slow: int = 26, signal: int = 9
) -> tuple[list[float], list[float], list[float]]:
    """MACD line, signal line and histogram (TA-Lib's aligned seeding)."""
    slow_ema = ema(close, slow)
    fast_ema = ema(close, fast, first=slow - 1)
    line = [f - s for f, s in zip(fast_ema, slow_ema, strict=True)]
    start = slow - 1
    sig = [NAN] * len(close)
    if len(close) >= start + signal:
        sig[start:] = ema(line[start:], signal)
    hist = [m - s for m, s in zip(line, sig, strict=True)]
    return line, sig, hist


def bollinger(
    close: list[float], period: int = 20, k: float = 2.0
) -> tuple[list[float], list[float], list[float]]:
    """Upper, middle, lower band with the population standard deviation."""
    upper, middle, lower = ([NAN] * len(close) for _ in range(3))
    for i in range(period - 1, len(close)):
        window = close[i - period + 1 : i + 1]
        mean = sum(window) / period
        std = math.sqrt(sum((x - mean) ** 2 for x in window) / period)
        upper[i], middle[i], lower[i] = mean + k * std, mean, mean - k * std
    return upper, middle, lower


def true_range(high: list[float], low: list[float], close: list[float]) -> list[float]:
    """True range from the second candle on (index 0 is NaN)."""
    out = [NAN]
    for i in range(1, len(close)):
        out.append(max(high[i] - low[i], abs(high[i] - close[i - 1]), abs(low[i] - close[i - 1])))
    return out


def atr(high: list[float], low: list[float], close: list[float], period: int = 14) -> list[float]:
    """Wilder's ATR: mean of the first `period` true ranges, then smoothed by 1/period."""
    tr = true_range(high, low, close)
    out = [NAN] * len(close)
    if len(close) <= period:
        return out
    out[period] = sum(tr[1 : period + 1]) / period
    for i in range(period + 1, len(close)):
        out[i] = (out[i - 1] * (period - 1) + tr[i]) / period
    return out


def stochastic(
    high: list[float],
    low: list[float],
    close: list[float],
    k_period: int = 14,
    smooth: int = 3,
    d_period: int = 3,
) -> tuple[list[float], list[float]]:
    """Slow %K (SMA of raw %K) and %D (SMA of slow %K); raw %K is 0 on a flat range."""
    raw = [NAN] * len(close)
    if len(close) < k_period + smooth + d_period - 2:
        return raw, list(raw)
    for i in range(k_period - 1, len(close)):
        hh = max(high[i - k_period + 1 : i + 1])
        ll = min(low[i - k_period + 1 : i + 1])
        raw[i] = 100.0 * (close[i] - ll) / (hh - ll) if hh > ll else 0.0
    slow_k = [NAN] * (k_period - 1) + sma(raw[k_period - 1 :], smooth)
    d_start = k_period - 1 + smooth - 1
    d = [NAN] * d_start + sma(slow_k[d_start:], d_period)
    # Both are reported from the first index where %D exists, as TA-Lib does.
    slow_k = [NAN if math.isnan(v) else k for k, v in zip(slow_k, d, strict=True)]
    return slow_k, d


def adx(
    high: list[float], low: list[float], close: list[float], period: int = 14
) -> tuple[list[float], list[float], list[float]]:
    """Wilder's ADX, +DI and -DI."""
    n = len(close)
    plus_di, minus_di, adx_out = [NAN] * n, [NAN] * n, [NAN] * n
    if n <= period:
        return adx_out, plus_di, minus_di
    tr = true_range(high, low, close)
    plus_dm, minus_dm = [NAN], [NAN]
    for i in range(1, n):
        up, down = high[i] - high[i - 1], low[i - 1] - low[i]
        plus_dm.append(up if up > down and up > 0 else 0.0)
        minus_dm.append(down if down > up and down > 0 else 0.0)
    s_tr = sum(tr[1:period])
    s_plus = sum(plus_dm[1:period])
    s_minus = sum(minus_dm[1:period])
    dx = [NAN] * n
    for i in range(period, n):
        s_tr = s_tr - s_tr / period + tr[i]
        s_plus = s_plus - s_plus / period + plus_dm[i]
        s_minus = s_minus - s_minus / period + minus_dm[i]
        plus_di[i] = 100.0 * s_plus / s_tr
        minus_di[i] = 100.0 * s_minus / s_tr
        total = plus_di[i] + minus_di[i]
        dx[i] = 100.0 * abs(plus_di[i] - minus_di[i]) / total if total else 0.0
    first = 2 * period - 1
    if n > first:
        adx_out[first] = sum(dx[period : first + 1]) / period
        for i in range(first + 1, n):
            adx_out[i] = (adx_out[i - 1] * (period - 1) + dx[i]) / period
    return adx_out, plus_di, minus_di


def obv(close: list[float], volume: list[float]) -> list[float]:
    """On-balance volume starting at the first volume."""
    out = [volume[0]]
    for i in range(1, len(close)):
        step = (
            volume[i] if close[i] > close[i - 1] else -volume[i] if close[i] < close[i - 1] else 0
        )
        out.append(out[-1] + step)
    return out


def vwap(high: list[float], low: list[float], close: list[float], volume: list[float]) -> float:
    """Volume-weighted typical price over the whole input."""
    weighted = sum(
        (h + lo + c) / 3.0 * v for h, lo, c, v in zip(high, low, close, volume, strict=True)
    )
    return weighted / sum(volume)
