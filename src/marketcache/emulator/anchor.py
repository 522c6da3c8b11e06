"""The real BTCUSDT 30m series placed on the emulator's timeline.

The 500 recorded candles are shifted so that the last one is the last candle closed when
the emulator's clock starts (the live candle after it continues as model). Within the
recorded window the recorded candles are the atoms of BTCUSDT's tape, served verbatim;
the price path runs through every real open and close, so the model before and after the
window joins it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np

from marketcache.emulator import intervals
from marketcache.emulator.candles import Candles
from marketcache.emulator.data import REAL_KLINES_INTERVAL, real_klines
from marketcache.emulator.grid import Grid
from marketcache.emulator.noise import FloatArray, IntArray

_LENGTH = intervals.INTERVAL_MS[REAL_KLINES_INTERVAL]


def _int(text: str, exp: int) -> int:
    return int(Decimal(text).scaleb(exp))


class RealAnchor:
    """Where the real candles sit on the timeline, and the price path pinned to them."""

    def __init__(self, clock_start_ms: int) -> None:
        rows = real_klines()
        first_real_open = int(rows[0][0])
        last_real_open = int(rows[-1][0])
        live_open = intervals.align(REAL_KLINES_INTERVAL, clock_start_ms)
        self.shift_ms = live_open - _LENGTH - last_real_open
        self.first_open = first_real_open + self.shift_ms
        self.last_open = last_real_open + self.shift_ms
        self.rows_by_open: dict[int, list[Any]] = {}
        for row in rows:
            shifted = list(row)
            shifted[0] = int(row[0]) + self.shift_ms
            shifted[6] = int(row[6]) + self.shift_ms
            self.rows_by_open[shifted[0]] = shifted
        self._log_open = np.log([float(r[1]) for r in rows])
        self._log_close = np.log([float(r[4]) for r in rows])
        self._seg_start = self.first_open + np.arange(len(rows), dtype=np.int64) * _LENGTH
        self._seg_end = self._seg_start + _LENGTH
        self.path_end = int(self._seg_end[-1])

    def row(self, open_ms: int) -> list[Any] | None:
        """The real 30m kline (times shifted) opening at `open_ms`, if there is one."""
        return self.rows_by_open.get(open_ms)

    def atoms(self, grid: Grid) -> Candles:
        """The recorded candles on `grid`'s integers (exactly the recorded digits)."""
        rows = list(self.rows_by_open.values())
        p, s, q = grid.price_exp, grid.size_exp, grid.quote_exp

        def col(i: int, exp: int) -> IntArray:
            return np.array([_int(r[i], exp) for r in rows], dtype=np.int64)

        return Candles(
            open_time=np.array([r[0] for r in rows], dtype=np.int64),
            close_time=np.array([r[6] for r in rows], dtype=np.int64),
            open=col(1, p),
            high=col(2, p),
            low=col(3, p),
            close=col(4, p),
            volume=col(5, s),
            taker=col(9, s),
            quote=col(7, q),
            taker_quote=col(10, q),
            count=np.array([int(r[8]) for r in rows], dtype=np.int64),
        )

    def log_price(self, times: IntArray, noise_at: Any, scale: float) -> FloatArray:
        """Log price at `times`: real opens/closes bridged with `scale * noise_at(t)`."""
        t = np.asarray(times, dtype=np.int64)
        noise = noise_at(t) * scale
        out = np.empty(t.shape, dtype=np.float64)
        before = t < self.first_open
        after = t >= self.path_end
        inside = ~(before | after)
        if before.any():
            at_start = float(noise_at(np.array([self.first_open]))[0]) * scale
            out[before] = self._log_open[0] + noise[before] - at_start
        if after.any():
            at_end = float(noise_at(np.array([self.path_end]))[0]) * scale
            out[after] = self._log_close[-1] + noise[after] - at_end
        if inside.any():
            ti = t[inside]
            seg = np.minimum((ti - self.first_open) // _LENGTH, len(self._seg_start) - 1)
            a = self._seg_start[seg]
            b = self._seg_end[seg]
            frac = (ti - a) / (b - a)
            na = noise_at(a) * scale
            nb = noise_at(b) * scale
            line = self._log_open[seg] + (self._log_close[seg] - self._log_open[seg]) * frac
            out[inside] = line + noise[inside] - (na + (nb - na) * frac)
        return out
