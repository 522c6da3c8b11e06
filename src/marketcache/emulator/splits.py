"""Exact integer splits, row by row: totals shared out by weights, with floors and caps."""

from __future__ import annotations

import numpy as np

from marketcache.emulator.noise import FloatArray, IntArray


def by_weight(total: IntArray, weights: FloatArray) -> IntArray:
    """Per row, non-negative integers summing to `total[row]`, proportional to `weights`."""
    w = np.maximum(np.asarray(weights, dtype=np.float64), 1e-12)
    tot = np.asarray(total, dtype=np.int64)
    exact = tot[:, None].astype(np.float64) * w / w.sum(axis=1, keepdims=True)
    base = np.floor(exact).astype(np.int64)
    # float rounding can leave the floors a little off: fix the remainder exactly
    remainder = tot - base.sum(axis=1)
    order = np.argsort(-(exact - base), axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(w.shape[1])[None, :], axis=1)
    width = w.shape[1]
    extra = remainder[:, None] // width + (ranks < (remainder[:, None] % width))
    # (should float rounding put the floors one over the total, the part with the
    # smallest fraction gives the unit back)
    out: IntArray = base + extra
    return out


def at_least(total: IntArray, floor: IntArray, weights: FloatArray) -> IntArray:
    """Per row, integers >= `floor` summing to `total` (which must cover the floors)."""
    spare = np.asarray(total, dtype=np.int64) - floor.sum(axis=1)
    out: IntArray = floor + by_weight(np.maximum(spare, 0), weights)
    return out


def capped(total: IntArray, caps: IntArray) -> IntArray:
    """Per row, integers in [0, cap] summing to `total` (<= sum of caps), by capacity."""
    cap = np.asarray(caps, dtype=np.int64)
    room = cap.sum(axis=1)
    tot = np.clip(np.asarray(total, dtype=np.int64), 0, room)
    safe = np.maximum(room, 1)
    # integer arithmetic, exact for the sizes the tape uses (< 2**62 per product)
    share = (tot[:, None] * cap.astype(object) // safe[:, None]).astype(np.int64)
    remainder = tot - share.sum(axis=1)
    slack = cap - share
    order = np.argsort(-slack, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(cap.shape[1])[None, :], axis=1)
    out: IntArray = share + ((ranks < remainder[:, None]) & (slack > 0))
    return out
