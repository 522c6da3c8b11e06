"""Unmodified ccxt binance against the emulator running as `marketcache emulator`."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import ccxt.async_support as ccxt
import pytest

from marketcache.emulator.control import AsyncEmulatorControl, EmulatorControl
from marketcache.emulator.data import real_klines
from marketcache.emulator.process import EmulatorProcess

from .conftest import START_MS, make_binance

pytestmark = pytest.mark.e2e


@pytest.fixture
async def binance(emulator: EmulatorProcess) -> AsyncIterator[Any]:
    EmulatorControl(emulator.url).reset()
    exchange: Any = make_binance(emulator.url, timeout=5000)
    try:
        yield exchange
    finally:
        await exchange.close()


async def test_markets_load_with_every_symbol(binance: Any, emulator: EmulatorProcess) -> None:
    markets = await binance.load_markets()
    assert len(markets) == 315
    btc = markets["BTC/USDT"]
    assert btc["spot"]
    assert btc["id"] == "BTCUSDT"
    assert btc["precision"]["price"] == 0.01
    stats = EmulatorControl(emulator.url).stats()
    assert stats["requests"] == {"/api/v3/exchangeInfo": 1}
    assert stats["weight"] == {"/api/v3/exchangeInfo": 20}


async def test_ticker(binance: Any) -> None:
    ticker = await binance.fetch_ticker("ETH/USDT")
    assert ticker["symbol"] == "ETH/USDT"
    assert ticker["timestamp"] == START_MS
    assert ticker["low"] <= ticker["last"] <= ticker["high"]
    assert ticker["bid"] < ticker["ask"]
    assert ticker["baseVolume"] > 0
    candles = await binance.fetch_ohlcv("ETH/USDT", "30m", limit=48)
    assert ticker["last"] == candles[-1][4]  # the live candle closes at the last trade
    first = await binance.fetch_trades("ETH/USDT", since=START_MS - 86_400_000, limit=1)
    assert ticker["open"] == first[0]["price"]  # the first trade of the rolling day


@pytest.mark.parametrize(
    ("timeframe", "limit"), [("1m", 5), ("15m", 500), ("4h", 1000), ("1d", 30), ("1M", 12)]
)
async def test_ohlcv_shapes(binance: Any, timeframe: str, limit: int) -> None:
    candles = await binance.fetch_ohlcv("SOL/USDT", timeframe, limit=limit)
    assert len(candles) == limit
    duration = binance.parse_timeframe(timeframe) * 1000
    assert candles[-1][0] <= START_MS
    for ts, o, h, low, c, v in candles:
        assert h >= max(o, c)
        assert low <= min(o, c)
        assert v >= 0
        assert isinstance(ts, int)
    if timeframe != "1M":
        assert all(b[0] - a[0] == duration for a, b in itertools.pairwise(candles))


async def test_ohlcv_since_pages_consistently(binance: Any) -> None:
    latest = await binance.fetch_ohlcv("ADA/USDT", "5m", limit=100)
    since = latest[10][0]
    paged = await binance.fetch_ohlcv("ADA/USDT", "5m", since=since, limit=20)
    assert paged == latest[10:30]


async def test_real_btcusdt_30m_values(binance: Any) -> None:
    candles = (await binance.fetch_ohlcv("BTC/USDT", "30m", limit=501))[:-1]
    real = real_klines()
    shift = candles[-1][0] - real[-1][0]
    assert shift % (30 * 60_000) == 0
    for mine, theirs in zip(candles, real, strict=True):
        assert mine[0] == theirs[0] + shift
        assert mine[1:] == [float(x) for x in theirs[1:6]]


async def test_trades_carry_side_and_sum_to_the_minute(binance: Any) -> None:
    trades = await binance.fetch_trades("ETH/USDT", limit=50)
    assert len(trades) == 50
    assert all(t["side"] in {"buy", "sell"} and t["amount"] > 0 for t in trades)
    assert all(t["timestamp"] <= START_MS for t in trades)
    minute_open = START_MS - 5 * 60_000
    minute = await binance.fetch_trades(
        "ETH/USDT", since=minute_open, limit=1000, params={"until": minute_open + 59_999}
    )
    (candle,) = await binance.fetch_ohlcv("ETH/USDT", "1m", since=minute_open, limit=1)
    raw = await binance.publicGetKlines(
        {"symbol": "ETHUSDT", "interval": "1m", "startTime": minute_open, "limit": 1}
    )
    volume = sum(t["amount"] for t in minute)
    bought = sum(t["amount"] for t in minute if t["side"] == "buy")
    assert volume == pytest.approx(candle[5], rel=1e-9)
    assert bought == pytest.approx(float(raw[0][9]), rel=1e-9)
    assert max(t["price"] for t in minute) == candle[2]
    assert min(t["price"] for t in minute) == candle[3]


async def test_order_book_time_and_implicit_klines(binance: Any) -> None:
    book = await binance.fetch_order_book("ETH/USDT", 10)
    assert len(book["bids"]) == 10
    assert book["bids"][0][0] < book["asks"][0][0]
    assert await binance.fetch_time() == START_MS
    raw = await binance.publicGetKlines({"symbol": "BTCUSDT", "interval": "1h", "limit": 3})
    assert len(raw) == 3
    assert len(raw[0]) == 12


async def test_stats_match_the_calls_made(binance: Any, emulator: EmulatorProcess) -> None:
    await binance.load_markets()
    await binance.fetch_ticker("BTC/USDT")
    await binance.fetch_ohlcv("BTC/USDT", "1h", limit=10)
    await binance.fetch_ohlcv("ETH/USDT", "1m", limit=10)
    await binance.fetch_trades("BTC/USDT", limit=10)
    await binance.fetch_order_book("BTC/USDT", 100)
    async with AsyncEmulatorControl(emulator.url) as control:
        stats = await control.stats()
    assert stats["requests"] == {
        "/api/v3/exchangeInfo": 1,
        "/api/v3/ticker/24hr": 1,
        "/api/v3/klines": 2,
        "/api/v3/aggTrades": 1,
        "/api/v3/depth": 1,
    }
    assert stats["total_weight"] == 20 + 2 + 4 + 2 + 5


async def test_unknown_symbol_surfaces_as_bad_symbol(binance: Any) -> None:
    with pytest.raises(ccxt.BadSymbol):
        await binance.publicGetKlines({"symbol": "NOPEUSDT", "interval": "1m"})
    with pytest.raises(ccxt.BadRequest):
        await binance.publicGetKlines({"symbol": "BTCUSDT", "interval": "2m"})


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("429", ccxt.DDoSProtection),
        ("418", ccxt.DDoSProtection),
        ("500", ccxt.ExchangeNotAvailable),
        ("503", ccxt.ExchangeNotAvailable),
    ],
)
async def test_faults_reach_ccxt_as_its_errors(
    binance: Any, emulator: EmulatorProcess, fault: str, error: type[Exception]
) -> None:
    await binance.load_markets()
    EmulatorControl(emulator.url).set_faults(fault, count=1, path="/api/v3/klines")
    with pytest.raises(error):
        await binance.fetch_ohlcv("BTC/USDT", "1m", limit=5)
    assert len(await binance.fetch_ohlcv("BTC/USDT", "1m", limit=5)) == 5


async def test_malformed_body_reaches_ccxt_unparsed(
    binance: Any, emulator: EmulatorProcess
) -> None:
    # ccxt does not raise on a truncated 200: its implicit methods hand back the raw text
    # (and unified methods parse it into None-filled rows), so callers must check shapes.
    EmulatorControl(emulator.url).set_faults("malformed", count=1, path="/api/v3/klines")
    raw = await binance.publicGetKlines({"symbol": "BTCUSDT", "interval": "1m", "limit": 3})
    assert isinstance(raw, str)
    assert raw.startswith("[[")
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)


async def test_hang_becomes_a_ccxt_timeout(emulator: EmulatorProcess) -> None:
    exchange: Any = make_binance(emulator.url, timeout=300)
    try:
        EmulatorControl(emulator.url).reset()
        EmulatorControl(emulator.url).set_faults("hang", count=1, path="/api/v3/time")
        with pytest.raises(ccxt.RequestTimeout):
            await exchange.fetch_time()
        assert await exchange.fetch_time() == START_MS
    finally:
        await exchange.close()


async def test_bids_asks_status_and_the_weight_limit(binance: Any) -> None:
    await binance.load_markets()
    tops = await binance.fetch_bids_asks(["ETH/USDT", "BTC/USDT"])
    book = await binance.fetch_order_book("ETH/USDT", 5)
    assert tops["ETH/USDT"]["bid"] == book["bids"][0][0]
    assert tops["ETH/USDT"]["ask"] == book["asks"][0][0]
    assert (await binance.fetch_status())["status"] == "ok"
    info = await binance.publicGetExchangeInfo()
    weight = next(r for r in info["rateLimits"] if r["rateLimitType"] == "REQUEST_WEIGHT")
    assert int(weight["limit"]) == 6000  # what the emulator enforces


async def test_trade_ids_lie_inside_the_tickers_range(binance: Any) -> None:
    ticker = await binance.fetch_ticker("ETH/USDT")
    raw = await binance.publicGetTrades({"symbol": "ETHUSDT", "limit": 50})
    info = ticker["info"]
    ids = [int(t["id"]) for t in raw]
    assert ids == sorted(ids)
    assert int(info["firstId"]) <= ids[0]
    assert ids[-1] == int(info["lastId"])
