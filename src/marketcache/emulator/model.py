"""The synthetic market: a price path per symbol and closed candles derived from it.

Prices follow one continuous path per symbol (so every interval agrees on the price at
any instant); volumes, wicks, taker-buy shares and trade counts are drawn per candle,
addressed by (symbol, interval, open time). Figures are calibrated on the real series.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from marketcache.emulator import intervals, noise
from marketcache.emulator.anchor import RealAnchor
from marketcache.emulator.calibration import calibration
from marketcache.emulator.data import REAL_KLINES_SYMBOL, SymbolInfo
from marketcache.emulator.noise import FloatArray, IntArray

STABLECOINS = frozenset({"USDC", "BUSD", "TUSD", "PAX", "USDP", "DAI", "UST", "SUSD", "EUR"})
MIN_UNITS = 4  # every candle trades at least this many lot steps in at least this many trades
_30M = intervals.INTERVAL_MS["30m"]

# tags of the independent random streams of a candle
_TAG_WICK_UP, _TAG_WICK_DOWN, _TAG_VOLUME, _TAG_TAKER, _TAG_COUNT = 1, 2, 3, 4, 5


@dataclass(frozen=True)
class Candles:
    """Columns of consecutive candles; volumes are in whole lot steps (`step_size` units)."""

    open_time: IntArray
    close_time: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume_units: IntArray
    taker_units: IntArray
    quote_volume: FloatArray
    taker_quote_volume: FloatArray
    count: IntArray

    def __len__(self) -> int:
        return len(self.open_time)


class SymbolModel:
    """Everything synthetic about one symbol, a pure function of its name (and the anchor)."""

    def __init__(self, info: SymbolInfo, anchor: RealAnchor | None) -> None:
        self.info = info
        self.seed = noise.seed_of(info.symbol)
        self.anchor = anchor if info.symbol == REAL_KLINES_SYMBOL else None
        cal = calibration()
        u = noise.uniform(self.seed, 7, [0, 1, 2, 3])
        stable = info.base in STABLECOINS
        if stable:
            self.sigma_30m = cal.sigma_30m * 0.05
            base_price = 1.0
            quote_share = 0.05 + 0.3 * float(u[2])
        elif self.anchor is not None:
            self.sigma_30m = cal.sigma_30m
            base_price = 1.0  # unused: the anchor pins the level
            quote_share = 1.0
        else:
            self.sigma_30m = cal.sigma_30m * (1.0 + 1.5 * float(u[0]))
            by_tick = info.tick_size * 1e4
            by_step = 0.5 / info.step_size
            base_price = math.sqrt(by_tick * by_step) * 10 ** (float(u[1]) * 0.8 - 0.4)
            quote_share = 10 ** (-3.0 * float(u[2]))
        self.log_base = math.log(max(base_price, info.tick_size * 20))
        self.mean_quote_30m = cal.mean_quote_volume * quote_share
        self._scale = self.sigma_30m / noise.RAW_30M_STD

    def _noise(self, times: IntArray) -> FloatArray:
        return noise.raw_path(self.seed, times)

    def log_price(self, times: IntArray) -> FloatArray:
        """Natural log of the (unrounded) price at each time in ms."""
        t = np.asarray(times, dtype=np.int64)
        if self.anchor is not None:
            return self.anchor.log_price(t, self._noise, self._scale)
        return self.log_base + self._scale * self._noise(t)

    def round_price(self, values: FloatArray) -> FloatArray:
        """Prices on the symbol's tick grid, never below one tick."""
        tick = self.info.tick_size
        return np.maximum(np.round(values / tick), 1.0) * tick

    @cached_property
    def interval_seeds(self) -> dict[str, int]:
        """The seed of each interval's per-candle draws."""
        return {name: noise.seed_of(self.info.symbol, name) for name in intervals.INTERVAL_MS}

    def candles(self, interval: str, bounds: IntArray) -> Candles:
        """Closed candles whose open/close boundaries are `bounds` (n+1 times, n candles)."""
        cal = calibration()
        edges = np.asarray(bounds, dtype=np.int64)
        opens, ends = edges[:-1], edges[1:]
        prices = np.exp(self.log_price(edges))
        o = self.round_price(prices[:-1])
        c = self.round_price(prices[1:])
        seed = self.interval_seeds[interval]
        duration = (ends - opens).astype(np.float64)
        sigma = self.sigma_30m * np.sqrt(duration / _30M)
        ret = np.log(c / o)
        wick = cal.wick_ratio * sigma * 2.0
        up = wick * noise.uniform(seed, _TAG_WICK_UP, opens) ** 2
        down = wick * noise.uniform(seed, _TAG_WICK_DOWN, opens) ** 2
        h = np.maximum(self.round_price(np.maximum(o, c) * np.exp(up)), np.maximum(o, c))
        low = np.minimum(self.round_price(np.minimum(o, c) * np.exp(-down)), np.minimum(o, c))
        vol_sigma = cal.log_volume_std
        activity = 1.0 + 0.6 * np.minimum(np.abs(ret) / np.maximum(sigma, 1e-12), 4.0)
        shock = np.exp(vol_sigma * noise.normal(seed, _TAG_VOLUME, opens) - vol_sigma**2 / 2)
        quote = self.mean_quote_30m * (duration / _30M) * shock * activity / 1.5
        vwap = (o + h + low + c) / 4.0
        units = np.maximum(np.round(quote / vwap / self.info.step_size), MIN_UNITS)
        units = units.astype(np.int64)
        drift = 0.25 * np.tanh(ret / np.maximum(sigma, 1e-12))
        ratio = cal.taker_ratio_mean + cal.taker_ratio_std * noise.normal(seed, _TAG_TAKER, opens)
        ratio = np.clip(ratio + drift * cal.taker_ratio_std * 2, 0.05, 0.95)
        taker = np.clip(np.round(units * ratio), 1, units - 1).astype(np.int64)
        volume = units * self.info.step_size
        quote_volume = volume * vwap
        taker_quote = taker * self.info.step_size * vwap
        spread = 0.7 + 0.6 * noise.uniform(seed, _TAG_COUNT, opens)
        raw_count = np.round(quote_volume * cal.trades_per_quote * spread)
        count = np.clip(raw_count, MIN_UNITS, 500_000).astype(np.int64)
        return Candles(
            open_time=opens,
            close_time=ends - 1,
            open=o,
            high=h,
            low=low,
            close=c,
            volume_units=units,
            taker_units=taker,
            quote_volume=quote_volume,
            taker_quote_volume=taker_quote,
            count=count,
        )
