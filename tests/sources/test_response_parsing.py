"""What the exchange returns is checked before it becomes our models."""

from __future__ import annotations

import json
import math
from importlib import resources
from typing import Any

import numpy as np
import pytest

from marketcache.errors import BadResponse
from marketcache.models import Candles, Trades
from marketcache.sources.parse import (
    candles_from_binance,
    candles_from_ohlcv,
    ticker_from_unified,
    trades_from_binance,
    trades_from_unified,
)


def real_klines() -> list[list[Any]]:
    data = resources.files("marketcache.emulator") / "data" / "BTCUSDT-30m-klines-2019-04.json"
    rows: list[list[Any]] = json.loads(data.read_text())
    return rows


def test_real_binance_klines_keep_all_eleven_columns() -> None:
    rows = real_klines()
    candles = candles_from_binance(rows, "BTC/USDT", "30m")
    assert candles.table.shape == (500, len(Candles.COLUMNS))
    first = rows[0]
    assert candles.open_time[0] == first[0]
    assert candles.close[0] == float(first[4])
    assert candles.column("trades")[0] == first[8]
    assert candles.taker_buy_volume[0] == float(first[9])
    assert candles.column("taker_buy_quote_volume")[-1] == float(rows[-1][10])


def test_empty_klines_are_an_empty_series() -> None:
    assert len(candles_from_binance([], "BTC/USDT", "1m")) == 0


@pytest.mark.parametrize(
    "mutate",
    [
        lambda rows: rows.__setitem__(3, [None] * 12),  # a row of None
        lambda rows: rows[3].__setitem__(4, None),  # one missing close
        lambda rows: rows[3].__setitem__(2, "abc"),  # not a number
        lambda rows: rows[3].__setitem__(5, "nan"),  # not finite
        lambda rows: rows.__setitem__(3, rows[3][:6]),  # truncated row
        lambda rows: rows.__setitem__(3, rows[2]),  # open times not increasing
        lambda rows: rows.__setitem__(3, {"open": 1}),  # not a row at all
        lambda rows: rows[3].__setitem__(6, rows[3][0] - 1),  # closes before it opens
    ],
    ids=["row-of-none", "none-field", "text", "nan", "truncated", "order", "object", "close"],
)
def test_broken_klines_are_a_bad_response(mutate: Any) -> None:
    rows = real_klines()[:10]
    mutate(rows)
    with pytest.raises(BadResponse):
        candles_from_binance(rows, "BTC/USDT", "30m")


@pytest.mark.parametrize("body", ['[[1554991200000, "4986.2', None, {"code": -1}, 42])
def test_a_body_that_is_not_a_list_is_a_bad_response(body: Any) -> None:
    with pytest.raises(BadResponse):
        candles_from_binance(body, "BTC/USDT", "30m")


def test_unified_ohlcv_gets_nan_for_columns_it_lacks() -> None:
    rows = [[60_000, 1.0, 2.0, 0.5, 1.5, 10.0], [120_000, 1.5, 2.5, 1.0, 2.0, 20.0]]
    candles = candles_from_ohlcv(rows, "BTC/USD", "1m", 60_000)
    assert candles.close_time.tolist() == [119_999, 179_999]
    assert np.isnan(candles.taker_buy_volume).all()
    assert np.isnan(candles.column("trades")).all()
    assert candles.volume.tolist() == [10.0, 20.0]


def test_unified_ohlcv_with_none_is_a_bad_response() -> None:
    with pytest.raises(BadResponse):
        candles_from_ohlcv([[60_000, 1.0, None, 0.5, 1.5, 10.0]], "BTC/USD", "1m", 60_000)


AGG = [
    {
        "a": 26129,
        "p": "0.01633102",
        "q": "4.70443515",
        "f": 1,
        "l": 1,
        "T": 1498793709153,
        "m": True,
    },
    {
        "a": 26130,
        "p": "0.01633200",
        "q": "1.00000000",
        "f": 2,
        "l": 3,
        "T": 1498793709153,
        "m": False,
    },
]


def test_binance_aggregate_trades() -> None:
    trades = trades_from_binance(AGG, "ETH/BTC")
    assert trades.table.shape == (2, len(Trades.COLUMNS))
    assert trades.column("id").tolist() == [26129, 26130]
    assert trades.column("price")[0] == 0.01633102
    assert trades.column("is_buyer_maker").tolist() == [1.0, 0.0]


@pytest.mark.parametrize(
    "broken",
    [
        [{**AGG[0], "p": None}],
        [{**AGG[0], "m": None}],
        [{k: v for k, v in AGG[0].items() if k != "T"}],
        [None],
        [AGG[1], {**AGG[0], "T": AGG[1]["T"] - 1}],
        "garbage",
    ],
    ids=["none-price", "none-flag", "no-time", "none-row", "order", "text"],
)
def test_broken_binance_trades_are_a_bad_response(broken: Any) -> None:
    with pytest.raises(BadResponse):
        trades_from_binance(broken, "ETH/BTC")


def unified_trade(**changes: Any) -> dict[str, Any]:
    trade = {
        "id": "12",
        "timestamp": 1_700_000_000_000,
        "price": 10.0,
        "amount": 2.0,
        "side": "sell",
    }
    trade.update(changes)
    return trade


def test_unified_trades_sell_means_buyer_is_maker() -> None:
    trades = trades_from_unified(
        [unified_trade(), unified_trade(id="abc-uuid", side="buy")], "BTC/USD"
    )
    assert trades.column("is_buyer_maker").tolist() == [1.0, 0.0]
    assert trades.column("id")[0] == 12.0
    assert math.isnan(trades.column("id")[1])


@pytest.mark.parametrize(
    "changes", [{"price": None}, {"timestamp": None}, {"side": None}, {"amount": math.inf}]
)
def test_broken_unified_trades_are_a_bad_response(changes: dict[str, Any]) -> None:
    with pytest.raises(BadResponse):
        trades_from_unified([unified_trade(**changes)], "BTC/USD")


TICKER = {
    "symbol": "BTC/USDT",
    "timestamp": 1_700_000_000_000,
    "last": 37000.5,
    "bid": 37000.0,
    "ask": 37001.0,
    "open": 36000.0,
    "high": 37500.0,
    "low": 35900.0,
    "change": 1000.5,
    "percentage": 2.779,
    "baseVolume": 1234.5,
    "quoteVolume": 45_000_000.0,
}


def test_unified_ticker() -> None:
    ticker = ticker_from_unified(TICKER, "BTC/USDT")
    assert ticker.last == 37000.5
    assert ticker.change_percent == 2.779
    assert ticker.quote_volume == 45_000_000.0
    assert ticker.timestamp == 1_700_000_000_000


def test_ticker_optional_fields_may_be_missing() -> None:
    ticker = ticker_from_unified({**TICKER, "bid": None, "ask": None}, "BTC/USDT")
    assert ticker.bid is None


@pytest.mark.parametrize(
    "changes",
    [
        {"last": None},
        {"timestamp": None},
        {"high": math.nan},
        {"bid": "37000"},
        {"timestamp": True},
    ],
)
def test_broken_ticker_is_a_bad_response(changes: dict[str, Any]) -> None:
    with pytest.raises(BadResponse):
        ticker_from_unified({**TICKER, **changes}, "BTC/USDT")


def test_ticker_that_is_not_an_object_is_a_bad_response() -> None:
    with pytest.raises(BadResponse):
        ticker_from_unified("<html>502</html>", "BTC/USDT")
