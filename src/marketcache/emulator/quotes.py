"""The 24h ticker, the last price and the order book of a symbol."""

from __future__ import annotations

from typing import Any

import numpy as np

from marketcache.emulator import intervals, noise
from marketcache.emulator.market import TICKER_CANDLES, TICKER_INTERVAL, Market, fmt

DAY = 24 * 60 * 60 * 1000


def last_price(market: Market, symbol: str) -> str:
    """The price of the latest trade (what `lastPrice` reports): it moves with the clock.

    For every symbol but BTCUSDT that is also the live candle's close; BTCUSDT's live
    30m candle is the recorded one, fixed until it closes, so the trades carry the price.
    """
    return fmt(market.trade_price(symbol, market.clock.now_ms()))


def ticker_24hr(market: Market, symbol: str) -> dict[str, Any]:
    """`GET /api/v3/ticker/24hr` for one symbol, aggregated from the last day of klines."""
    now = market.clock.now_ms()
    rows = market.klines(symbol, TICKER_INTERVAL, None, None, TICKER_CANDLES)
    info = market.symbols[symbol]
    open_price = float(rows[0][1])
    last = market.trade_price(symbol, now)
    volume = sum(float(r[5]) for r in rows)
    quote = sum(float(r[7]) for r in rows)
    count = sum(int(r[8]) for r in rows)
    trades = market.trades_so_far(symbol, now)
    last_id = int(trades.last_id[-1])
    change = last - open_price
    bid_qty, ask_qty = _top_sizes(market, symbol, now)
    return {
        "symbol": symbol,
        "priceChange": fmt(change),
        "priceChangePercent": f"{change / open_price * 100:.3f}",
        "weightedAvgPrice": fmt(quote / volume if volume else last),
        "prevClosePrice": fmt(open_price),
        "lastPrice": fmt(last),
        "lastQty": fmt(int(trades.qty_units[-1]) * info.step_size),
        "bidPrice": fmt(last),
        "bidQty": fmt(bid_qty),
        "askPrice": fmt(last + info.tick_size),
        "askQty": fmt(ask_qty),
        "openPrice": fmt(open_price),
        "highPrice": fmt(max(last, *(float(r[2]) for r in rows))),
        "lowPrice": fmt(min(last, *(float(r[3]) for r in rows))),
        "volume": fmt(volume),
        "quoteVolume": fmt(quote),
        "openTime": now - DAY,
        "closeTime": now,
        "firstId": last_id - count + 1,
        "lastId": last_id,
        "count": count,
    }


def _sizes(market: Market, symbol: str, now: int, levels: int, tag: int) -> list[float]:
    """Sizes of the book's levels, redrawn every second, in lot steps."""
    model = market.model(symbol)
    candle = market.closed_candles(symbol, "1m", intervals.align("1m", now), 1)
    mean_units = max(1.0, float(candle.volume_units[0]) / max(1, int(candle.count[0])))
    idx = (now // 1000) * 10_000 + np.arange(levels, dtype=np.int64)
    draws = -np.log1p(-noise.uniform(model.seed, tag, idx))
    units = np.maximum(1, np.round(draws * mean_units * 3))
    return [float(u) * model.info.step_size for u in units]


def _top_sizes(market: Market, symbol: str, now: int) -> tuple[float, float]:
    return _sizes(market, symbol, now, 1, 31)[0], _sizes(market, symbol, now, 1, 32)[0]


def depth(market: Market, symbol: str, limit: int) -> dict[str, Any]:
    """`GET /api/v3/depth`: `limit` levels each side around the last price."""
    now = market.clock.now_ms()
    info = market.symbols[symbol]
    last = float(last_price(market, symbol))
    tick = info.tick_size
    gap = max(1, round(last * 0.0001 / tick))  # about one basis point between levels
    bid_sizes = _sizes(market, symbol, now, limit, 31)
    ask_sizes = _sizes(market, symbol, now, limit, 32)
    bids = []
    for k in range(limit):
        price = round(last / tick) * tick - k * gap * tick
        if price <= 0:
            break
        bids.append([fmt(price), fmt(bid_sizes[k])])
    asks = [
        [fmt(round(last / tick) * tick + (1 + k * gap) * tick), fmt(ask_sizes[k])]
        for k in range(limit)
    ]
    return {"lastUpdateId": now, "bids": bids, "asks": asks}
