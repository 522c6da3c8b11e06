"""The integer grid a symbol trades on: prices in ticks, sizes in units, quote in tick*unit.

Every quantity of the tape is an integer on this grid, so sums are exact and every
aggregation identity holds to the last digit Binance prints (8 decimals).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from marketcache.emulator.data import REAL_KLINES_SYMBOL, SymbolInfo, symbols

WIRE_DECIMALS = 8


@dataclass(frozen=True)
class Grid:
    """Decimal exponents of a symbol's price tick, size unit and quote unit, and the
    formatters that print its integers as Binance prints numbers (8 decimals)."""

    price_exp: int  # a price is ticks * 10**-price_exp
    size_exp: int  # a size is units * 10**-size_exp
    tick: float
    unit: float

    @property
    def quote_exp(self) -> int:
        """A quote amount is (ticks * units) * 10**-quote_exp."""
        return self.price_exp + self.size_exp

    def __post_init__(self) -> None:
        object.__setattr__(self, "price", formatter(self.price_exp))
        object.__setattr__(self, "size", formatter(self.size_exp))
        object.__setattr__(self, "quote", formatter(self.price_exp + self.size_exp))

    # set per instance in __post_init__: ticks, units, ticks*units -> text
    price: Callable[[int], str] = field(init=False, compare=False, repr=False)
    size: Callable[[int], str] = field(init=False, compare=False, repr=False)
    quote: Callable[[int], str] = field(init=False, compare=False, repr=False)


def formatter(exp: int) -> Callable[[int], str]:
    """Print `value * 10**-exp` with exactly 8 decimals (exp <= 8), from integers only."""
    div = 10**exp
    pad = "0" * (WIRE_DECIMALS - exp)

    def text(value: int) -> str:
        if value < 0:
            return "-" + text(-value)
        if exp == 0:
            return f"{value}.{pad}"
        whole, frac = divmod(value, div)
        return f"{whole}.{frac:0{exp}d}{pad}"

    return text


def fixed(value: int, exp: int) -> str:
    """`value * 10**-exp` with exactly 8 decimals (exp <= 8)."""
    return formatter(exp)(int(value))


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
