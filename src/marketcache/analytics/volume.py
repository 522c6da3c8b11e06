"""Volume spikes: a closed candle's volume against the candles before it.

The rule, one and only: a candle is a spike when its volume divided by the mean
volume of the `lookback` candles before it is >= `threshold`. The z-score
(against the population standard deviation of the same candles) is reported
beside it for information, it decides nothing.

Direction comes from the taker buy volume when the exchange reports it
(`buy_share` = taker buy / volume: buy >= 0.55, sell <= 0.45, neutral between);
otherwise from the candle's body (close above open: buy, below: sell, equal:
neutral) with `buy_share` None, and `direction_source` says which was used.

`recent_spikes` lists every spike among the last `window` candles that have
`lookback` candles before them (`window` in the answer: how many were judged).

Input candles must all be closed: a live candle's partial volume is not
comparable with whole ones. The caller fetches `lookback + window` candles; when
fewer than `lookback + 1` are available the answer says so in `note`, with null
statistics and `is_spike` False, never an estimate.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from marketcache.analytics.indicators import as_float
from marketcache.models import Candles, FloatArray

BUY_SHARE_BUY = 0.55
BUY_SHARE_SELL = 0.45


def spike_rule(lookback: int, threshold: float) -> str:
    """The spike rule in words, as the answer reports it."""
    return f"is_spike when volume / mean(volume of the {lookback} candles before) >= {threshold:g}"


def candle_direction(
    volume: float, taker_buy: float, open_price: float, close_price: float
) -> tuple[str, float | None, str]:
    """(direction, buy share or None, source) of one candle."""
    if np.isfinite(taker_buy) and volume > 0:
        share = taker_buy / volume
        if share >= BUY_SHARE_BUY:
            return "buy", share, "taker"
        if share <= BUY_SHARE_SELL:
            return "sell", share, "taker"
        return "neutral", share, "taker"
    if close_price > open_price:
        return "buy", None, "candle"
    if close_price < open_price:
        return "sell", None, "candle"
    return "neutral", None, "candle"


def _rolling_stats(volume: FloatArray, lookback: int) -> tuple[FloatArray, FloatArray]:
    """Mean and population std of the `lookback` values before each index >= lookback."""
    windows = sliding_window_view(volume[:-1], lookback)
    return windows.mean(axis=1), windows.std(axis=1)


def _candle_summary(candles: Candles, index: int, ratio: float | None) -> dict[str, Any]:
    direction, share, source = candle_direction(
        float(candles.volume[index]),
        float(candles.taker_buy_volume[index]),
        float(candles.open[index]),
        float(candles.close[index]),
    )
    return {
        "time": int(candles.open_time[index]),
        "volume": float(candles.volume[index]),
        "ratio": ratio,
        "direction": direction,
        "buy_share": as_float(share),
        "direction_source": source,
    }


def volume_spike(
    candles_closed: Candles, lookback: int = 20, threshold: float = 2.0, window: int = 50
) -> dict[str, Any]:
    """Is the last closed candle a volume spike, and which of the last `window` were."""
    if lookback < 2:
        raise ValueError("lookback must be at least 2")
    if window < 1:
        raise ValueError("window must be at least 1")
    count = len(candles_closed)
    result: dict[str, Any] = {
        "time": None,
        "volume": None,
        "mean": None,
        "std": None,
        "ratio": None,
        "z_score": None,
        "is_spike": False,
        "threshold": float(threshold),
        "lookback": lookback,
        "rule": spike_rule(lookback, threshold),
        "direction": None,
        "buy_share": None,
        "direction_source": None,
        "recent_spikes": [],
        "window": 0,
        "candles": count,
        "note": None,
    }
    if count == 0:
        result["note"] = "no closed candles"
        return result
    last_summary = _candle_summary(candles_closed, count - 1, None)
    for field in ("time", "volume", "direction", "buy_share", "direction_source"):
        result[field] = last_summary[field]
    if count < lookback + 1:
        result["note"] = (
            f"only {count} closed candles; {lookback + 1} are needed to compare the last "
            f"with the {lookback} before it"
        )
        return result

    volume = np.ascontiguousarray(candles_closed.volume, dtype=np.float64)
    means, stds = _rolling_stats(volume, lookback)  # means[j] is for candle j + lookback
    current = volume[lookback:]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratios = current / means
    ratios[~np.isfinite(ratios)] = np.nan  # no mean volume (or a subnormal one): not judged
    mean, std, ratio = float(means[-1]), float(stds[-1]), as_float(ratios[-1])
    result.update(mean=mean, std=std, ratio=ratio)
    result["z_score"] = as_float((volume[-1] - mean) / std) if std > 0 else None
    result["is_spike"] = ratio is not None and ratio >= threshold
    if ratio is None:
        result["note"] = f"the {lookback} candles before the last have no usable volume"

    first = max(0, len(current) - window)
    spikes = []
    for j in np.flatnonzero(ratios[first:] >= threshold):
        index = int(j) + first + lookback
        spikes.append(_candle_summary(candles_closed, index, as_float(ratios[index - lookback])))
    result["recent_spikes"] = spikes
    result["window"] = len(current) - first
    return result
