"""The synthetic market: a price path per symbol, and its 30-minute candles (the atoms).

Prices follow one continuous path per symbol; the atoms take their opens and closes from
it, and draw wicks, volumes, taker shares, per-side average prices and trade counts,
addressed by (symbol, open time). Every finer candle is split out of an atom
(`minutes`), every coarser one aggregates atoms. Figures are calibrated on the real series.
"""

from __future__ import annotations

import math

import numpy as np

from marketcache.emulator import intervals, noise
from marketcache.emulator.anchor import RealAnchor
from marketcache.emulator.calibration import calibration
from marketcache.emulator.candles import Candles
from marketcache.emulator.data import REAL_KLINES_SYMBOL, SymbolInfo
from marketcache.emulator.grid import Grid, grid_of
from marketcache.emulator.noise import FloatArray, IntArray

STABLECOINS = frozenset({"USDC", "BUSD", "TUSD", "PAX", "USDP", "DAI", "UST", "SUSD", "EUR"})
ATOM = intervals.INTERVAL_MS["30m"]
MIN_SIDE_UNITS = 200  # each side of an atom trades at least this many units ...
MIN_COUNT = 400  # ... in at least this many trades (so every minute has a few of each)

_TAG_WICK_UP, _TAG_WICK_DOWN, _TAG_VOLUME, _TAG_TAKER, _TAG_COUNT = 1, 2, 3, 4, 5
_TAG_VWAP_BUY, _TAG_VWAP_SELL = 6, 8


class SymbolModel:
    """Everything synthetic about one symbol: a pure function of its name, the market seed
    and (for BTCUSDT) where the real series sits."""

    def __init__(self, info: SymbolInfo, anchor: RealAnchor | None, market_seed: int = 0) -> None:
        self.info = info
        self.grid: Grid = grid_of(info)
        base_seed = noise.seed_of(info.symbol)
        self.seed = base_seed if market_seed == 0 else noise.seed_mix(base_seed, market_seed)
        self.atom_seed = noise.seed_mix(self.seed, 30)
        self.anchor = anchor if info.symbol == REAL_KLINES_SYMBOL else None
        cal = calibration()
        u = noise.uniform(self.seed, 7, [0, 1, 2, 3])
        if info.base in STABLECOINS:
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

    def log_price(self, times: IntArray) -> FloatArray:
        """Natural log of the (unrounded) price at each time in ms."""
        t = np.asarray(times, dtype=np.int64)
        if self.anchor is not None:
            return self.anchor.log_price(t, self._path, self._scale)
        return self.log_base + self._scale * self._path(t)

    def _path(self, times: IntArray) -> FloatArray:
        return noise.raw_path(self.seed, times)

    def ticks(self, prices: FloatArray) -> IntArray:
        """Prices as whole ticks, never below one tick."""
        out: IntArray = np.maximum(np.round(prices / self.grid.tick), 1).astype(np.int64)
        return out

    def atoms(self, opens: IntArray) -> Candles:
        """The model's 30m candles opening at `opens` (aligned)."""
        cal = calibration()
        t = np.asarray(opens, dtype=np.int64)
        # opens and closes on one sorted run of boundaries (consecutive atoms share one)
        edges, where = np.unique(np.concatenate((t, t + ATOM)), return_inverse=True)
        prices = np.exp(self.log_price(edges))[where]
        o = self.ticks(prices[: len(t)])
        c = self.ticks(prices[len(t) :])
        seed = self.atom_seed
        ret = np.log(c / o)
        sigma = self.sigma_30m
        wick = cal.wick_ratio * sigma * 2.0
        up = wick * noise.uniform(seed, _TAG_WICK_UP, t) ** 2
        down = wick * noise.uniform(seed, _TAG_WICK_DOWN, t) ** 2
        h = np.maximum(np.round(np.maximum(o, c) * np.exp(up)).astype(np.int64), np.maximum(o, c))
        low = np.round(np.minimum(o, c) * np.exp(-down)).astype(np.int64)
        low = np.maximum(np.minimum(low, np.minimum(o, c)), 1)
        vol_sigma = cal.log_volume_std
        activity = 1.0 + 0.6 * np.minimum(np.abs(ret) / max(sigma, 1e-12), 4.0)
        shock = np.exp(vol_sigma * noise.normal(seed, _TAG_VOLUME, t) - vol_sigma**2 / 2)
        quote = self.mean_quote_30m * shock * activity / 1.5
        mid = (o + h + low + c) / 4.0
        raw_units = np.round(quote / (mid * self.grid.tick) / self.grid.unit)
        volume: IntArray = np.maximum(raw_units, 2 * MIN_SIDE_UNITS).astype(np.int64)
        drift = 0.25 * np.tanh(ret / max(sigma, 1e-12))
        ratio = cal.taker_ratio_mean + cal.taker_ratio_std * noise.normal(seed, _TAG_TAKER, t)
        ratio = np.clip(ratio + drift * cal.taker_ratio_std * 2, 0.05, 0.95)
        taker = np.clip(np.round(volume * ratio), MIN_SIDE_UNITS, volume - MIN_SIDE_UNITS)
        taker_units: IntArray = taker.astype(np.int64)
        span = (h - low).astype(np.float64)
        vwap_buy = mid + span * 0.15 * (noise.uniform(seed, _TAG_VWAP_BUY, t) - 0.5)
        vwap_sell = mid + span * 0.15 * (noise.uniform(seed, _TAG_VWAP_SELL, t) - 0.5)
        taker_quote = np.round(taker_units * np.clip(vwap_buy, low, h)).astype(np.int64)
        sell_quote = np.round((volume - taker_units) * np.clip(vwap_sell, low, h)).astype(np.int64)
        spread = 0.7 + 0.6 * noise.uniform(seed, _TAG_COUNT, t)
        raw_count = np.round(quote * cal.trades_per_quote * spread)
        count = np.clip(raw_count, MIN_COUNT, 500_000).astype(np.int64)
        return Candles(
            open_time=t,
            close_time=t + ATOM - 1,
            open=o,
            high=h,
            low=low,
            close=c,
            volume=volume,
            taker=taker_units,
            quote=taker_quote + sell_quote,
            taker_quote=taker_quote,
            count=count,
        )
