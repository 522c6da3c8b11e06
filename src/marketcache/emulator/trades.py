"""Aggregate trades of a symbol, generated minute by minute from its 1m candles.

The trades of a closed minute open at its open, close at its close, touch its high and
low, and their quantities (buyer-taker and seller-taker) sum exactly to the candle's
volume and taker-buy volume; their raw trade ids (`f`..`l`) sum to its trade count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from marketcache.emulator import noise
from marketcache.emulator.model import Candles, SymbolModel
from marketcache.emulator.noise import FloatArray, IntArray

MINUTE = 60_000
AGG_IDS_PER_MINUTE = 10_000  # aggregate trade id = minute index * this + position
RAW_IDS_PER_MINUTE = 1_000_000  # raw trade id = minute index * this + position
MAX_AGG_PER_MINUTE = 2_000

_TAG_TIME, _TAG_QTY, _TAG_SIDE, _TAG_RAW, _TAG_JITTER = 11, 12, 13, 14, 15


@dataclass(frozen=True)
class MinuteTrades:
    """The aggregate trades of one minute, in time order."""

    agg_id: IntArray
    time: IntArray
    price: FloatArray
    qty_units: IntArray
    buyer_is_maker: npt.NDArray[np.bool_]
    first_id: IntArray
    last_id: IntArray

    def __len__(self) -> int:
        return len(self.agg_id)

    def upto(self, now_ms: int) -> MinuteTrades:
        """Only the trades that happened at or before `now_ms`."""
        n = int(np.searchsorted(self.time, now_ms, side="right"))
        return MinuteTrades(
            self.agg_id[:n],
            self.time[:n],
            self.price[:n],
            self.qty_units[:n],
            self.buyer_is_maker[:n],
            self.first_id[:n],
            self.last_id[:n],
        )


def _split(total: int, parts: int, weights: FloatArray) -> IntArray:
    """`parts` positive integers summing to `total`, roughly proportional to `weights`."""
    spare = total - parts
    shares = np.floor(spare * weights / weights.sum()).astype(np.int64)
    remainder = spare - int(shares.sum())
    if remainder:
        order = np.argsort(-weights, kind="stable")[:remainder]
        shares[order] += 1
    result: IntArray = shares + 1
    return result


def minute_trades(model: SymbolModel, candle: Candles, i: int) -> MinuteTrades:
    """The trades of the closed 1m candle number `i` of `candle`."""
    t0 = int(candle.open_time[i])
    minute = t0 // MINUTE
    units = int(candle.volume_units[i])
    taker = int(candle.taker_units[i])
    count = int(candle.count[i])
    n = max(4, min(count, units, MAX_AGG_PER_MINUTE))
    seed = model.seed
    idx = minute * MAX_AGG_PER_MINUTE + np.arange(n, dtype=np.int64)
    offsets = np.sort(np.floor(noise.uniform(seed, _TAG_TIME, idx) * MINUTE).astype(np.int64))
    offsets[0] = 0
    times = t0 + offsets
    # sides: `buyers` trades were taker buys; ensure both sides can hold their volume
    buyers = int(np.clip(round(n * taker / units), max(1, n - (units - taker)), min(n - 1, taker)))
    side_key = noise.uniform(seed, _TAG_SIDE, idx)
    is_buy = np.zeros(n, dtype=bool)
    is_buy[np.argsort(side_key, kind="stable")[:buyers]] = True
    weights = -np.log1p(-noise.uniform(seed, _TAG_QTY, idx)) + 0.05
    qty = np.empty(n, dtype=np.int64)
    qty[is_buy] = _split(taker, buyers, weights[is_buy])
    qty[~is_buy] = _split(units - taker, n - buyers, weights[~is_buy])
    # prices are pinned to the candle's open, close, high and low
    o, h, low, c = (float(x[i]) for x in (candle.open, candle.high, candle.low, candle.close))
    # a noisy line from open to close (cheaper than the full path, same ends)
    line = o + (c - o) * (offsets / MINUTE)
    jitter = (noise.uniform(seed, _TAG_JITTER, idx) - 0.5) * (h - low) * 0.6
    prices = np.clip(model.round_price(line + jitter), low, h)
    prices[0], prices[-1] = o, c
    inner = prices[1:-1]
    top = 1 + int(np.argmax(inner))
    prices[top] = h
    rest = np.delete(np.arange(1, n - 1), top - 1)
    prices[int(rest[np.argmin(prices[rest])])] = low
    raw = _split(count, n, noise.uniform(seed, _TAG_RAW, idx) + 0.2)
    first = minute * RAW_IDS_PER_MINUTE + np.concatenate(([0], np.cumsum(raw)[:-1]))
    return MinuteTrades(
        agg_id=minute * AGG_IDS_PER_MINUTE + np.arange(n, dtype=np.int64),
        time=times,
        price=prices,
        qty_units=qty,
        buyer_is_maker=~is_buy,
        first_id=first,
        last_id=first + raw - 1,
    )
