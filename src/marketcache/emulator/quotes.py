"""The 24h ticker, the last price, the book and its top, read off the tape at now."""

from __future__ import annotations

from typing import Any

import numpy as np

from marketcache.emulator import noise
from marketcache.emulator.market import DAY, Market
from marketcache.emulator.trades import MINUTE

BOOK_LEVELS = 5000
_TAG_BID, _TAG_ASK = 31, 32


def last_price(market: Market, symbol: str) -> str:
    """The price of the latest trade (what `lastPrice` reports)."""
    return market.grid(symbol).price(market.trade_price(symbol, market.clock.now_ms()))


def ticker_24hr(market: Market, symbol: str) -> dict[str, Any]:
    """`GET /api/v3/ticker/24hr`: every trade of the rolling window [now - 24h, now]."""
    now = market.clock.now_ms()
    start = now - DAY
    g = market.grid(symbol)
    day = market.window(symbol, start, now)
    last = market.trades_so_far(symbol, now)
    before = market.minute(symbol, (start - 1) // MINUTE * MINUTE).upto(start - 1)
    previous = int(before.price[-1]) if len(before) else int(day.open[0])
    open_price, close = int(day.open[0]), int(last.price[-1])
    volume, quote, count = int(day.volume[0]), int(day.quote[0]), int(day.count[0])
    last_id = int(last.last_id[-1])
    bid, ask = book_top(market, symbol, now)
    change = close - open_price
    weighted = quote / volume * g.tick if volume else close * g.tick
    return {
        "symbol": symbol,
        "priceChange": g.price(change),
        "priceChangePercent": f"{change / open_price * 100:.3f}",
        "weightedAvgPrice": f"{weighted:.8f}",
        "prevClosePrice": g.price(previous),
        "lastPrice": g.price(close),
        "lastQty": g.size(int(last.qty[-1])),
        "bidPrice": bid[0],
        "bidQty": bid[1],
        "askPrice": ask[0],
        "askQty": ask[1],
        "openPrice": g.price(open_price),
        "highPrice": g.price(int(day.high[0])),
        "lowPrice": g.price(int(day.low[0])),
        "volume": g.size(volume),
        "quoteVolume": g.quote(quote),
        "openTime": start,
        "closeTime": now,
        "firstId": last_id - count + 1,
        "lastId": last_id,
        "count": count,
    }


def _sizes(market: Market, symbol: str, now: int, levels: int, tag: int) -> list[int]:
    """Sizes (units) of the book's levels, redrawn every second."""
    model = market.model(symbol)
    candle = market.minute_range(symbol, now // MINUTE * MINUTE - MINUTE, now // MINUTE * MINUTE)
    mean_units = max(1.0, float(candle.volume[0]) / max(1, int(candle.count[0])))
    idx = (now // 1000) * 10_000 + np.arange(levels, dtype=np.int64)
    draws = -np.log1p(-noise.uniform(model.seed, tag, idx))
    return [int(u) for u in np.maximum(1, np.round(draws * mean_units * 3))]


def book(
    market: Market, symbol: str, now: int, limit: int
) -> tuple[list[list[str]], list[list[str]]]:
    """`limit` levels each side at `now`: the best bid at the last trade, one tick below
    the best ask, about one basis point between levels."""
    g = market.grid(symbol)
    last = market.trade_price(symbol, now)
    gap = max(1, round(last * 0.0001))
    bid_sizes = _sizes(market, symbol, now, limit, _TAG_BID)
    ask_sizes = _sizes(market, symbol, now, limit, _TAG_ASK)
    bids = [
        [g.price(last - k * gap), g.size(bid_sizes[k])] for k in range(limit) if last - k * gap > 0
    ]
    asks = [[g.price(last + 1 + k * gap), g.size(ask_sizes[k])] for k in range(limit)]
    return bids, asks


def book_top(market: Market, symbol: str, now: int) -> tuple[list[str], list[str]]:
    """The best bid and ask, [price, size] each."""
    bids, asks = book(market, symbol, now, 1)
    return bids[0], asks[0]


def depth(market: Market, symbol: str, limit: int) -> dict[str, Any]:
    """`GET /api/v3/depth`: `limit` levels each side; the update id is the emulator's now."""
    now = market.clock.now_ms()
    bids, asks = book(market, symbol, now, limit)
    return {"lastUpdateId": now, "bids": bids, "asks": asks}


def book_ticker(market: Market, symbol: str) -> dict[str, Any]:
    """`GET /api/v3/ticker/bookTicker` for one symbol."""
    bid, ask = book_top(market, symbol, market.clock.now_ms())
    return {
        "symbol": symbol,
        "bidPrice": bid[0],
        "bidQty": bid[1],
        "askPrice": ask[0],
        "askQty": ask[1],
    }
