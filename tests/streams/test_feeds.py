"""Stream messages into raw entries: the ticker moved by trades, candles spliced on."""

from __future__ import annotations

import numpy as np

from marketcache.candle_pages import KLINES_LIMIT
from marketcache.models import Candles, Ticker, is_streamed
from marketcache.sources.streaming import TickerUpdate, TradeUpdate
from marketcache.streams.feeds import Target, TickerFeed, splice

MINUTE = 60_000


def ticker(**changes: object) -> Ticker:
    fields: dict[str, object] = {
        "symbol": "BTC/USDT",
        "timestamp": 1_000,
        "last": 100.0,
        "bid": 99.5,
        "ask": 100.5,
        "open": 90.0,
        "high": 110.0,
        "low": 80.0,
        "change": 10.0,
        "change_percent": 11.11,
        "base_volume": 5.0,
        "quote_volume": 500.0,
    }
    fields.update(changes)
    return Ticker(**fields)  # type: ignore[arg-type]


def candles(opens: list[int], close: float = 1.0) -> Candles:
    rows = [[t, close, close, close, close, 1.0, t + MINUTE - 1, 1.0, 1.0, 0.5, 0.5] for t in opens]
    return Candles.from_rows("BTC/USDT", "1m", rows)


def test_targets_are_read_off_raw_keys() -> None:
    assert Target.of("ticker:binance:BTC/USDT") == Target(
        "ticker:binance:BTC/USDT", "ticker", "BTC/USDT"
    )
    ohlcv = Target.of("ohlcv:binance:ETH/USDT:15m")
    assert ohlcv is not None
    assert (ohlcv.kind, ohlcv.symbol, ohlcv.timeframe, ohlcv.name) == (
        "ohlcv",
        "ETH/USDT",
        "15m",
        "ohlcv ETH/USDT 15m",
    )
    assert Target.of("trades:binance:BTC/USDT") is None
    assert Target.of("answer:price:binance:BTC/USDT") is None


def test_a_trade_moves_the_tickers_price_high_low_and_change() -> None:
    feed = TickerFeed("BTC/USDT")
    assert feed.on_trade(TradeUpdate(120.0, 900, 1_000)) is None  # no ticker yet
    first = feed.on_ticker(TickerUpdate(ticker(), 2_000))
    assert first is not None
    assert first.streamed
    assert first.timestamp == 2_000
    moved = feed.on_trade(TradeUpdate(120.0, 2_400, 2_450))
    assert moved is not None
    assert (moved.last, moved.high, moved.low, moved.timestamp) == (120.0, 120.0, 80.0, 2_450)
    assert moved.change == 30.0
    assert moved.change_percent is not None
    assert abs(moved.change_percent - 100 / 3) < 1e-9
    assert (moved.bid, moved.base_volume) == (99.5, 5.0)  # the ticker message's until the next
    assert feed.on_trade(TradeUpdate(1.0, 2_000, 2_100)) is None  # older than what we have
    assert is_streamed(moved.to_bytes())
    assert not is_streamed(ticker().to_bytes())
    assert Ticker.from_bytes(moved.to_bytes()) == moved


def test_the_live_candle_replaces_its_row_and_a_new_one_is_appended() -> None:
    held = candles([0, MINUTE, 2 * MINUTE])
    live = candles([2 * MINUTE], close=7.0).table
    spliced = splice(held, live, "1m")
    assert spliced is not None
    assert spliced.streamed
    assert spliced.open_time.tolist() == [0, MINUTE, 2 * MINUTE]
    assert spliced.close.tolist() == [1.0, 1.0, 7.0]
    rows = candles([2 * MINUTE, 3 * MINUTE], close=8.0).table  # closed, then the next live one
    after = splice(spliced, rows, "1m")
    assert after is not None
    assert after.open_time.tolist() == [0, MINUTE, 2 * MINUTE, 3 * MINUTE]
    assert is_streamed(after.to_bytes())
    assert Candles.from_bytes(after.to_bytes()).streamed
    assert not Candles.from_bytes(held.to_bytes()).streamed


def test_a_gap_asks_for_the_history_instead_of_inventing_candles() -> None:
    held = candles([0, MINUTE])
    assert splice(held, candles([3 * MINUTE]).table, "1m") is None
    assert splice(candles([]), candles([0]).table, "1m") is None


def test_the_series_keeps_as_many_candles_as_a_rest_load() -> None:
    held = candles([i * MINUTE for i in range(KLINES_LIMIT)])
    spliced = splice(held, candles([KLINES_LIMIT * MINUTE]).table, "1m")
    assert spliced is not None
    assert len(spliced) == KLINES_LIMIT
    assert spliced.open_time[0] == MINUTE
    assert np.all(np.diff(spliced.open_time) == MINUTE)
