"""The 24h ticker, the last price, the book and its top, read off the tape at now."""

from __future__ import annotations

from typing import Any

import numpy as np

from marketcache.emulator import noise
from marketcache.emulator.market import DAY, Market
from marketcache.emulator.noise import IntArray
from marketcache.emulator.trades import MINUTE

_TAG_BID, _TAG_ASK = 31, 32


def last_price(market: Market, symbol: str) -> str:
    """The price of the latest trade (what `lastPrice` reports)."""
    return market.grid(symbol).price(market.trade_price(symbol, market.clock.now_ms()))


def ticker_24hr(market: Market, symbol: str, now: int | None = None) -> dict[str, Any]:
    """`GET /api/v3/ticker/24hr`: every trade of the rolling window [now - 24h, now]
    (`now`: the clock's, unless a stream message stamped with its own time asks)."""
    now = market.clock.now_ms() if now is None else now
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


def book_levels(market: Market, symbol: str, now: int, limit: int) -> tuple[IntArray, ...]:
    """The book at `now` as integers: bid prices, bid sizes, ask prices, ask sizes (`limit`
    levels a side). The best bid is the last trade's price and the best ask one tick
    above; deeper levels sit on a fixed grid about a basis point apart, so a small move
    changes few of them. The two best sizes are redrawn every second, each deeper one
    once a minute (at its own second), all scaled by the day's mean trade size."""
    return market.books.get_or_make(
        (symbol, now, limit), lambda: _book_levels(market, symbol, now, limit)
    )


def _book_levels(market: Market, symbol: str, now: int, limit: int) -> tuple[IntArray, ...]:
    last = market.trade_price(symbol, now)
    gap = max(1, round(last * 0.0001))
    below = (last - 1) // gap * gap
    bids = np.concatenate(([last], below - gap * np.arange(limit - 1, dtype=np.int64)))
    bids = bids[bids > 0][:limit]
    above = -(-(last + 2) // gap) * gap
    asks = np.concatenate(([last + 1], above + gap * np.arange(limit - 1, dtype=np.int64)))[:limit]
    day = market.store.day_atoms(symbol, now // DAY)
    scale = max(1.0, float(day.volume.sum()) / max(1, int(day.count.sum()))) * 3
    seed = market.model(symbol).seed
    second = now // 1000
    return (
        bids,
        _sizes(seed, _TAG_BID, bids, second, scale),
        asks,
        _sizes(seed, _TAG_ASK, asks, second, scale),
    )


def _sizes(seed: int, tag: int, prices: IntArray, second: int, scale: float) -> IntArray:
    """Sizes (units) of the levels at `prices`: the first redrawn every second, the rest
    every minute at a second of their own."""
    epoch = (second + prices % 60) // 60
    epoch[:1] = second
    draws = -np.log1p(-noise.uniform(seed, tag, prices * 131_072 + epoch % 131_072))
    sizes: IntArray = np.maximum(1, np.round(draws * scale)).astype(np.int64)
    return sizes


def book(
    market: Market, symbol: str, now: int, limit: int
) -> tuple[list[list[str]], list[list[str]]]:
    """`limit` levels each side at `now`, as Binance prints them."""
    g = market.grid(symbol)
    bids, bid_sizes, asks, ask_sizes = book_levels(market, symbol, now, limit)
    return (
        [[g.price(p), g.size(q)] for p, q in zip(bids.tolist(), bid_sizes.tolist(), strict=True)],
        [[g.price(p), g.size(q)] for p, q in zip(asks.tolist(), ask_sizes.tolist(), strict=True)],
    )


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
