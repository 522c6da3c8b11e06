"""One tape per symbol: atoms (30m), the minutes split out of them, the trades of each
minute; every kline, ticker, book and trade answer is read off it.

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
from marketcache.emulator.minutes import Minutes, split_atoms
from marketcache.emulator.model import ATOM, SymbolModel
from marketcache.emulator.trades import MINUTE, MinuteTrades, minute_trades

KlineRow = list[Any]
DAY = intervals.DAY
SECOND = intervals.SECOND
ID_ORIGIN = 10**12  # the first raw trade id of the clock's first day


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


class Market:
    """All symbols of the recorded exchangeInfo, served on the emulator's clock."""

    def __init__(self, clock: EmulatorClock, seed: int = 0) -> None:
        self.clock = clock
        self.seed = seed
        self.symbols: dict[str, SymbolInfo] = symbols()
        self.exchange_info: dict[str, Any] = exchange_info()
        self.anchor = RealAnchor(clock.start_ms)
        self._real_atoms = self.anchor.atoms(grid(REAL_KLINES_SYMBOL))
        self._origin_day = clock.start_ms // DAY
        self._models: dict[str, SymbolModel] = {}
        self._atoms: LRU[tuple[str, int], Candles] = LRU(400_000, len)
        self._minutes: LRU[tuple[str, int], tuple[Minutes, np.ndarray]] = LRU(
            300_000, lambda v: len(v[0])
        )
        self._trades: LRU[tuple[str, int], MinuteTrades] = LRU(400_000, len)
        self._rows: LRU[tuple[str, str, int, int], list[KlineRow]] = LRU(100_000, len)
        self._day_ids: dict[tuple[str, int], int] = {}

    def model(self, symbol: str) -> SymbolModel:
        """The model of a known symbol (callers validate the symbol first)."""
        found = self._models.get(symbol)
        if found is None:
            info = self.symbols[symbol]
            found = self._models[symbol] = SymbolModel(info, self.anchor, self.seed)
        return found

    def grid(self, symbol: str) -> Grid:
        """The integer grid of a symbol's prices and sizes."""
        return grid(symbol)

    # the tape ---------------------------------------------------------------------------

    def day_atoms(self, symbol: str, day: int) -> Candles:
        """The 48 atoms of day number `day` (recorded ones where BTCUSDT has them)."""
        return self._atoms.get_or_make((symbol, day), lambda: self._make_days(symbol, [day])[0])

    def _make_days(self, symbol: str, days: list[int]) -> list[Candles]:
        """Atoms of several days in one vectorized draw, one Candles per day."""
        per_day = DAY // ATOM
        opens = np.repeat(np.array(days, dtype=np.int64) * DAY, per_day) + np.tile(
            np.arange(per_day, dtype=np.int64) * ATOM, len(days)
        )
        atoms = self.model(symbol).atoms(opens)
        if symbol == REAL_KLINES_SYMBOL:
            atoms = self._with_real(atoms)
        return [atoms.take(slice(i * per_day, (i + 1) * per_day)) for i in range(len(days))]

    def _with_real(self, atoms: Candles) -> Candles:
        real = self._real_atoms
        at = np.searchsorted(real.open_time, atoms.open_time)
        found = (at < len(real)) & (
            real.open_time[np.minimum(at, len(real) - 1)] == atoms.open_time
        )
        if not found.any():
            return atoms
        rows = np.flatnonzero(found)
        names = list(Candles.__dataclass_fields__)
        mixed = [getattr(atoms, name).copy() for name in names]
        for column, name in zip(mixed, names, strict=True):
            column[rows] = getattr(real, name)[at[rows]]
        return Candles(*mixed)

    def _prefetch_atoms(self, symbol: str, days: range) -> None:
        missing = [d for d in days if (symbol, d) not in self._atoms]
        if len(missing) > 1:
            for day, atoms in zip(missing, self._make_days(symbol, missing), strict=True):
                self._atoms.get_or_make((symbol, day), lambda a=atoms: a)  # type: ignore[misc]

    def day_minutes(self, symbol: str, day: int) -> tuple[Minutes, np.ndarray]:
        """The 1440 minutes of day `day`, and the first raw trade id of each."""

        def make() -> tuple[Minutes, np.ndarray]:
            minutes = split_atoms(self.model(symbol).seed, self.day_atoms(symbol, day))
            counts = minutes.candles.count
            first = self.day_first_id(symbol, day) + np.concatenate(([0], np.cumsum(counts)[:-1]))
            return minutes, first

        return self._minutes.get_or_make((symbol, day), make)

    def day_first_id(self, symbol: str, day: int) -> int:
        """The first raw trade id of day `day`: ids count every trade from the clock's day."""
        key = (symbol, day)
        if key in self._day_ids:
            return self._day_ids[key]
        origin = self._origin_day
        self._day_ids.setdefault((symbol, origin), ID_ORIGIN)
        step = 1 if day > origin else -1
        d = day
        while (symbol, d) not in self._day_ids:
            d -= step
        while d != day:
            if step > 0:
                value = self._day_ids[(symbol, d)] + int(self.day_atoms(symbol, d).count.sum())
            else:
                value = self._day_ids[(symbol, d)] - int(self.day_atoms(symbol, d - 1).count.sum())
            d += step
            self._day_ids[(symbol, d)] = value
        return self._day_ids[key]

    def minute(self, symbol: str, minute_open: int) -> MinuteTrades:
        """Every trade of the minute opening at `minute_open` (future ones included)."""

        def make() -> MinuteTrades:
            day = minute_open // DAY
            minutes, first = self.day_minutes(symbol, day)
            i = (minute_open - day * DAY) // MINUTE
            c = minutes.candles
            ohlc = (int(c.open[i]), int(c.high[i]), int(c.low[i]), int(c.close[i]))
            units = (int(minutes.free_units[i, 0]), int(minutes.free_units[i, 1]))
            quote = (int(minutes.free_quote[i, 0]), int(minutes.free_quote[i, 1]))
            seed = self.model(symbol).seed
            pins = minutes.pin_buy[i]
            count = int(c.count[i])
            return minute_trades(seed, minute_open, ohlc, pins, units, quote, count, int(first[i]))

        return self._trades.get_or_make((symbol, minute_open), make)

    def atom_range(self, symbol: str, start: int, stop: int) -> Candles:
        """Atoms opening in [start, stop) (both aligned to 30m)."""
        self._prefetch_atoms(symbol, range(start // DAY, (stop - 1) // DAY + 1))
        return self._range(start, stop, ATOM, lambda d: self.day_atoms(symbol, d))

    def minute_range(self, symbol: str, start: int, stop: int) -> Candles:
        """1m candles opening in [start, stop) (both aligned to 1m)."""
        return self._range(start, stop, MINUTE, lambda d: self.day_minutes(symbol, d)[0].candles)

    @staticmethod
    def _range(start: int, stop: int, length: int, day_block: Any) -> Candles:
        parts = []
        for day in range(start // DAY, (stop - 1) // DAY + 1):
            block = day_block(day)
            lo = max(0, (start - day * DAY) // length)
            hi = min(len(block), (stop - day * DAY) // length)
            parts.append(block.take(slice(lo, hi)))
        return concat(parts)

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
        inner_start = first_minute + MINUTE
        atom_start = -(-inner_start // ATOM) * ATOM
        atom_stop = last_minute // ATOM * ATOM
        if atom_start < atom_stop:
            parts.append(self.minute_range(symbol, inner_start, atom_start))
            parts.append(self.atom_range(symbol, atom_start, atom_stop))
            parts.append(self.minute_range(symbol, atom_stop, last_minute))
        elif inner_start < last_minute:
            parts.append(self.minute_range(symbol, inner_start, last_minute))
        tail = self.minute(symbol, last_minute).upto(end)
        parts.append(trade_candle(tail, start, end))
        return merge(parts, start, end)

    # klines -----------------------------------------------------------------------------

    def closed_candles(self, symbol: str, interval: str, first_open: int, count: int) -> Candles:
        """`count` candles from `first_open`, with their full-window (closed) values."""
        bounds = np.array(intervals.opens_between(interval, first_open, count), dtype=np.int64)
        opens, closes = bounds[:-1], bounds[1:] - 1
        length = intervals.INTERVAL_MS[interval]
        if interval == "1s":
            return self._seconds(symbol, int(bounds[0]), int(bounds[-1]))
        if interval != "1M" and length < ATOM:
            rows = self.minute_range(symbol, int(bounds[0]), int(bounds[-1]))
            return aggregate(rows, (opens - bounds[0]) // MINUTE, opens, closes)
        start, stop = int(bounds[0]), int(bounds[-1])
        a0 = start // ATOM * ATOM
        rows = self.atom_range(symbol, a0, -(-stop // ATOM) * ATOM)
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
