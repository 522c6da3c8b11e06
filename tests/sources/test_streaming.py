"""`CcxtStreams` at its boundary: ccxt.pro's errors translated, Binance's messages read as
REST reads its answers (bid and ask of the 24 h ticker, all columns of a kline), the
stream limits passed to ccxt.pro, and the pacing of what we send."""

from __future__ import annotations

import asyncio
from typing import Any

import ccxt
import pytest

from marketcache.clock import ManualClock
from marketcache.errors import BadResponse, ExchangeUnavailable, RateLimited
from marketcache.sources.binance import Binance, kline_row
from marketcache.sources.streaming import CcxtStreams, Pacer, StreamLimits

KLINE = {
    "t": 60_000,
    "T": 119_999,
    "s": "BTCUSDT",
    "i": "1m",
    "o": "1.5",
    "c": "2.5",
    "h": "3.0",
    "l": "1.0",
    "v": "10",
    "n": 7,
    "x": False,
    "q": "20",
    "V": "4",
    "Q": "8",
}


def client(**limits: Any) -> CcxtStreams:
    return CcxtStreams("binance", ManualClock(), limits=StreamLimits(**limits))


async def test_ccxt_errors_are_translated_where_they_enter() -> None:
    streams = client()

    async def closed(*_: Any) -> Any:
        raise ccxt.NetworkError("binance Connection closed by remote server, closing code 1006")

    async def throttled(*_: Any) -> Any:
        raise ccxt.RateLimitExceeded("binance too many requests")

    streams._exchange.watch_ticker = closed
    with pytest.raises(ExchangeUnavailable):
        await streams.ticker("BTC/USDT")
    streams._exchange.watch_trades = throttled
    with pytest.raises(RateLimited):
        await streams.trades("BTC/USDT")
    await streams.close()


async def test_an_empty_or_malformed_batch_is_a_bad_response() -> None:
    streams = client()

    async def empty(*_: Any) -> Any:
        return []

    async def priceless(*_: Any) -> Any:
        return [{"price": None, "timestamp": 5}]

    streams._exchange.watch_trades = empty
    with pytest.raises(BadResponse):
        await streams.trades("BTC/USDT")
    streams._exchange.watch_trades = priceless
    with pytest.raises(BadResponse):
        await streams.trades("BTC/USDT")
    await streams.close()


def test_the_stream_limits_reach_ccxt_pro() -> None:
    streams = client(connections=3, per_connection=100)
    options = streams._exchange.options
    assert options["streamLimits"]["spot"] == 3
    assert options["subscriptionLimitByStream"]["spot"] == 100
    assert options["watchTickers"]["name"] == "ticker"


def test_a_24h_ticker_message_keeps_bid_and_ask() -> None:
    unified = {
        "timestamp": 1_000,
        "last": 10.0,
        "bid": None,
        "ask": None,
        "open": 9.0,
        "high": 11.0,
        "low": 8.0,
        "change": 1.0,
        "percentage": 11.1,
        "baseVolume": 5.0,
        "quoteVolume": 50.0,
        "info": {"e": "24hrTicker", "b": "9.9", "a": "10.1", "E": 1_001},
    }
    ticker = Binance().stream_ticker(unified, "BTC/USDT")
    assert (ticker.bid, ticker.ask, ticker.last) == (9.9, 10.1, 10.0)
    mini = Binance().stream_ticker({**unified, "info": {"e": "24hrMiniTicker"}}, "BTC/USDT")
    assert mini.bid is None


def test_a_kline_message_has_every_column_rest_klines_have() -> None:
    assert kline_row(KLINE) == [60_000, 1.5, 3.0, 1.0, 2.5, 10.0, 119_999, 20.0, 7.0, 4.0, 8.0]
    with pytest.raises(BadResponse):
        kline_row({"t": 1})


async def test_kline_messages_of_one_candle_keep_the_last() -> None:
    streams = client()
    later = {**KLINE, "c": "2.75"}
    streams._kline("BTC/USDT", "1m", KLINE, 100_000)
    streams._kline("BTC/USDT", "1m", later, 101_000)
    streams._kline("BTC/USDT", "1m", {**KLINE, "t": 120_000, "T": 179_999}, 121_000)

    async def watched(*_: Any) -> Any:
        return [[60_000, 1.5, 3.0, 1.0, 2.75, 10.0]]

    streams._exchange.watch_ohlcv = watched
    update = await streams.candles("BTC/USDT", "1m", 60_000)
    assert update.rows[:, 0].tolist() == [60_000, 120_000]
    assert update.rows[0, 4] == 2.75
    assert (update.at_ms, update.count) == (121_000, 3)
    await streams.close()


async def test_sends_are_paced_to_the_limit_per_second() -> None:
    clock = ManualClock()
    pacer = Pacer(clock, StreamLimits(sent_per_s=2, connects_per_window=1000))
    await pacer.send()
    await pacer.send()
    started = clock.now()
    third = asyncio.ensure_future(pacer.send())
    await asyncio.sleep(0)
    assert not third.done()
    await clock.advance(1.0)
    await third
    assert clock.now() - started >= 1.0
