"""The real ccxt binance client, through CcxtSource, against the emulator process.

One frozen emulator serves the module; each test resets its counters and faults.
Values are checked against the emulator's own raw answers and the recorded data.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from importlib import resources
from typing import Any

import httpx
import numpy as np
import pytest

from marketcache.emulator.control import AsyncEmulatorControl
from marketcache.emulator.process import EmulatorProcess
from marketcache.errors import (
    BadResponse,
    ExchangeUnavailable,
    RateLimited,
    UnknownSymbol,
    UpstreamTimeout,
)
from marketcache.models import Candles, Trades
from marketcache.sources.binance import ENDPOINTS as BINANCE_ENDPOINTS
from marketcache.sources.ccxt import CcxtSource

pytestmark = pytest.mark.timeout(90)

INTERVAL_MS = {"1m": 60_000, "5m": 300_000, "15m": 900_000, "1h": 3_600_000, "4h": 14_400_000}


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    with EmulatorProcess(frozen=True, seed=7) as process:
        yield process


@pytest.fixture
async def control(emulator: EmulatorProcess) -> AsyncIterator[AsyncEmulatorControl]:
    async with AsyncEmulatorControl(emulator.url) as control:
        await control.reset()
        yield control
        await control.reset()


@pytest.fixture
async def source(
    emulator: EmulatorProcess, control: AsyncEmulatorControl
) -> AsyncIterator[CcxtSource]:
    source = CcxtSource("binance", base_url=emulator.url, timeout_s=5.0)
    await source.load_markets()
    yield source
    await source.close()


async def raw(emulator: EmulatorProcess, path: str, **query: Any) -> Any:
    """The emulator's own answer, fetched without ccxt (counted by the emulator too)."""
    async with httpx.AsyncClient(base_url=emulator.url, timeout=5.0) as client:
        response = await client.get(path, params=query)
        response.raise_for_status()
        return response.json()


def real_30m_klines() -> list[list[Any]]:
    data = resources.files("marketcache.emulator") / "data" / "BTCUSDT-30m-klines-2019-04.json"
    rows: list[list[Any]] = json.loads(data.read_text())
    return rows


async def test_markets_load_315_spot_symbols_with_one_call(
    emulator: EmulatorProcess, control: AsyncEmulatorControl
) -> None:
    source = CcxtSource(base_url=emulator.url)
    try:
        markets = await source.load_markets()
        assert len(markets) == 315
        assert markets["ETH/USDT"].id == "ETHUSDT"
        assert all(m.quote == "USDT" for m in markets.values())
        assert source.source_name == "emulator"
        stats = await control.stats()
        assert stats["requests"] == {"/api/v3/exchangeInfo": 1}
        assert stats["weight"] == {"/api/v3/exchangeInfo": 20}
    finally:
        await source.close()


async def test_symbols_normalize_through_the_loaded_markets(source: CcxtSource) -> None:
    for raw_symbol in ("btcusdt", "BTC-USDT", "btc/usdt", "BTC_USDT", " BTC/USDT ", "BTCUSDT"):
        assert source.normalize_symbol(raw_symbol) == "BTC/USDT"
    with pytest.raises(UnknownSymbol) as caught:
        source.normalize_symbol("ETH/USDC")
    assert "ETH/USDT" in caught.value.suggestions


async def test_ticker_equals_the_raw_24hr_answer(
    source: CcxtSource, emulator: EmulatorProcess
) -> None:
    ticker = await source.fetch_ticker("eth-usdt")
    expected = await raw(emulator, "/api/v3/ticker/24hr", symbol="ETHUSDT")
    assert ticker.symbol == "ETH/USDT"
    assert ticker.timestamp == expected["closeTime"]
    assert ticker.last == float(expected["lastPrice"])
    assert ticker.bid == float(expected["bidPrice"])
    assert ticker.ask == float(expected["askPrice"])
    assert ticker.open == float(expected["openPrice"])
    assert ticker.high == float(expected["highPrice"])
    assert ticker.low == float(expected["lowPrice"])
    assert ticker.change == float(expected["priceChange"])
    assert ticker.change_percent == float(expected["priceChangePercent"])
    assert ticker.base_volume == float(expected["volume"])
    assert ticker.quote_volume == float(expected["quoteVolume"])
    assert ticker.bid is not None
    assert ticker.ask is not None
    assert ticker.bid <= ticker.ask
    assert ticker.low is not None
    assert ticker.high is not None
    assert ticker.low <= ticker.last <= ticker.high


@pytest.mark.parametrize(
    ("timeframe", "limit"),
    [("1m", 1), ("1m", 1000), ("5m", 50), ("15m", 200), ("1h", 24), ("4h", 500)],
)
async def test_candles_of_several_intervals_and_limits(
    source: CcxtSource, control: AsyncEmulatorControl, timeframe: str, limit: int
) -> None:
    candles = await source.fetch_ohlcv("SOL/USDT", timeframe, limit)
    now = (await control.info())["now"]
    length = INTERVAL_MS[timeframe]
    assert candles.table.shape == (limit, len(Candles.COLUMNS))
    assert np.isfinite(candles.table).all()
    assert (np.diff(candles.open_time) == length).all()
    assert (candles.close_time == candles.open_time + length - 1).all()
    assert candles.open_time[-1] == now // length * length  # the live candle is last
    assert (candles.high >= np.maximum(candles.open, candles.close)).all()
    assert (candles.low <= np.minimum(candles.open, candles.close)).all()
    assert (candles.taker_buy_volume <= candles.volume).all()
    assert (candles.column("trades") >= 0).all()


async def test_candles_equal_the_raw_klines(source: CcxtSource, emulator: EmulatorProcess) -> None:
    candles = await source.fetch_ohlcv("ETH/USDT", "15m", 100)
    rows = await raw(emulator, "/api/v3/klines", symbol="ETHUSDT", interval="15m", limit=100)
    expected = np.array([row[:11] for row in rows], dtype=np.float64)
    assert np.array_equal(candles.table, expected)


async def test_since_ms_starts_the_series(
    source: CcxtSource, control: AsyncEmulatorControl
) -> None:
    now = (await control.info())["now"]
    hour = 3_600_000
    since = (now // hour - 10) * hour
    candles = await source.fetch_ohlcv("BTC/USDT", "1h", 5, since_ms=since)
    assert candles.open_time.tolist() == [since + i * hour for i in range(5)]
    tail = await source.fetch_ohlcv("BTC/USDT", "1h", 1000, since_ms=since)
    assert len(tail) == 11  # up to and including the live hour


async def test_btcusdt_30m_is_the_recorded_series_shifted_to_now(
    source: CcxtSource, control: AsyncEmulatorControl
) -> None:
    real = np.array([row[:11] for row in real_30m_klines()], dtype=np.float64)
    candles = await source.fetch_ohlcv("BTC/USDT", "30m", 501)
    now = (await control.info())["now"]
    assert candles.open_time[-1] == now // 1_800_000 * 1_800_000  # the live candle is last
    recorded = candles.table[:-1]  # the recorded candles end with the last closed one
    assert recorded.shape == real.shape
    shift = recorded[-1, 0] - real[-1, 0]
    assert (recorded[:, 0] == real[:, 0] + shift).all()
    assert (recorded[:, 6] == real[:, 6] + shift).all()
    for column in (1, 2, 3, 4, 5, 7, 8, 9, 10):  # prices, volumes, trades, taker buy
        assert np.array_equal(recorded[:, column], real[:, column]), Candles.COLUMNS[column]


@pytest.mark.parametrize("limit", [1, 100, 1000])
async def test_trades_equal_the_raw_aggregate_trades(
    source: CcxtSource, emulator: EmulatorProcess, limit: int
) -> None:
    trades = await source.fetch_trades("BTC/USDT", limit)
    rows = await raw(emulator, "/api/v3/aggTrades", symbol="BTCUSDT", limit=limit)
    assert trades.table.shape == (limit, len(Trades.COLUMNS))
    assert trades.column("id").tolist() == [row["a"] for row in rows]
    assert trades.column("time").tolist() == [row["T"] for row in rows]
    assert trades.column("price").tolist() == [float(row["p"]) for row in rows]
    assert trades.column("amount").tolist() == [float(row["q"]) for row in rows]
    assert trades.column("is_buyer_maker").tolist() == [float(row["m"]) for row in rows]
    assert (np.diff(trades.column("id")) > 0).all()
    assert (np.diff(trades.column("time")) >= 0).all()
    assert (trades.column("price") > 0).all()
    assert (trades.column("amount") > 0).all()


async def test_429_is_rate_limited_with_retry_after(
    source: CcxtSource, control: AsyncEmulatorControl
) -> None:
    await control.set_faults("429", count=1, path="/api/v3/ticker/24hr", retry_after=3)
    with pytest.raises(RateLimited) as caught:
        await source.fetch_ticker("BTC/USDT")
    assert caught.value.retry_after == 3.0
    assert (await source.fetch_ticker("BTC/USDT")).last > 0  # the fault was for one request


async def test_418_is_rate_limited(source: CcxtSource, control: AsyncEmulatorControl) -> None:
    await control.set_faults("418", count=1, path="/api/v3/klines", retry_after=120)
    with pytest.raises(RateLimited) as caught:
        await source.fetch_ohlcv("BTC/USDT", "1m", 10)
    assert caught.value.retry_after == 120.0


@pytest.mark.parametrize("fault", ["500", "503"])
async def test_5xx_is_exchange_unavailable(
    source: CcxtSource, control: AsyncEmulatorControl, fault: str
) -> None:
    await control.set_faults(fault, count=1, path="/api/v3/aggTrades")
    with pytest.raises(ExchangeUnavailable):
        await source.fetch_trades("BTC/USDT", 10)


async def test_hang_is_an_upstream_timeout(
    emulator: EmulatorProcess, control: AsyncEmulatorControl
) -> None:
    source = CcxtSource(base_url=emulator.url, timeout_s=0.3)
    try:
        await source.load_markets()
        await control.set_faults("hang", count=1, path="/api/v3/klines")
        with pytest.raises(UpstreamTimeout):
            await source.fetch_ohlcv("BTC/USDT", "1m", 10)
        assert len(await source.fetch_ohlcv("BTC/USDT", "1m", 10)) == 10
    finally:
        await source.close()


MALFORMED_CALLS: dict[str, Callable[[CcxtSource], Awaitable[object]]] = {
    "/api/v3/klines": lambda source: source.fetch_ohlcv("BTC/USDT", "5m", 300),
    "/api/v3/ticker/24hr": lambda source: source.fetch_ticker("BTC/USDT"),
    "/api/v3/aggTrades": lambda source: source.fetch_trades("BTC/USDT", 300),
}


@pytest.mark.parametrize("path", sorted(MALFORMED_CALLS))
async def test_malformed_answer_is_a_bad_response(
    source: CcxtSource, control: AsyncEmulatorControl, path: str
) -> None:
    await control.set_faults("malformed", count=1, path=path)
    with pytest.raises(BadResponse):
        await MALFORMED_CALLS[path](source)
    assert source.stats.total_errors == 1


async def test_malformed_server_time_makes_ping_false(
    source: CcxtSource, control: AsyncEmulatorControl
) -> None:
    await control.set_faults("malformed", count=1, path="/api/v3/time")
    assert await source.ping() is False
    assert source.stats.operations["ping"].errors == 1
    assert await source.ping() is True


async def test_malformed_exchange_info_is_a_bad_response_then_markets_load(
    emulator: EmulatorProcess, control: AsyncEmulatorControl
) -> None:
    source = CcxtSource(base_url=emulator.url)
    try:
        await control.set_faults("malformed", count=1, path="/api/v3/exchangeInfo")
        with pytest.raises(BadResponse):
            await source.load_markets()
        assert len(await source.load_markets()) == 315
    finally:
        await source.close()


async def test_ping(source: CcxtSource) -> None:
    assert await source.ping() is True


async def test_our_counters_match_the_emulators(
    source: CcxtSource, control: AsyncEmulatorControl
) -> None:
    await control.reset()  # forget the markets load of the fixture
    source.stats.operations.clear()
    await source.fetch_ticker("BTC/USDT")
    await source.fetch_ticker("ETH/USDT")
    for timeframe in ("1m", "1h", "1d"):
        await source.fetch_ohlcv("BTC/USDT", timeframe, 100)
    await source.fetch_trades("BNB/USDT", 500)
    await source.ping()
    await control.set_faults("503", count=1, path="/api/v3/klines")
    with pytest.raises(ExchangeUnavailable):
        await source.fetch_ohlcv("BTC/USDT", "1m", 10)
    with pytest.raises(UnknownSymbol):  # never sent
        await source.fetch_ohlcv("NOPE/USDT", "1m", 10)

    stats = await control.stats()
    ours_requests = {
        BINANCE_ENDPOINTS[op][0]: count.calls for op, count in source.stats.operations.items()
    }
    ours_weight = {
        BINANCE_ENDPOINTS[op][0]: count.weight for op, count in source.stats.operations.items()
    }
    assert (
        ours_requests
        == stats["requests"]
        == {
            "/api/v3/ticker/24hr": 2,
            "/api/v3/klines": 4,
            "/api/v3/aggTrades": 1,
            "/api/v3/time": 1,
        }
    )
    assert ours_weight == stats["weight"]
    assert source.stats.total_weight == stats["total_weight"] == 2 * 2 + 4 * 2 + 2 + 1
    assert source.stats.total_errors == 1
