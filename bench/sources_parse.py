"""Cost of the source's hot pure functions, against what ccxt's unified parsing would cost.

    .venv/bin/python bench/sources_parse.py

Symbol normalization runs on every request; parsing runs on every upstream fetch.
Prints microseconds per call (best of 5 runs).
"""

from __future__ import annotations

import json
import timeit
from importlib import resources
from typing import Any

import ccxt

from marketcache.models import Market
from marketcache.sources.parse import candles_from_binance, trades_from_binance
from marketcache.sources.symbols import SymbolIndex

DATA = resources.files("marketcache.emulator") / "data"


def best_us(stmt: Any, number: int) -> float:
    """Best of 5 runs, in microseconds per call."""
    return min(timeit.repeat(stmt, number=number, repeat=5)) / number * 1e6


def main() -> None:
    """Run every measurement and print a table."""
    info = json.loads((DATA / "exchangeInfo-spot-usdt-2021-10-12.json").read_text())
    exchange = ccxt.binance()
    exchange.options["crossMarginPairsData"] = []
    exchange.options["isolatedMarginPairsData"] = []
    markets = exchange.parse_markets(info["symbols"])
    exchange.set_markets(markets)
    index = SymbolIndex(
        Market(m["symbol"], m["id"], m["base"], m["quote"]) for m in markets if m["spot"]
    )
    klines = json.loads((DATA / "BTCUSDT-30m-klines-2019-04.json").read_text())
    klines_1000 = [list(row) for row in (klines * 2)[:1000]]
    for i, row in enumerate(klines_1000):
        row[0] = i * 1_800_000
        row[6] = row[0] + 1_799_999
    agg = [
        {
            "a": i,
            "p": "37000.10",
            "q": "0.0123",
            "f": i,
            "l": i,
            "T": 1_700_000_000_000 + i,
            "m": i % 3 == 0,
            "M": True,
        }
        for i in range(1000)
    ]
    market = exchange.market("BTC/USDT")
    rows = [
        ("normalize 'BTC/USDT' (exact hit)", best_us(lambda: index.resolve("BTC/USDT"), 200_000)),
        (
            "normalize ' btc-usdt ' (rewritten)",
            best_us(lambda: index.resolve(" btc-usdt "), 100_000),
        ),
        (
            "klines 1000 rows: ours (11 columns)",
            best_us(lambda: candles_from_binance(klines_1000, "BTC/USDT", "30m"), 50),
        ),
        (
            "klines 1000 rows: ccxt parse_ohlcvs (6 columns)",
            best_us(lambda: exchange.parse_ohlcvs(klines_1000, market, "30m"), 20),
        ),
        ("aggTrades 1000: ours", best_us(lambda: trades_from_binance(agg, "BTC/USDT"), 50)),
        (
            "aggTrades 1000: ccxt parse_trades",
            best_us(lambda: exchange.parse_trades(agg, market), 5),
        ),
    ]
    print(f"{len(index)} markets")
    for name, us in rows:
        print(f"{name:<50} {us:>12.1f} µs")


if __name__ == "__main__":
    main()
