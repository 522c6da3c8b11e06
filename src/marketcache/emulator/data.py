"""The recorded Binance files shipped in the package, loaded through importlib.resources."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

EXCHANGE_INFO_FILE = "exchangeInfo-spot-usdt-2021-10-12.json"
REAL_KLINES_FILE = "BTCUSDT-30m-klines-2019-04.json"
REAL_KLINES_SYMBOL = "BTCUSDT"
REAL_KLINES_INTERVAL = "30m"


def _read_json(name: str) -> Any:
    text = resources.files("marketcache.emulator").joinpath("data", name).read_text("utf-8")
    return json.loads(text)


@dataclass(frozen=True)
class SymbolInfo:
    """What the emulator needs to know of one market: its assets and its grid of prices/sizes."""

    symbol: str
    base: str
    quote: str
    tick_size: float
    step_size: float
    price_decimals: int
    qty_decimals: int


def _decimals(step: str) -> int:
    exponent = Decimal(step).normalize().as_tuple().exponent
    return max(0, -int(exponent))


def _symbol_info(raw: dict[str, Any]) -> SymbolInfo:
    filters = {f["filterType"]: f for f in raw["filters"]}
    tick = filters["PRICE_FILTER"]["tickSize"]
    step = filters["LOT_SIZE"]["stepSize"]
    return SymbolInfo(
        symbol=raw["symbol"],
        base=raw["baseAsset"],
        quote=raw["quoteAsset"],
        tick_size=float(tick),
        step_size=float(step),
        price_decimals=_decimals(tick),
        qty_decimals=_decimals(step),
    )


@cache
def exchange_info() -> dict[str, Any]:
    """The recorded `GET /api/v3/exchangeInfo` answer (do not mutate; copy to change)."""
    info: dict[str, Any] = _read_json(EXCHANGE_INFO_FILE)
    return info


@cache
def symbols() -> dict[str, SymbolInfo]:
    """Every market of the recorded exchangeInfo, by Binance symbol id (e.g. `BTCUSDT`)."""
    return {raw["symbol"]: _symbol_info(raw) for raw in exchange_info()["symbols"]}


@cache
def real_klines() -> list[list[Any]]:
    """The 500 recorded BTCUSDT 30m klines, in Binance's 12-column wire format."""
    rows: list[list[Any]] = _read_json(REAL_KLINES_FILE)
    return rows
