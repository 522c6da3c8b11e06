"""Aggregate-trade queries (`GET /api/v3/aggTrades`, `/trades`) over the minutes' trades."""

from __future__ import annotations

from typing import Any

from marketcache.emulator.grid import Grid
from marketcache.emulator.market import Market
from marketcache.emulator.trades import AGG_IDS_PER_MINUTE, MINUTE, MinuteTrades

HOUR = 60 * MINUTE
MAX_LOOKBACK_MINUTES = 24 * 60


def _rows(trades: MinuteTrades, g: Grid, lo: int, hi: int) -> list[dict[str, Any]]:
    columns = zip(
        trades.agg_id[lo:hi].tolist(),
        trades.price[lo:hi].tolist(),
        trades.qty[lo:hi].tolist(),
        trades.first_id[lo:hi].tolist(),
        trades.last_id[lo:hi].tolist(),
        trades.time[lo:hi].tolist(),
        trades.buyer_is_maker[lo:hi].tolist(),
        strict=True,
    )
    return [
        {"a": a, "p": g.price(p), "q": g.size(q), "f": f, "l": last, "T": t, "m": m, "M": True}
        for a, p, q, f, last, t, m in columns
    ]


def recent(market: Market, symbol: str, limit: int) -> list[dict[str, Any]]:
    """The latest `limit` trades at or before now, oldest first."""
    now = market.clock.now_ms()
    g = market.grid(symbol)
    minute = now // MINUTE * MINUTE
    chunks: list[list[dict[str, Any]]] = []
    wanted = limit
    for _ in range(MAX_LOOKBACK_MINUTES):
        if minute < 0:
            break
        trades = market.minute(symbol, minute).upto(now)
        take = min(wanted, len(trades))
        chunks.append(_rows(trades, g, len(trades) - take, len(trades)))
        wanted -= take
        if wanted <= 0:
            break
        minute -= MINUTE
    return [row for chunk in reversed(chunks) for row in chunk]


def window(market: Market, symbol: str, start: int, end: int, limit: int) -> list[dict[str, Any]]:
    """Trades with start <= T <= min(end, now), oldest first, at most `limit`."""
    end = min(end, market.clock.now_ms())
    g = market.grid(symbol)
    out: list[dict[str, Any]] = []
    minute = max(0, start) // MINUTE * MINUTE
    while minute <= end and len(out) < limit:
        trades = market.minute(symbol, minute)
        lo = int(trades.time.searchsorted(start, side="left"))
        hi = int(trades.time.searchsorted(end, side="right"))
        out.extend(_rows(trades, g, lo, min(hi, lo + limit - len(out))))
        minute += MINUTE
    return out


def from_id(market: Market, symbol: str, first_id: int, limit: int) -> list[dict[str, Any]]:
    """Trades with aggregate id >= `first_id`, up to now, oldest first, at most `limit`."""
    now = market.clock.now_ms()
    g = market.grid(symbol)
    out: list[dict[str, Any]] = []
    minute = max(0, first_id // AGG_IDS_PER_MINUTE) * MINUTE
    while minute <= now and len(out) < limit:
        trades = market.minute(symbol, minute).upto(now)
        lo = int(trades.agg_id.searchsorted(first_id, side="left"))
        out.extend(_rows(trades, g, lo, min(len(trades), lo + limit - len(out))))
        minute += MINUTE
    return out
