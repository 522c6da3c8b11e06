"""The emulated market's answers as plain Python values: klines, trades, prices.

`Market` ties the clock, the per-symbol models, the real BTCUSDT anchor and the caches
together; `routes` turns its answers into Binance's JSON.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from marketcache.emulator import intervals
from marketcache.emulator.anchor import RealAnchor
from marketcache.emulator.clock import EmulatorClock
from marketcache.emulator.data import (
    REAL_KLINES_INTERVAL,
    REAL_KLINES_SYMBOL,
    SymbolInfo,
    exchange_info,
    symbols,
)
from marketcache.emulator.lru import LRU
from marketcache.emulator.model import Candles, SymbolModel
from marketcache.emulator.trades import MINUTE, MinuteTrades, minute_trades

KlineRow = list[Any]
TICKER_INTERVAL = "30m"  # the 24h ticker aggregates the last 48 candles of this interval
TICKER_CANDLES = 48
HOUR = 60 * MINUTE


def fmt(value: float) -> str:
    """A number as Binance writes prices and sizes: fixed point, 8 decimals."""
    return f"{value:.8f}"


def kline_rows(candles: Candles, step: float) -> list[KlineRow]:
    """Binance's 12-column kline rows for the given candles."""
    columns = zip(
        candles.open_time.tolist(),
        candles.open.tolist(),
        candles.high.tolist(),
        candles.low.tolist(),
        candles.close.tolist(),
        (candles.volume_units * step).tolist(),
        candles.close_time.tolist(),
        candles.quote_volume.tolist(),
        candles.count.tolist(),
        (candles.taker_units * step).tolist(),
        candles.taker_quote_volume.tolist(),
        strict=True,
    )
    return [
        [
            t,
            f"{o:.8f}",
            f"{h:.8f}",
            f"{lo:.8f}",
            f"{c:.8f}",
            f"{v:.8f}",
            ct,
            f"{q:.8f}",
            n,
            f"{tb:.8f}",
            f"{tq:.8f}",
            "0",
        ]
        for t, o, h, lo, c, v, ct, q, n, tb, tq in columns
    ]


class Market:
    """All symbols of the recorded exchangeInfo, served on the emulator's clock."""

    def __init__(self, clock: EmulatorClock) -> None:
        self.clock = clock
        self.symbols: dict[str, SymbolInfo] = symbols()
        self.exchange_info: dict[str, Any] = exchange_info()
        self.anchor = RealAnchor(clock.start_ms)
        self._models: dict[str, SymbolModel] = {}
        # bounded by what they hold: candles, trades and rows (roughly 100 B, 60 B, 700 B each)
        self._candles: LRU[tuple[str, str, int, int], Candles] = LRU(400_000, len)
        self._minutes: LRU[tuple[str, int], MinuteTrades] = LRU(600_000, len)
        self._rows: LRU[tuple[str, str, int, int], list[KlineRow]] = LRU(100_000, len)

    def model(self, symbol: str) -> SymbolModel:
        """The model of a known symbol (callers validate the symbol first)."""
        found = self._models.get(symbol)
        if found is None:
            found = self._models[symbol] = SymbolModel(self.symbols[symbol], self.anchor)
        return found

    def closed_candles(self, symbol: str, interval: str, first_open: int, count: int) -> Candles:
        """`count` candles from `first_open`, with their full-window (closed) values; cached."""

        def make() -> Candles:
            bounds = intervals.opens_between(interval, first_open, count)
            return self.model(symbol).candles(interval, np.array(bounds, dtype=np.int64))

        return self._candles.get_or_make((symbol, interval, first_open, count), make)

    def minute(self, symbol: str, minute_open: int) -> MinuteTrades:
        """Every trade of the 1m candle opening at `minute_open` (future ones included)."""

        def make() -> MinuteTrades:
            # candles come in hour blocks: one vectorized draw serves 60 minutes of trades
            block_open = minute_open // HOUR * HOUR
            block = self.closed_candles(symbol, "1m", block_open, 60)
            return minute_trades(self.model(symbol), block, (minute_open - block_open) // MINUTE)

        return self._minutes.get_or_make((symbol, minute_open), make)

    def trades_so_far(self, symbol: str, now: int) -> MinuteTrades:
        """The trades of the live minute up to `now` (never empty: one opens the minute)."""
        return self.minute(symbol, now // MINUTE * MINUTE).upto(now)

    def trade_price(self, symbol: str, now: int) -> float:
        """The price of the latest trade at or before `now`."""
        return float(self.trades_so_far(symbol, now).price[-1])

    # klines ----------------------------------------------------------------------------

    def klines(
        self, symbol: str, interval: str, start: int | None, end: int | None, limit: int
    ) -> list[KlineRow]:
        """Binance's `GET /api/v3/klines` semantics: open times in [start, end], up to now."""
        now = self.clock.now_ms()
        last = intervals.align(interval, now)
        if end is not None:
            last = min(last, intervals.align(interval, end))
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
        rows = list(self.closed_rows(symbol, interval, first, count))
        live_open = intervals.align(interval, now)
        real = self.anchor.row(live_open) if symbol == REAL_KLINES_SYMBOL else None
        if rows[-1][0] == live_open and not (real and interval == REAL_KLINES_INTERVAL):
            candles = self.closed_candles(symbol, interval, first, count)
            rows[-1] = self._live_row(symbol, interval, candles, len(candles) - 1, now)
        return rows

    def closed_rows(
        self, symbol: str, interval: str, first_open: int, count: int
    ) -> list[KlineRow]:
        """Kline rows with full-window values (real ones where recorded); cached, do not mutate."""

        def make() -> list[KlineRow]:
            candles = self.closed_candles(symbol, interval, first_open, count)
            rows = kline_rows(candles, self.symbols[symbol].step_size)
            if symbol == REAL_KLINES_SYMBOL and interval == REAL_KLINES_INTERVAL:
                rows = [self.anchor.row(row[0]) or row for row in rows]
            return rows

        return self._rows.get_or_make((symbol, interval, first_open, count), make)

    def _live_row(self, symbol: str, interval: str, full: Candles, i: int, now: int) -> KlineRow:
        """The unclosed candle as of `now`: prices so far, volume growing with time."""
        info = self.symbols[symbol]
        o = float(full.open[i])
        if interval == "1m":
            done = self.trades_so_far(symbol, now)
            prices = done.price
            units = int(done.qty_units.sum())
            taker = int(done.qty_units[~done.buyer_is_maker].sum())
            quote = float((done.price * done.qty_units).sum()) * info.step_size
            taker_quote = float(
                (done.price[~done.buyer_is_maker] * done.qty_units[~done.buyer_is_maker]).sum()
            )
            taker_quote *= info.step_size
            count = int((done.last_id - done.first_id + 1).sum())
            c = float(prices[-1])
            h = max(o, float(prices.max()))
            low = min(o, float(prices.min()))
        else:
            length = int(full.close_time[i]) + 1 - int(full.open_time[i])
            frac = min(1.0, max(0.0, (now - int(full.open_time[i])) / length))
            grow = math.sqrt(frac)
            c = self.trade_price(symbol, now)
            tick = info.tick_size
            h = max(o, c, round((o + (float(full.high[i]) - o) * grow) / tick) * tick)
            low = min(o, c, round((o - (o - float(full.low[i])) * grow) / tick) * tick)
            units = round(int(full.volume_units[i]) * frac)
            taker = min(units, round(int(full.taker_units[i]) * frac))
            quote = float(full.quote_volume[i]) * frac
            taker_quote = float(full.taker_quote_volume[i]) * frac
            count = round(int(full.count[i]) * frac)
        return [
            int(full.open_time[i]),
            fmt(o),
            fmt(h),
            fmt(low),
            fmt(c),
            fmt(units * info.step_size),
            int(full.close_time[i]),
            fmt(quote),
            count,
            fmt(taker * info.step_size),
            fmt(taker_quote),
            "0",
        ]
