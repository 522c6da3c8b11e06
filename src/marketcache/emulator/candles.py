"""Candles as integer columns, and the one aggregation every timeframe is made with."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from marketcache.emulator.grid import Grid
from marketcache.emulator.noise import IntArray


@dataclass(frozen=True)
class Candles:
    """Consecutive candles on a symbol's grid: prices in ticks, sizes in units, quote in
    ticks*units (see `grid`); `close_time` is the last millisecond of each candle."""

    open_time: IntArray
    close_time: IntArray
    open: IntArray
    high: IntArray
    low: IntArray
    close: IntArray
    volume: IntArray
    taker: IntArray
    quote: IntArray
    taker_quote: IntArray
    count: IntArray

    def __len__(self) -> int:
        return len(self.open_time)

    def take(self, index: Any) -> Candles:
        """The candles at `index` (a slice or an index array)."""
        if isinstance(index, slice):
            return Candles(*(getattr(self, name)[index] for name in FIELDS))
        return Candles(*(np.atleast_1d(getattr(self, name)[index]) for name in FIELDS))


FIELDS = tuple(f.name for f in fields(Candles))


def concat(parts: list[Candles]) -> Candles:
    """The candles of `parts`, one after the other."""
    if len(parts) == 1:
        return parts[0]
    return Candles(*(np.concatenate([getattr(p, name) for p in parts]) for name in FIELDS))


def aggregate(c: Candles, starts: IntArray, open_time: IntArray, close_time: IntArray) -> Candles:
    """Group consecutive candles (group k starts at row `starts[k]`) into one candle each:
    open of the first, close of the last, max high, min low, summed sizes and counts."""
    idx = np.asarray(starts, dtype=np.int64)
    ends = np.append(idx[1:], len(c)) - 1
    return Candles(
        open_time=np.asarray(open_time, dtype=np.int64),
        close_time=np.asarray(close_time, dtype=np.int64),
        open=c.open[idx],
        high=np.maximum.reduceat(c.high, idx),
        low=np.minimum.reduceat(c.low, idx),
        close=c.close[ends],
        volume=np.add.reduceat(c.volume, idx),
        taker=np.add.reduceat(c.taker, idx),
        quote=np.add.reduceat(c.quote, idx),
        taker_quote=np.add.reduceat(c.taker_quote, idx),
        count=np.add.reduceat(c.count, idx),
    )


def merge(parts: list[Candles], open_time: int, close_time: int) -> Candles:
    """One candle aggregating every candle of `parts` (empty parts are skipped)."""
    rows = concat([p for p in parts if len(p)])
    one = np.array([open_time], dtype=np.int64)
    return aggregate(rows, np.array([0]), one, np.array([close_time], dtype=np.int64))


def kline_rows(c: Candles, grid: Grid) -> list[list[Any]]:
    """Binance's 12-column kline rows."""
    columns = zip(
        c.open_time.tolist(),
        c.open.tolist(),
        c.high.tolist(),
        c.low.tolist(),
        c.close.tolist(),
        c.volume.tolist(),
        c.close_time.tolist(),
        c.quote.tolist(),
        c.count.tolist(),
        c.taker.tolist(),
        c.taker_quote.tolist(),
        strict=True,
    )
    price, size, quote = grid.price, grid.size, grid.quote
    return [
        [
            t,
            price(o),
            price(h),
            price(lo),
            price(cl),
            size(v),
            ct,
            quote(q),
            n,
            size(tb),
            quote(tq),
            "0",
        ]
        for t, o, h, lo, cl, v, ct, q, n, tb, tq in columns
    ]
