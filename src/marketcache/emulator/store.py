"""Where the tape of every symbol is generated and kept: atoms by day, minutes by 4-hour
block, trades by minute, raw trade ids counted from the clock's first day.

Everything is drawn on demand, addressed by time (never by the window a request asked
for), and kept in memory-bounded LRU maps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from marketcache.emulator import intervals
from marketcache.emulator.anchor import RealAnchor
from marketcache.emulator.candles import FIELDS, Candles, concat
from marketcache.emulator.data import REAL_KLINES_SYMBOL, SymbolInfo
from marketcache.emulator.grid import grid
from marketcache.emulator.lru import LRU
from marketcache.emulator.minutes import Minutes, split_atoms
from marketcache.emulator.model import ATOM, SymbolModel
from marketcache.emulator.noise import IntArray
from marketcache.emulator.trades import MINUTE, MinuteTrades, minute_trades

DAY = intervals.DAY
BLOCK = 4 * intervals.HOUR  # minutes are split out of atoms 8 atoms at a time
ID_ORIGIN = 10**12  # the first raw trade id of the clock's first day


class TapeStore:
    """The generated tape of every symbol, cached."""

    def __init__(self, symbols: dict[str, SymbolInfo], anchor: RealAnchor, seed: int) -> None:
        self.symbols = symbols
        self.anchor = anchor
        self.seed = seed
        self._real_atoms = anchor.atoms(grid(REAL_KLINES_SYMBOL))
        self._origin_day = (anchor.last_open + ATOM) // DAY
        self._models: dict[str, SymbolModel] = {}
        # bounded by rows held: atoms ~100 B, minutes ~130 B, trades ~60 B each
        self._atoms: LRU[tuple[str, int], Candles] = LRU(400_000, len)
        self._minutes: LRU[tuple[str, int], tuple[Minutes, IntArray]] = LRU(
            300_000, lambda v: len(v[0])
        )
        self._trades: LRU[tuple[str, int], MinuteTrades] = LRU(400_000, len)
        self._day_ids: dict[tuple[str, int], int] = {}

    def model(self, symbol: str) -> SymbolModel:
        """The model of a known symbol (callers validate the symbol first)."""
        found = self._models.get(symbol)
        if found is None:
            found = SymbolModel(self.symbols[symbol], self.anchor, self.seed)
            self._models[symbol] = found
        return found

    # atoms ------------------------------------------------------------------------------

    def day_atoms(self, symbol: str, day: int) -> Candles:
        """The 48 atoms of day number `day` (recorded ones where BTCUSDT has them)."""
        return self._atoms.get_or_make((symbol, day), lambda: self._make_days(symbol, [day])[0])

    def _make_days(self, symbol: str, days: list[int]) -> list[Candles]:
        """Atoms of several days in one vectorized draw, one Candles per day."""
        per_day = DAY // ATOM
        starts = np.repeat(np.array(days, dtype=np.int64) * DAY, per_day)
        opens = starts + np.tile(np.arange(per_day, dtype=np.int64) * ATOM, len(days))
        atoms = self.model(symbol).atoms(opens)
        if symbol == REAL_KLINES_SYMBOL:
            atoms = self._with_real(atoms)
        return [atoms.take(slice(i * per_day, (i + 1) * per_day)) for i in range(len(days))]

    def _with_real(self, atoms: Candles) -> Candles:
        real = self._real_atoms
        at = np.searchsorted(real.open_time, atoms.open_time)
        clipped = np.minimum(at, len(real) - 1)
        found = (at < len(real)) & (real.open_time[clipped] == atoms.open_time)
        if not found.any():
            return atoms
        rows = np.flatnonzero(found)
        mixed = [getattr(atoms, name).copy() for name in FIELDS]
        for column, name in zip(mixed, FIELDS, strict=True):
            column[rows] = getattr(real, name)[at[rows]]
        return Candles(*mixed)

    def prefetch_atoms(self, symbol: str, days: range) -> None:
        """Draw the missing days of `days` in one go (cheaper than day by day)."""
        missing = [d for d in days if (symbol, d) not in self._atoms]
        if len(missing) > 1:
            for day, atoms in zip(missing, self._make_days(symbol, missing), strict=True):
                self._atoms.get_or_make((symbol, day), lambda a=atoms: a)  # type: ignore[misc]

    def atom_range(self, symbol: str, start: int, stop: int) -> Candles:
        """Atoms opening in [start, stop) (both aligned to 30m)."""
        self.prefetch_atoms(symbol, range(start // DAY, (stop - 1) // DAY + 1))
        return _range(start, stop, DAY, ATOM, lambda d: self.day_atoms(symbol, d))

    # minutes and trades -----------------------------------------------------------------

    def block_minutes(self, symbol: str, block: int) -> tuple[Minutes, IntArray]:
        """The 240 minutes of 4-hour block number `block`, and each one's first raw trade id."""
        return self._minutes.get_or_make(
            (symbol, block), lambda: self._make_blocks(symbol, [block])[0]
        )

    def _make_blocks(self, symbol: str, blocks: list[int]) -> list[tuple[Minutes, IntArray]]:
        """Minutes of several blocks split in one vectorized pass."""
        per_block = BLOCK // ATOM
        self.prefetch_atoms(symbol, range(blocks[0] * BLOCK // DAY, blocks[-1] * BLOCK // DAY + 1))
        parts, firsts = [], []
        for block in blocks:
            start = block * BLOCK
            day = start // DAY
            atoms = self.day_atoms(symbol, day)
            first_atom = (start - day * DAY) // ATOM
            parts.append(atoms.take(slice(first_atom, first_atom + per_block)))
            firsts.append(self.day_first_id(symbol, day) + int(atoms.count[:first_atom].sum()))
        minutes = split_atoms(self.model(symbol).seed, concat(parts))
        out = []
        n = per_block * 30
        for i, first_id in enumerate(firsts):
            mine = minutes.rows(slice(i * n, (i + 1) * n))
            counts = mine.candles.count
            ids: IntArray = first_id + np.concatenate(([0], np.cumsum(counts)[:-1]))
            out.append((mine, ids))
        return out

    def prefetch_minutes(self, symbol: str, start: int, stop: int) -> None:
        """Split the missing blocks of [start, stop) in one go."""
        wanted = range(start // BLOCK, (stop - 1) // BLOCK + 1)
        missing = [b for b in wanted if (symbol, b) not in self._minutes]
        if len(missing) > 1:
            for block, made in zip(missing, self._make_blocks(symbol, missing), strict=True):
                self._minutes.get_or_make((symbol, block), lambda m=made: m)  # type: ignore[misc]

    def minute_range(self, symbol: str, start: int, stop: int) -> Candles:
        """1m candles opening in [start, stop) (both aligned to 1m)."""
        self.prefetch_minutes(symbol, start, stop)
        return _range(
            start, stop, BLOCK, MINUTE, lambda b: self.block_minutes(symbol, b)[0].candles
        )

    def day_first_id(self, symbol: str, day: int) -> int:
        """The first raw trade id of day `day`: ids count every trade from the clock's day."""
        key = (symbol, day)
        if key in self._day_ids:
            return self._day_ids[key]
        origin = self._origin_day
        self._day_ids.setdefault((symbol, origin), ID_ORIGIN)
        step = 1 if day > origin else -1
        self.prefetch_atoms(symbol, range(min(day, origin), max(day, origin) + 1))
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
            block = minute_open // BLOCK
            minutes, first = self.block_minutes(symbol, block)
            i = (minute_open - block * BLOCK) // MINUTE
            c = minutes.candles
            ohlc = (int(c.open[i]), int(c.high[i]), int(c.low[i]), int(c.close[i]))
            units = (int(minutes.free_units[i, 0]), int(minutes.free_units[i, 1]))
            quote = (int(minutes.free_quote[i, 0]), int(minutes.free_quote[i, 1]))
            seed = self.model(symbol).seed
            count = int(c.count[i])
            pins = minutes.pin_buy[i]
            return minute_trades(seed, minute_open, ohlc, pins, units, quote, count, int(first[i]))

        return self._trades.get_or_make((symbol, minute_open), make)


def _range(
    start: int, stop: int, span: int, length: int, block_of: Callable[[int], Any]
) -> Candles:
    """Rows opening in [start, stop) out of blocks of `span` ms holding rows of `length`."""
    parts = []
    for block in range(start // span, (stop - 1) // span + 1):
        rows = block_of(block)
        lo = max(0, (start - block * span) // length)
        hi = min(len(rows), (stop - block * span) // length)
        parts.append(rows if lo == 0 and hi == len(rows) else rows.take(slice(lo, hi)))
    return concat(parts)
