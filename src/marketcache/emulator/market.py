"""The market's answers read off one tape per symbol (`store`): atoms (30m), the minutes
split out of them, the trades of each minute.

Candles of 30m and longer aggregate atoms; 1m to 15m aggregate minutes; 1s aggregates
trades. A live candle (and the 24h ticker's rolling window) aggregates what traded from
its open up to now: whole atoms and minutes, then the trades of the live minute.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from marketcache.emulator import intervals
from marketcache.emulator.anchor import RealAnchor
from marketcache.emulator.candles import Candles, aggregate, concat, kline_rows, merge
from marketcache.emulator.clock import EmulatorClock
from marketcache.emulator.data import (
    REAL_KLINES_INTERVAL,
    REAL_KLINES_SYMBOL,
    SymbolInfo,
    exchange_info,
    symbols,
)
from marketcache.emulator.grid import Grid, grid
from marketcache.emulator.lru import LRU
from marketcache.emulator.model import ATOM, SymbolModel
from marketcache.emulator.noise import IntArray
from marketcache.emulator.store import TapeStore
from marketcache.emulator.trades import MINUTE, MinuteTrades

KlineRow = list[Any]
DAY = intervals.DAY
SECOND = intervals.SECOND


def trade_candle(trades: MinuteTrades, open_time: int, close_time: int) -> Candles:
    """The trades (at least one) as one candle."""
    buy = ~trades.buyer_is_maker
    value = trades.price * trades.qty
    one = np.ones(1, dtype=np.int64)
    return Candles(
        open_time=one * open_time,
        close_time=one * close_time,
        open=trades.price[:1],
        high=one * int(trades.price.max()),
        low=one * int(trades.price.min()),
        close=trades.price[-1:],
        volume=one * int(trades.qty.sum()),
        taker=one * int(trades.qty[buy].sum()),
        quote=one * int(value.sum()),
        taker_quote=one * int(value[buy].sum()),
        count=one * int((trades.last_id - trades.first_id + 1).sum()),
    )


def _levels(book: tuple[IntArray, ...]) -> int:
    return len(book[0]) + len(book[2])


class Market:
    """All symbols of the recorded exchangeInfo, served on the emulator's clock."""

    def __init__(self, clock: EmulatorClock, seed: int = 0) -> None:
        self.clock = clock
        self.seed = seed
        self.symbols: dict[str, SymbolInfo] = symbols()
        self.exchange_info: dict[str, Any] = exchange_info()
        self.anchor = RealAnchor(clock.start_ms)
        self.store = TapeStore(self.symbols, self.anchor, seed)
        self._rows: LRU[tuple[str, str, int, int], list[KlineRow]] = LRU(100_000, len)
        self._spans: LRU[tuple[str, int, int], Candles] = LRU(50_000)
        # books (quotes.book_levels) by (symbol, now, levels): a diff stream reuses the last
        self.books: LRU[tuple[str, int, int], tuple[IntArray, ...]] = LRU(2_000_000, _levels)

    def model(self, symbol: str) -> SymbolModel:
        """The model of a known symbol (callers validate the symbol first)."""
        return self.store.model(symbol)

    def grid(self, symbol: str) -> Grid:
        """The integer grid of a symbol's prices and sizes."""
        return grid(symbol)

    def minute(self, symbol: str, minute_open: int) -> MinuteTrades:
        """Every trade of the minute opening at `minute_open` (future ones included)."""
        return self.store.minute(symbol, minute_open)

    def minute_range(self, symbol: str, start: int, stop: int) -> Candles:
        """1m candles opening in [start, stop) (both aligned to 1m)."""
        return self.store.minute_range(symbol, start, stop)

    def trades_so_far(self, symbol: str, now: int) -> MinuteTrades:
        """The trades of the live minute up to `now` (never empty: one opens the minute)."""
        return self.minute(symbol, now // MINUTE * MINUTE).upto(now)

    def trade_price(self, symbol: str, now: int) -> int:
        """The price (ticks) of the latest trade at or before `now`."""
        return int(self.trades_so_far(symbol, now).price[-1])

    def window(self, symbol: str, start: int, end: int) -> Candles:
        """Everything that traded with start <= time <= end, as one candle (open_time
        `start`, close_time `end`); at least one trade must lie in the window."""
        first_minute, last_minute = start // MINUTE * MINUTE, end // MINUTE * MINUTE
        if first_minute == last_minute:
            return trade_candle(self.minute(symbol, first_minute).between(start, end), start, end)
        parts: list[Candles] = []
        head = self.minute(symbol, first_minute).between(start, end)
        if len(head):
            parts.append(trade_candle(head, start, end))
        if first_minute + MINUTE < last_minute:
            parts.append(self._whole_minutes(symbol, first_minute + MINUTE, last_minute))
        tail = self.minute(symbol, last_minute).upto(end)
        parts.append(trade_candle(tail, start, end))
        return merge(parts, start, end)

    def _whole_minutes(self, symbol: str, start: int, stop: int) -> Candles:
        """The minutes opening in [start, stop) as one candle: atoms where whole; cached
        (a running clock asks for the same span all minute long)."""

        def make() -> Candles:
            atom_start = -(-start // ATOM) * ATOM
            atom_stop = stop // ATOM * ATOM
            if atom_start >= atom_stop:
                return merge([self.minute_range(symbol, start, stop)], start, stop - 1)
            parts = [
                self.minute_range(symbol, start, atom_start) if start < atom_start else None,
                self.store.atom_range(symbol, atom_start, atom_stop),
                self.minute_range(symbol, atom_stop, stop) if atom_stop < stop else None,
            ]
            return merge([p for p in parts if p is not None], start, stop - 1)

        return self._spans.get_or_make((symbol, start, stop), make)

    # klines -----------------------------------------------------------------------------

    def closed_candles(self, symbol: str, interval: str, first_open: int, count: int) -> Candles:
        """`count` candles from `first_open`, with their full-window (closed) values."""
        bounds = np.array(intervals.opens_between(interval, first_open, count), dtype=np.int64)
        opens, closes = bounds[:-1], bounds[1:] - 1
        length = intervals.INTERVAL_MS[interval]
        if interval == "1s":
            return self._seconds(symbol, int(bounds[0]), int(bounds[-1]))
        if interval != "1M" and length < ATOM:
            rows = self.store.minute_range(symbol, int(bounds[0]), int(bounds[-1]))
            return aggregate(rows, (opens - bounds[0]) // MINUTE, opens, closes)
        start, stop = int(bounds[0]), int(bounds[-1])
        a0 = start // ATOM * ATOM
        rows = self.store.atom_range(symbol, a0, -(-stop // ATOM) * ATOM)
        return aggregate(rows, (opens - a0) // ATOM, opens, closes)

    def _seconds(self, symbol: str, start: int, stop: int) -> Candles:
        """1s candles in [start, stop): the trades of each second (none: flat at the last price)."""
        trades = [self.minute(symbol, m) for m in range(start // MINUTE * MINUTE, stop, MINUTE)]
        parts: list[Candles] = []
        previous = self.trade_price(symbol, start - 1)
        for second in range(start, stop, SECOND):
            inside = trades[(second // MINUTE * MINUTE - start // MINUTE * MINUTE) // MINUTE]
            done = inside.between(second, second + SECOND - 1)
            if len(done):
                parts.append(trade_candle(done, second, second + SECOND - 1))
                previous = int(done.price[-1])
            else:
                flat = np.array([previous], dtype=np.int64)
                zero = np.zeros(1, dtype=np.int64)
                t = np.array([second], dtype=np.int64)
                parts.append(
                    Candles(t, t + 999, flat, flat, flat, flat, zero, zero, zero, zero, zero)
                )
        return concat(parts)

    def closed_rows(
        self, symbol: str, interval: str, first_open: int, count: int
    ) -> list[KlineRow]:
        """Kline rows with full-window values (recorded ones verbatim); cached, do not mutate."""

        def make() -> list[KlineRow]:
            candles = self.closed_candles(symbol, interval, first_open, count)
            rows = kline_rows(candles, self.grid(symbol))
            if symbol == REAL_KLINES_SYMBOL and interval == REAL_KLINES_INTERVAL:
                rows = [self.anchor.row(row[0]) or row for row in rows]
            return rows

        return self._rows.get_or_make((symbol, interval, first_open, count), make)

    def klines(
        self, symbol: str, interval: str, start: int | None, end: int | None, limit: int
    ) -> list[KlineRow]:
        """Binance's `GET /api/v3/klines` semantics: open times in [start, end], up to now."""
        now = self.clock.now_ms()
        live_open = intervals.align(interval, now)
        last = live_open if end is None else min(live_open, intervals.align(interval, end))
        if start is not None:
            first = intervals.align(interval, max(start, 0))
            if first < start:
                first = intervals.shift(interval, first, 1)
            if first > last:
                return []
            count = min(limit, intervals.count_opens(interval, first, last))
        else:
            count = limit
            first = intervals.shift(interval, last, -(limit - 1))
            while first < 0 and count > 0:
                first = intervals.shift(interval, first, 1)
                count -= 1
        if count <= 0:
            return []
        rows = self.closed_rows(symbol, interval, first, count)
        if rows[-1][0] != live_open:
            return rows
        rows = list(rows)
        rows[-1] = self.live_row(symbol, interval, now)
        return rows

    def live_row(self, symbol: str, interval: str, now: int) -> KlineRow:
        """The candle of `interval` containing `now`, as traded so far."""
        open_time = intervals.align(interval, now)
        close_time = intervals.shift(interval, open_time, 1) - 1
        live = self.window(symbol, open_time, now)
        live = Candles(
            np.array([open_time]),
            np.array([close_time]),
            *(getattr(live, f) for f in list(Candles.__dataclass_fields__)[2:]),
        )
        return kline_rows(live, self.grid(symbol))[0]
