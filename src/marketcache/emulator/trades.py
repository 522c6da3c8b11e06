"""The aggregate trades of one minute, drawn from its plan so that they add up to it.

The first trade is at the minute's open price, the last at its close, two more touch
its high and low; the free trades of each side share out that side's units and are
priced (inside the minute's range) so that their quote adds up to the side's quote to
the last tick*unit. Raw trade ids (`f`..`l`) are consecutive and count the minute's trades.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from marketcache.emulator import noise
from marketcache.emulator.noise import IntArray

MINUTE = 60_000
AGG_IDS_PER_MINUTE = 10_000  # aggregate trade id = minute number * this + position
MAX_FREE_PER_SIDE = 40

_TAG_TIME, _TAG_QTY, _TAG_ORDER, _TAG_RAW, _TAG_JITTER, _TAG_SIZE = 11, 12, 13, 14, 15, 16


@dataclass(frozen=True)
class MinuteTrades:
    """The aggregate trades of one minute, in time order (prices in ticks, sizes in units)."""

    agg_id: IntArray
    time: IntArray
    price: IntArray
    qty: IntArray
    buyer_is_maker: npt.NDArray[np.bool_]
    first_id: IntArray
    last_id: IntArray

    def __len__(self) -> int:
        return len(self.agg_id)

    def between(self, start: int, end: int) -> MinuteTrades:
        """The trades with start <= time <= end."""
        lo = int(np.searchsorted(self.time, start, side="left"))
        hi = int(np.searchsorted(self.time, end, side="right"))
        return self.rows(slice(lo, hi))

    def upto(self, now_ms: int) -> MinuteTrades:
        """Only the trades that happened at or before `now_ms`."""
        return self.rows(slice(0, int(np.searchsorted(self.time, now_ms, side="right"))))

    def rows(self, index: slice) -> MinuteTrades:
        """A slice of the trades."""
        return MinuteTrades(
            self.agg_id[index],
            self.time[index],
            self.price[index],
            self.qty[index],
            self.buyer_is_maker[index],
            self.first_id[index],
            self.last_id[index],
        )


def positive_split(total: int, parts: int, weights: npt.NDArray[np.float64]) -> IntArray:
    """`parts` integers >= 1 summing to `total`, roughly proportional to `weights`."""
    spare = total - parts
    shares = np.floor(spare * weights / weights.sum()).astype(np.int64)
    remainder = spare - int(shares.sum())
    if remainder:
        order = np.argsort(-weights, kind="stable")[:remainder]
        shares[order] += 1
    result: IntArray = shares + 1
    return result


def hit(x: IntArray, q: IntArray, target: int, span: int) -> tuple[IntArray, IntArray]:
    """Reprice trades (offsets `x` in [0, span], sizes `q`) so that sum(x * q) == target.

    Whole-tick moves first (all movable trades, then one by one, largest first); what is
    left, smaller than any movable trade, is reached by splitting one trade in two, one
    tick apart. `target` must lie in [0, span * sum(q)]. Returns offsets and sizes (one
    longer when a trade was split: the new part follows the trade it came from)."""
    x = x.copy()
    gap = target - int((x * q).sum())
    while gap:
        sign = 1 if gap > 0 else -1
        movable = (x < span) if sign > 0 else (x > 0)
        if not movable.any():
            break
        step = abs(gap) // int(q[movable].sum())
        if step:
            x[movable] = np.clip(x[movable] + sign * step, 0, span)
            gap = target - int((x * q).sum())
            continue
        for j in np.argsort(-q, kind="stable"):
            if movable[j] and q[j] <= abs(gap):
                x[j] += sign
                gap -= sign * int(q[j])
        if gap and movable.any():
            candidates = np.flatnonzero(((x < span) if sign > 0 else (x > 0)) & (q > abs(gap)))
            if len(candidates):
                j = int(candidates[0])
                part = abs(gap)
                q = np.insert(q, j + 1, part)
                q[j] -= part
                x = np.insert(x, j + 1, x[j] + sign)
                gap = 0
    return x, q


def minute_trades(
    seed: int,
    minute_open: int,
    ohlc: tuple[int, int, int, int],
    pin_buy: npt.NDArray[np.bool_],
    free_units: tuple[int, int],
    free_quote: tuple[int, int],
    count: int,
    first_raw_id: int,
) -> MinuteTrades:
    """The trades of the minute opening at `minute_open`, drawn from its plan."""
    o, h, low, c = ohlc
    span = h - low
    number = minute_open // MINUTE
    base = number * 4096
    room = max(1, (count - 4) // 2 - 1)
    sides: list[tuple[bool, IntArray, IntArray]] = []
    for side, buyer in enumerate((True, False)):
        units, quote = free_units[side], free_quote[side]
        k_max = max(1, min(units, room, MAX_FREE_PER_SIDE))
        k = 1 + int(noise.uniform(seed, _TAG_SIZE + side, [number])[0] * k_max)
        k = min(k, k_max)
        idx = base + side * 2048 + np.arange(k, dtype=np.int64)
        weights = -np.log1p(-noise.uniform(seed, _TAG_QTY, idx)) + 0.05
        q = positive_split(units, k, weights)
        frac = noise.uniform(seed, _TAG_TIME, idx)
        guess = o + (c - o) * frac + (noise.uniform(seed, _TAG_JITTER, idx) - 0.5) * span
        x = np.clip(np.round(guess) - low, 0, span).astype(np.int64)
        x, q = hit(x, q, quote - low * units, span)
        sides.append((buyer, x + low, q))
    # pinned: open first, close last, high and low somewhere in between
    prices = [np.array([h, low], dtype=np.int64)]
    qty = [np.ones(2, dtype=np.int64)]
    buys = [pin_buy[2:4]]
    for buyer, price, q in sides:
        prices.append(price)
        qty.append(q)
        buys.append(np.full(len(q), buyer))
    inner_price = np.concatenate(prices)
    inner_qty = np.concatenate(qty)
    inner_buy = np.concatenate(buys)
    order = np.argsort(noise.uniform(seed, _TAG_ORDER, base + np.arange(len(inner_price))))
    price = np.concatenate(([o], inner_price[order], [c])).astype(np.int64)
    size = np.concatenate(([1], inner_qty[order], [1])).astype(np.int64)
    is_buy: npt.NDArray[np.bool_] = np.concatenate(
        ([pin_buy[0]], inner_buy[order], [pin_buy[1]])
    ).astype(bool)
    n = len(price)
    offsets = np.sort(np.floor(noise.uniform(seed, _TAG_TIME + 100, base + np.arange(n)) * MINUTE))
    offsets[0] = 0
    times = minute_open + offsets.astype(np.int64)
    raw = positive_split(count, n, noise.uniform(seed, _TAG_RAW, base + np.arange(n)) + 0.2)
    first = first_raw_id + np.concatenate(([0], np.cumsum(raw)[:-1]))
    return MinuteTrades(
        agg_id=number * AGG_IDS_PER_MINUTE + np.arange(n, dtype=np.int64),
        time=times,
        price=price,
        qty=size,
        buyer_is_maker=~is_buy,
        first_id=first.astype(np.int64),
        last_id=(first + raw - 1).astype(np.int64),
    )
