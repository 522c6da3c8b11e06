"""Statistics of the real BTCUSDT 30m series that the synthetic model is calibrated on."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np

from marketcache.emulator.data import real_klines


@dataclass(frozen=True)
class Calibration:
    """Per-30-minute figures measured on the real series."""

    sigma_30m: float  # std of 30m log returns of the close
    log_volume_std: float  # std of log base volume per candle
    mean_quote_volume: float  # mean quote volume per 30m candle
    taker_ratio_mean: float  # taker-buy base volume / volume
    taker_ratio_std: float
    trades_per_quote: float  # trade count per unit of quote volume
    wick_ratio: float  # mean (high - low) / sigma relative range, for wick sizes


@cache
def calibration() -> Calibration:
    """Measure the real series once."""
    rows = real_klines()
    o = np.array([float(r[1]) for r in rows])
    h = np.array([float(r[2]) for r in rows])
    low = np.array([float(r[3]) for r in rows])
    c = np.array([float(r[4]) for r in rows])
    vol = np.array([float(r[5]) for r in rows])
    quote = np.array([float(r[7]) for r in rows])
    trades = np.array([float(r[8]) for r in rows])
    taker = np.array([float(r[9]) for r in rows])
    sigma = float(np.std(np.diff(np.log(c))))
    body_high = np.maximum(o, c)
    body_low = np.minimum(o, c)
    wicks = (np.log(h / body_high) + np.log(body_low / low)) / 2.0
    ratio = taker / vol
    return Calibration(
        sigma_30m=sigma,
        log_volume_std=float(np.std(np.log(vol))),
        mean_quote_volume=float(np.mean(quote)),
        taker_ratio_mean=float(np.mean(ratio)),
        taker_ratio_std=float(np.std(ratio)),
        trades_per_quote=float(np.sum(trades) / np.sum(quote)),
        wick_ratio=float(np.mean(wicks)) / sigma if sigma > 0 else 0.3,
    )


def real_sigma_per_ms() -> float:
    """Brownian log-volatility per sqrt(ms) implied by the 30m figure."""
    return calibration().sigma_30m / math.sqrt(30 * 60 * 1000)
