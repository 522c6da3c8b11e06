"""Binance's market streams: their names, and their messages read off the tape at now.

A stream is `<symbol>@<kind>` with kind `trade`, `aggTrade`, `kline_<interval>`,
`ticker`, `miniTicker`, `bookTicker`, `depth<5|10|20>[@100ms]` (partial book) or
`depth[@100ms]` (diff book, whose update ids are the emulator's milliseconds, as in
`/api/v3/depth`'s `lastUpdateId`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from marketcache.emulator import quotes
from marketcache.emulator.intervals import INTERVAL_MS, align
from marketcache.emulator.market import Market
from marketcache.emulator.trades import MINUTE

_NAME = re.compile(
    r"^(?P<symbol>[a-z0-9]+)@(?P<kind>trade|aggTrade|ticker|miniTicker|bookTicker"
    r"|kline_(?P<interval>[0-9]+[smhdwM])|depth(?P<levels>5|10|20)?)(?:@(?P<speed>100ms|1000ms))?$"
)
DIFF_LEVELS = 1000  # the diff book covers what /api/v3/depth?limit=1000 shows


@dataclass(frozen=True)
class Stream:
    """One parsed stream name."""

    name: str
    symbol: str  # Binance id, upper case
    kind: str  # trade, aggTrade, kline, ticker, miniTicker, bookTicker, depth, diff
    interval: str | None = None
    levels: int = 0
    cadence_ms: int = 0  # emulated ms between messages of state streams (0: every change)


def parse(name: str, market: Market) -> Stream | None:
    """The stream called `name`, or None if there is no such stream."""
    found = _NAME.match(name)
    if not found or found["symbol"].upper() not in market.symbols:
        return None
    symbol = found["symbol"].upper()
    kind = found["kind"]
    fast = found["speed"] == "100ms"
    if kind.startswith("kline_"):
        interval = found["interval"]
        if interval not in INTERVAL_MS:
            return None
        return Stream(
            name, symbol, "kline", interval, cadence_ms=1000 if interval == "1s" else 2000
        )
    if kind.startswith("depth"):
        levels = int(found["levels"] or 0)
        return Stream(
            name,
            symbol,
            "depth" if levels else "diff",
            levels=levels,
            cadence_ms=100 if fast else 1000,
        )
    cadence = {"ticker": 1000, "miniTicker": 1000}.get(kind, 0)
    return Stream(name, symbol, kind, cadence_ms=cadence)


def trade_messages(market: Market, stream: Stream, after: int, now: int) -> list[dict[str, Any]]:
    """One message per trade with after < time <= now (`trade` or `aggTrade`)."""
    g = market.grid(stream.symbol)
    out: list[dict[str, Any]] = []
    for minute in range(after // MINUTE * MINUTE, now + 1, MINUTE):
        trades = market.minute(stream.symbol, minute).between(after + 1, now)
        for a, t, p, q, m, f, last in zip(
            trades.agg_id.tolist(),
            trades.time.tolist(),
            trades.price.tolist(),
            trades.qty.tolist(),
            trades.buyer_is_maker.tolist(),
            trades.first_id.tolist(),
            trades.last_id.tolist(),
            strict=True,
        ):
            if stream.kind == "aggTrade":
                out.append(
                    {
                        "e": "aggTrade",
                        "E": now,
                        "s": stream.symbol,
                        "a": a,
                        "p": g.price(p),
                        "q": g.size(q),
                        "f": f,
                        "l": last,
                        "T": t,
                        "m": m,
                        "M": True,
                    }
                )
            else:
                out.append(
                    {
                        "e": "trade",
                        "E": now,
                        "s": stream.symbol,
                        "t": last,
                        "p": g.price(p),
                        "q": g.size(q),
                        "T": t,
                        "m": m,
                        "M": True,
                    }
                )
    return out


def kline_message(market: Market, stream: Stream, open_time: int, now: int) -> dict[str, Any]:
    """The kline of the candle opening at `open_time` as of `now` (final once closed)."""
    assert stream.interval is not None
    live_open = align(stream.interval, now)
    if open_time == live_open:
        row = market.live_row(stream.symbol, stream.interval, now)
    else:
        row = market.klines(stream.symbol, stream.interval, open_time, open_time, 1)[0]
    first_last = market.window(stream.symbol, row[0], min(now, row[6]))
    last_id = int(
        market.minute(stream.symbol, min(now, row[6]) // MINUTE * MINUTE).upto(now).last_id[-1]
    )
    return {
        "e": "kline",
        "E": now,
        "s": stream.symbol,
        "k": {
            "t": row[0],
            "T": row[6],
            "s": stream.symbol,
            "i": stream.interval,
            "f": last_id - int(first_last.count[0]) + 1,
            "L": last_id,
            "o": row[1],
            "c": row[4],
            "h": row[2],
            "l": row[3],
            "v": row[5],
            "n": row[8],
            "x": open_time != live_open,
            "q": row[7],
            "V": row[9],
            "Q": row[10],
            "B": "0",
        },
    }


def ticker_message(market: Market, stream: Stream, now: int) -> dict[str, Any]:
    """`24hrTicker` or `24hrMiniTicker`: the REST 24h ticker at `now`, renamed."""
    # at `now`, the message's E: the clock has moved on since, and a trade after E in a
    # ticker stamped E would contradict the tape (and the trade stream) at E
    t = quotes.ticker_24hr(market, stream.symbol, now)
    if stream.kind == "miniTicker":
        return {
            "e": "24hrMiniTicker",
            "E": now,
            "s": t["symbol"],
            "c": t["lastPrice"],
            "o": t["openPrice"],
            "h": t["highPrice"],
            "l": t["lowPrice"],
            "v": t["volume"],
            "q": t["quoteVolume"],
        }
    return {
        "e": "24hrTicker",
        "E": now,
        "s": t["symbol"],
        "p": t["priceChange"],
        "P": t["priceChangePercent"],
        "w": t["weightedAvgPrice"],
        "x": t["prevClosePrice"],
        "c": t["lastPrice"],
        "Q": t["lastQty"],
        "b": t["bidPrice"],
        "B": t["bidQty"],
        "a": t["askPrice"],
        "A": t["askQty"],
        "o": t["openPrice"],
        "h": t["highPrice"],
        "l": t["lowPrice"],
        "v": t["volume"],
        "q": t["quoteVolume"],
        "O": t["openTime"],
        "C": t["closeTime"],
        "F": t["firstId"],
        "L": t["lastId"],
        "n": t["count"],
    }


def book_ticker_message(market: Market, stream: Stream, now: int) -> dict[str, Any]:
    """`bookTicker`: the best bid and ask at `now` (update id: now)."""
    bid, ask = quotes.book_top(market, stream.symbol, now)
    return {"u": now, "s": stream.symbol, "b": bid[0], "B": bid[1], "a": ask[0], "A": ask[1]}


def partial_depth_message(market: Market, stream: Stream, now: int) -> dict[str, Any]:
    """`depth<levels>`: the top of the book at `now`."""
    bids, asks = quotes.book(market, stream.symbol, now, stream.levels)
    return {"lastUpdateId": now, "bids": bids, "asks": asks}


def diff_depth_message(market: Market, stream: Stream, before: int, now: int) -> dict[str, Any]:
    """`depthUpdate` from the book at `before` to the book at `now`: the levels whose size
    changed or that appeared, and those gone (size "0"), over the top DIFF_LEVELS."""
    g = market.grid(stream.symbol)
    old = quotes.book_levels(market, stream.symbol, before, DIFF_LEVELS)
    new = quotes.book_levels(market, stream.symbol, now, DIFF_LEVELS)

    def changes(old_p: Any, old_q: Any, new_p: Any, new_q: Any) -> list[list[str]]:
        was = dict(zip(old_p.tolist(), old_q.tolist(), strict=True))
        kept = set(new_p.tolist())
        out = [
            [g.price(p), g.size(q)]
            for p, q in zip(new_p.tolist(), new_q.tolist(), strict=True)
            if was.get(p) != q
        ]
        return out + [[g.price(p), g.size(0)] for p in was if p not in kept]

    return {
        "e": "depthUpdate",
        "E": now,
        "s": stream.symbol,
        "U": before + 1,
        "u": now,
        "b": changes(old[0], old[1], new[0], new[1]),
        "a": changes(old[2], old[3], new[2], new[3]),
    }
