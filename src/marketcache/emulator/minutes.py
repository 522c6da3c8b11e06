"""The 1-minute candles of a run of atoms (30m candles), split out of them exactly.

Each atom's 30 minutes open at its open, close at its close, reach its high and its low,
and share out its volume, taker volume, quote volumes and trade count to the last unit.
Each minute also carries the plan its trades are drawn from (`trades.minute_trades`):
four pinned trades of one unit (at its open, close, high and low, each on a drawn side)
and, per side, the units and the quote amount left for its free trades; the quote split
keeps every minute's share reachable by trades priced inside the minute's range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from marketcache.emulator import noise, splits
from marketcache.emulator.candles import Candles
from marketcache.emulator.noise import FloatArray, IntArray

MINUTE = 60_000
PER_ATOM = 30
MIN_FREE_UNITS = 2  # per side and minute, besides its pinned trades
MIN_MINUTE_COUNT = 12  # trades per minute: 4 pinned, room for free ones on both sides

_TAG_PIVOT_H, _TAG_PIVOT_L, _TAG_PATH, _TAG_WICK = 41, 42, 43, 44
_TAG_PINS, _TAG_WEIGHT, _TAG_COUNT = 50, 60, 61


@dataclass(frozen=True)
class Minutes:
    """1m candles and, per minute, what its trades must add up to."""

    candles: Candles
    pin_buy: npt.NDArray[np.bool_]  # (n, 4): open, close, high, low pins bought by the taker
    free_units: IntArray  # (n, 2): buy side, sell side
    free_quote: IntArray  # (n, 2)

    def __len__(self) -> int:
        return len(self.candles)

    def rows(self, index: slice) -> Minutes:
        """A run of the minutes."""
        return Minutes(
            self.candles.take(index),
            self.pin_buy[index],
            self.free_units[index],
            self.free_quote[index],
        )


def _path(seed: int, atoms: Candles, index: IntArray) -> IntArray:
    """Minute boundaries (n, 31): a noisy line from open to close through high and low."""
    n = len(atoms)
    o, h, low, c = atoms.open, atoms.high, atoms.low, atoms.close
    span = (h - low).astype(np.float64)
    i_high = 1 + np.floor(noise.uniform(seed, _TAG_PIVOT_H, index) * 29).astype(np.int64)
    i_low = 1 + np.floor(noise.uniform(seed, _TAG_PIVOT_L, index) * 28).astype(np.int64)
    i_low = np.where(i_low >= i_high, i_low + 1, i_low)
    k = np.arange(PER_ATOM + 1, dtype=np.float64)
    line = np.empty((n, PER_ATOM + 1))
    for row in range(n):
        xs = [0.0, float(i_high[row]), float(i_low[row]), 30.0]
        ys = [float(o[row]), float(h[row]), float(low[row]), float(c[row])]
        order = np.argsort(xs, kind="stable")
        line[row] = np.interp(k, np.take(xs, order), np.take(ys, order))
    cells = index[:, None] * 64 + np.arange(PER_ATOM + 1)[None, :]
    nearest = np.minimum(
        np.minimum(k[None, :], 30.0 - k[None, :]),
        np.minimum(np.abs(k[None, :] - i_high[:, None]), np.abs(k[None, :] - i_low[:, None])),
    )
    jitter = (noise.uniform(seed, _TAG_PATH, cells) - 0.5) * span[:, None] * 0.4
    raw = np.round(line + jitter * np.minimum(nearest / 3.0, 1.0))
    bounds = np.clip(raw, low[:, None], h[:, None]).astype(np.int64)
    rows = np.arange(n)
    bounds[:, 0] = o
    bounds[:, PER_ATOM] = c
    bounds[rows, i_high] = h
    bounds[rows, i_low] = low
    return bounds


def _side(
    total: IntArray,
    target: IntArray,
    pins_n: IntArray,
    pins_sum: IntArray,
    lo: IntArray,
    hi: IntArray,
    weights: FloatArray,
) -> tuple[IntArray, IntArray]:
    """One side's free units and free quote per minute, summing to the atom's side totals.

    Volume leans towards minutes priced near the side's average until the atom's quote
    lies between what its minutes can reach at their lows and at their highs."""
    w = weights.copy()
    floor = np.full(lo.shape, MIN_FREE_UNITS, dtype=np.int64)
    free_total = total - pins_n.sum(axis=1)
    free_target = target - pins_sum.sum(axis=1)
    average = free_target / np.maximum(free_total, 1)
    for _ in range(12):
        free = splits.at_least(free_total, floor, w)
        low_sum = (lo * free).sum(axis=1)
        high_sum = (hi * free).sum(axis=1)
        too_low = free_target < low_sum
        too_high = free_target > high_sum
        if not (too_low.any() or too_high.any()):
            break
        cheap = lo <= average[:, None]
        dear = hi >= average[:, None]
        w = np.where(too_low[:, None] & cheap, w * 6.0, w)
        w = np.where(too_high[:, None] & dear, w * 6.0, w)
    quote = lo * free + splits.capped(free_target - low_sum, (hi - lo) * free)
    return free, quote


def split_atoms(seed: int, atoms: Candles) -> Minutes:
    """The 30 minutes of each atom, in time order."""
    index = atoms.open_time // MINUTE  # the atom's first minute number
    bounds = _path(seed, atoms, index)
    o, c = bounds[:, :PER_ATOM], bounds[:, 1:]
    minute_no = index[:, None] + np.arange(PER_ATOM)[None, :]
    span = (atoms.high - atoms.low)[:, None]
    wick = noise.uniform(seed, _TAG_WICK, np.stack((minute_no * 2, minute_no * 2 + 1)))
    up = np.floor(wick[0] ** 3 * span * 0.15).astype(np.int64)
    down = np.floor(wick[1] ** 3 * span * 0.15).astype(np.int64)
    hi = np.minimum(np.maximum(o, c) + up, atoms.high[:, None])
    lo = np.maximum(np.minimum(o, c) - down, atoms.low[:, None])
    pins = np.stack((o, c, hi, lo), axis=2)  # (n, 30, 4)
    pin_buy = np.stack(
        [noise.uniform(seed, _TAG_PINS + j, minute_no) < 0.5 for j in range(4)], axis=2
    )
    activity = 1.0 + 2.0 * (hi - lo) / np.maximum(span, 1)
    weights = (0.3 - np.log1p(-noise.uniform(seed, _TAG_WEIGHT, minute_no))) * activity
    buy_n = pin_buy.sum(axis=2)
    buy_sum = (pins * pin_buy).sum(axis=2)
    sell_n = 4 - buy_n
    sell_sum = pins.sum(axis=2) - buy_sum
    free_b, quote_b = _side(atoms.taker, atoms.taker_quote, buy_n, buy_sum, lo, hi, weights)
    sell_total = atoms.volume - atoms.taker
    sell_target = atoms.quote - atoms.taker_quote
    free_s, quote_s = _side(sell_total, sell_target, sell_n, sell_sum, lo, hi, weights)
    count_floor = np.full(o.shape, MIN_MINUTE_COUNT, dtype=np.int64)
    count_w = (free_b + free_s).astype(np.float64) * (
        0.7 + 0.6 * noise.uniform(seed, _TAG_COUNT, minute_no)
    )
    count = splits.at_least(atoms.count, count_floor, count_w)
    opens = (minute_no * MINUTE).ravel()
    candles = Candles(
        open_time=opens,
        close_time=opens + MINUTE - 1,
        open=o.ravel(),
        high=hi.ravel(),
        low=lo.ravel(),
        close=c.ravel(),
        volume=(free_b + buy_n + free_s + sell_n).ravel(),
        taker=(free_b + buy_n).ravel(),
        quote=(quote_b + buy_sum + quote_s + sell_sum).ravel(),
        taker_quote=(quote_b + buy_sum).ravel(),
        count=count.ravel(),
    )
    return Minutes(
        candles=candles,
        pin_buy=pin_buy.reshape(-1, 4),
        free_units=np.stack((free_b.ravel(), free_s.ravel()), axis=1),
        free_quote=np.stack((quote_b.ravel(), quote_s.ravel()), axis=1),
    )
