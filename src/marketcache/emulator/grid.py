"""The integer grid a symbol trades on: prices in ticks, sizes in units, quote in tick*unit.

Every quantity of the tape is an integer on this grid, so sums are exact and every
aggregation identity holds to the last digit Binance prints (8 decimals).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from marketcache.emulator.data import REAL_KLINES_SYMBOL, SymbolInfo, symbols

WIRE_DECIMALS = 8


@dataclass(frozen=True)
class Grid:
    """Decimal exponents of a symbol's price tick, size unit and quote unit."""

    price_exp: int  # a price is ticks * 10**-price_exp
    size_exp: int  # a size is units * 10**-size_exp
    tick: float
    unit: float

    @property
    def quote_exp(self) -> int:
        """A quote amount is (ticks * units) * 10**-quote_exp."""
        return self.price_exp + self.size_exp

    def price(self, ticks: int) -> str:
        """Ticks as Binance prints a price."""
        return fixed(ticks, self.price_exp)

    def size(self, units: int) -> str:
        """Units as Binance prints a quantity."""
        return fixed(units, self.size_exp)

    def quote(self, amount: int) -> str:
        """A quote amount (ticks * units) as Binance prints it."""
        return fixed(amount, self.quote_exp)


def fixed(value: int, exp: int) -> str:
    """`value * 10**-exp` with exactly 8 decimals (exp <= 8), from integers only."""
    scaled = int(value) * 10 ** (WIRE_DECIMALS - exp)
    sign = "-" if scaled < 0 else ""
    whole, frac = divmod(abs(scaled), 10**WIRE_DECIMALS)
    return f"{sign}{whole}.{frac:0{WIRE_DECIMALS}d}"


def grid_of(info: SymbolInfo) -> Grid:
    """The grid of a symbol: its tick, and the coarsest of its lot step and what keeps the
    quote within 8 decimals (the recorded BTCUSDT sizes have 6 decimals, finer than its step)."""
    price_exp = info.price_decimals
    if info.symbol == REAL_KLINES_SYMBOL:
        size_exp = WIRE_DECIMALS - price_exp
    else:
        size_exp = min(info.qty_decimals, WIRE_DECIMALS - price_exp)
    return Grid(price_exp, size_exp, 10.0**-price_exp, 10.0**-size_exp)


@cache
def grid(symbol: str) -> Grid:
    """The grid of a known symbol."""
    return grid_of(symbols()[symbol])
