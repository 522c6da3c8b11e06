"""Fixtures of the analytics tests: the real BTCUSDT 30m klines and small builders."""

from __future__ import annotations

from importlib import resources

import numpy as np
import orjson
import pytest

from marketcache.models import Candles

KLINES = "BTCUSDT-30m-klines-2019-04.json"
MINUTE_MS = 60_000


def load_btc_klines() -> Candles:
    """The 500 recorded Binance klines as Candles (the 12th column, `ignore`, dropped)."""
    data = resources.files("marketcache").joinpath("emulator", "data", KLINES).read_bytes()
    rows = [[float(value) for value in row[:11]] for row in orjson.loads(data)]
    return Candles.from_rows("BTC/USDT", "30m", rows)


@pytest.fixture(scope="session")
def btc_candles() -> Candles:
    """Real BTCUSDT 30m candles, 2019-04-11 to 2019-04-21, all closed."""
    return load_btc_klines()


def make_candles(
    close: list[float] | np.ndarray,
    volume: list[float] | np.ndarray | None = None,
    taker_buy: list[float] | np.ndarray | None = None,
    spread: float = 0.01,
    minutes: int = 1,
) -> Candles:
    """Candles from closes: open is the previous close, high/low `spread` around them."""
    close = np.asarray(close, dtype=np.float64)
    count = len(close)
    volume = np.ones(count) if volume is None else np.asarray(volume, dtype=np.float64)
    taker_buy = volume / 2 if taker_buy is None else np.asarray(taker_buy, dtype=np.float64)
    open_ = np.concatenate((close[:1], close[:-1]))
    high = np.maximum(open_, close) * (1 + spread)
    low = np.minimum(open_, close) * (1 - spread)
    open_time = np.arange(count, dtype=np.float64) * minutes * MINUTE_MS
    close_time = open_time + minutes * MINUTE_MS - 1
    table = np.column_stack(
        (
            open_time,
            open_,
            high,
            low,
            close,
            volume,
            close_time,
            volume * close,
            np.ones(count),
            taker_buy,
            taker_buy * close,
        )
    )
    return Candles("TEST/USDT", f"{minutes}m", table)
