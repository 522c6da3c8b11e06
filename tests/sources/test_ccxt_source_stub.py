"""CcxtSource driving the real ccxt binance client against a scripted local stub."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np
import pytest

from marketcache.config import Settings
from marketcache.errors import (
    BadResponse,
    ExchangeUnavailable,
    InvalidParameter,
    RateLimited,
    UnknownSymbol,
    UnsupportedTimeframe,
    UpstreamTimeout,
)
from marketcache.sources.ccxt import CcxtSource, check_exchange_id, exchange_config
from marketcache.sources.errors import RegionRefused
from tests.sources.binance_stub import AGG_TRADES, KLINES, Scripted, StubExchange


@pytest.fixture
async def source(stub: StubExchange) -> AsyncIterator[CcxtSource]:
    source = CcxtSource("binance", base_url=stub.url, timeout_s=2.0)
    yield source
    await source.close()


def test_binance_config_is_spot_only_with_the_rate_limiter_on() -> None:
    config = exchange_config("binance", 2.5)
    assert config["enableRateLimit"] is True
    assert config["timeout"] == 2500
    assert config["options"]["fetchMarkets"] == {"types": ["spot"]}
    assert config["options"]["fetchCurrencies"] is False
    assert config["options"]["fetchMargins"] is False


async def test_every_rest_url_points_at_the_base_url(stub: StubExchange) -> None:
    source = CcxtSource(base_url=stub.url)
    try:
        urls = source.api_urls
        assert urls["public"] == f"{stub.url}/api/v3"
        assert urls["sapi"] == f"{stub.url}/sapi/v1"
        assert all(url.startswith(stub.url) for url in urls.values())
    finally:
        await source.close()


async def test_from_settings(stub: StubExchange) -> None:
    settings = Settings(exchange="binance", exchange_url=stub.url, exchange_timeout_s=3.0)
    source = CcxtSource.from_settings(settings)
    try:
        assert source.exchange_id == "binance"
        assert source.api_urls["public"] == f"{stub.url}/api/v3"
        assert source._exchange.timeout == 3000
    finally:
        await source.close()


def test_an_unknown_exchange_id_is_rejected() -> None:
    with pytest.raises(InvalidParameter):
        CcxtSource("no-such-exchange")


def test_an_unknown_exchange_id_names_the_close_ones() -> None:
    with pytest.raises(InvalidParameter) as caught:
        check_exchange_id("binanse")
    assert "'binanse' is not one of ccxt's" in caught.value.message
    assert "close ones: binance, binanceus" in caught.value.message
    with pytest.raises(InvalidParameter) as far:
        check_exchange_id("zzzzq")
    assert "none is close" in far.value.message
    assert check_exchange_id("kraken") == "kraken"


async def test_markets_load_once_with_one_exchange_info_call_and_nothing_else(
    source: CcxtSource, stub: StubExchange
) -> None:
    markets = await source.load_markets()
    again = await source.load_markets()
    assert len(markets) == 315
    assert again is markets
    assert stub.requests == ["/api/v3/exchangeInfo"]
    assert markets["BTC/USDT"].id == "BTCUSDT"
    counted = source.stats.operations["markets"]
    assert (counted.calls, counted.weight, counted.errors) == (1, 20, 0)


async def test_source_name_is_the_exchange_id_for_an_unmarked_exchange(
    source: CcxtSource,
) -> None:
    await source.load_markets()
    assert source.source_name == "binance"


async def test_source_name_is_emulator_when_answers_are_marked(
    emulator_like_stub: StubExchange,
) -> None:
    source = CcxtSource(base_url=emulator_like_stub.url)
    try:
        assert source.source_name == "binance"
        await source.load_markets()
        assert source.source_name == "emulator"
    finally:
        await source.close()


async def test_normalize_before_markets_load_is_unavailable(source: CcxtSource) -> None:
    with pytest.raises(ExchangeUnavailable):
        source.normalize_symbol("btcusdt")


async def test_unknown_symbol_never_reaches_the_exchange(
    source: CcxtSource, stub: StubExchange
) -> None:
    await source.load_markets()
    with pytest.raises(UnknownSymbol) as caught:
        await source.fetch_ticker("BTC/USDX")
    assert "BTC/USDT" in caught.value.suggestions
    with pytest.raises(UnknownSymbol):
        await source.fetch_ohlcv("NOPE", "1m", 10)
    assert stub.requests == ["/api/v3/exchangeInfo"]


async def test_bad_timeframe_and_limit_never_reach_the_exchange(
    source: CcxtSource, stub: StubExchange
) -> None:
    await source.load_markets()
    with pytest.raises(UnsupportedTimeframe) as caught:
        await source.fetch_ohlcv("BTC/USDT", "7m", 10)
    assert "1m" in caught.value.allowed
    for limit in (0, 1001, True):
        with pytest.raises(InvalidParameter):
            await source.fetch_ohlcv("BTC/USDT", "1m", limit)
        with pytest.raises(InvalidParameter):
            await source.fetch_trades("BTC/USDT", limit)
    with pytest.raises(InvalidParameter):
        await source.fetch_ohlcv("BTC/USDT", "1m", 10, since_ms=-5)
    assert stub.requests == ["/api/v3/exchangeInfo"]


async def test_fetches_load_markets_on_first_use(source: CcxtSource, stub: StubExchange) -> None:
    ticker = await source.fetch_ticker("btcusdt")
    assert ticker.symbol == "BTC/USDT"
    assert stub.requests == ["/api/v3/exchangeInfo", "/api/v3/ticker/24hr"]


async def test_ticker_values(source: CcxtSource) -> None:
    ticker = await source.fetch_ticker("BTC-USDT")
    assert ticker.timestamp == 1_700_000_000_000
    assert (ticker.last, ticker.bid, ticker.ask) == (37100.5, 37100.0, 37101.0)
    assert (ticker.open, ticker.high, ticker.low) == (37000.0, 37500.0, 36500.0)
    assert (ticker.change, ticker.change_percent) == (100.5, 0.271)
    assert (ticker.base_volume, ticker.quote_volume) == (1234.5, 45678901.2)


async def test_klines_keep_taker_buy_volume_and_trade_counts(source: CcxtSource) -> None:
    candles = await source.fetch_ohlcv("BTC/USDT", "30m", 5)
    assert len(candles) == 5
    last = KLINES[-1]
    assert candles.open_time[-1] == last[0]
    assert candles.column("trades")[-1] == last[8]
    assert candles.taker_buy_volume[-1] == float(last[9])
    assert candles.column("quote_volume")[-1] == float(last[7])


async def test_trades_buyer_maker_flag(source: CcxtSource) -> None:
    trades = await source.fetch_trades("BTC/USDT", 4)
    expected = AGG_TRADES[-4:]
    assert trades.column("id").tolist() == [t["a"] for t in expected]
    assert trades.column("is_buyer_maker").tolist() == [float(t["m"]) for t in expected]
    assert trades.column("price").tolist() == [float(t["p"]) for t in expected]


async def test_429_with_retry_after_is_rate_limited(source: CcxtSource, stub: StubExchange) -> None:
    await source.load_markets()
    stub.answer(
        "/api/v3/ticker/24hr",
        Scripted(429, '{"code":-1003,"msg":"Too many requests."}', {"Retry-After": "17"}),
    )
    with pytest.raises(RateLimited) as caught:
        await source.fetch_ticker("BTC/USDT")
    assert caught.value.retry_after == 17.0
    assert source.stats.operations["ticker"].errors == 1


async def test_418_ban_is_rate_limited(source: CcxtSource, stub: StubExchange) -> None:
    await source.load_markets()
    stub.answer(
        "/api/v3/klines", Scripted(418, '{"code":-1003,"msg":"banned"}', {"Retry-After": "60"})
    )
    with pytest.raises(RateLimited) as caught:
        await source.fetch_ohlcv("BTC/USDT", "1m", 10)
    assert caught.value.retry_after == 60.0


# what Binance answers from a region it does not serve (its CloudFront, any endpoint)
BINANCE_451 = Scripted(
    451,
    '{"code": 0, "msg": "Service unavailable from a restricted location according to '
    "'b. Eligibility' in https://www.binance.com/en/terms. Please contact customer "
    'service if you believe you received this message in error."}',
)
REGION_MESSAGE = (
    "binance refuses requests from this region (HTTP 451); "
    "set EXCHANGE=binanceus or run with --offline"
)


async def test_451_on_markets_says_what_to_do(source: CcxtSource, stub: StubExchange) -> None:
    stub.answer("/api/v3/exchangeInfo", BINANCE_451)
    with pytest.raises(ExchangeUnavailable) as caught:
        await source.load_markets()
    assert type(caught.value) is RegionRefused
    assert caught.value.message == REGION_MESSAGE
    assert caught.value.to_body()["code"] == "exchange_unavailable"


async def test_451_on_the_start_up_probe_says_what_to_do(
    source: CcxtSource, stub: StubExchange
) -> None:
    stub.answer("/api/v3/time", BINANCE_451)
    with pytest.raises(RegionRefused) as caught:
        await source.fetch_time()
    assert caught.value.message == REGION_MESSAGE
    assert await source.fetch_time() == 1_700_000_000_000


async def test_503_is_exchange_unavailable(source: CcxtSource, stub: StubExchange) -> None:
    await source.load_markets()
    stub.answer("/api/v3/aggTrades", Scripted(503, "Service Unavailable"))
    with pytest.raises(ExchangeUnavailable):
        await source.fetch_trades("BTC/USDT", 10)


@pytest.mark.parametrize(
    "body",
    [
        '[[1554991200000, "4986.23", "5009.0"',
        "[[null, null, null, null, null, null, null, null, null, null, null, null]]",
        "<html>oops</html>",
        '{"unexpected": true}',
    ],
    ids=["truncated", "nulls", "html", "object"],
)
async def test_malformed_klines_are_a_bad_response(
    source: CcxtSource, stub: StubExchange, body: str
) -> None:
    await source.load_markets()
    stub.answer("/api/v3/klines", Scripted(200, body))
    with pytest.raises(BadResponse) as raised:
        await source.fetch_ohlcv("BTC/USDT", "1m", 10)
    assert source.stats.operations["ohlcv"].errors == 1
    assert raised.value.message == "binance ohlcv: an answer that could not be used"


@pytest.mark.parametrize("body", ['{"symbol":"BTCUSDT","lastPrice":"371', "{}", "[]"])
async def test_malformed_ticker_is_a_bad_response(
    source: CcxtSource, stub: StubExchange, body: str
) -> None:
    await source.load_markets()
    stub.answer("/api/v3/ticker/24hr", Scripted(200, body))
    with pytest.raises(BadResponse) as raised:
        await source.fetch_ticker("BTC/USDT")
    assert raised.value.message == "binance ticker: an answer that could not be used"


async def test_malformed_exchange_info_is_a_bad_response_and_a_retry_works(
    source: CcxtSource, stub: StubExchange
) -> None:
    stub.answer("/api/v3/exchangeInfo", Scripted(200, '{"timezone":"UTC","symbols":[{"symb'))
    with pytest.raises(BadResponse):
        await source.load_markets()
    assert len(await source.load_markets()) == 315
    counted = source.stats.operations["markets"]
    assert (counted.calls, counted.errors) == (2, 1)


async def test_a_hang_is_an_upstream_timeout(stub: StubExchange) -> None:
    source = CcxtSource(base_url=stub.url, timeout_s=0.2)
    try:
        await source.load_markets()
        stub.answer("/api/v3/klines", Scripted(200, "[]", hang=True))
        with pytest.raises(UpstreamTimeout):
            await source.fetch_ohlcv("BTC/USDT", "1m", 10)
    finally:
        await source.close()


async def test_ping(source: CcxtSource, stub: StubExchange) -> None:
    assert await source.ping() is True
    stub.answer("/api/v3/time", Scripted(500, "boom"))
    assert await source.ping() is False
    stub.answer("/api/v3/time", Scripted(200, '{"serverTime": null}'))
    assert await source.ping() is False
    ping = source.stats.operations["ping"]
    assert (ping.calls, ping.errors, ping.weight) == (3, 2, 3)


async def test_ping_when_nothing_listens_is_false() -> None:
    source = CcxtSource(base_url="http://127.0.0.1:9", timeout_s=1.0)
    try:
        assert await source.ping() is False
    finally:
        await source.close()


async def test_weights_are_counted_per_operation(source: CcxtSource) -> None:
    await source.fetch_ticker("BTC/USDT")
    await source.fetch_ohlcv("BTC/USDT", "1h", 3)
    await source.fetch_trades("BTC/USDT", 3)
    await source.fetch_trades("ETH/USDT", 3)
    ops = source.stats.operations
    assert {name: (c.calls, c.weight) for name, c in ops.items()} == {
        "markets": (1, 20),
        "ticker": (1, 2),
        "ohlcv": (1, 2),
        "trades": (2, 4),
    }
    assert source.stats.total_weight == 28


async def test_another_exchange_goes_through_ccxts_unified_methods(stub: StubExchange) -> None:
    # binanceus speaks Binance's API but is not `binance`: the generic path is taken.
    source = CcxtSource("binanceus", base_url=stub.url)
    try:
        assert len(await source.load_markets()) == 315
        candles = await source.fetch_ohlcv("BTC/USDT", "30m", 5)
        last = KLINES[-1]
        assert candles.open_time[-1] == last[0]
        assert candles.close[-1] == float(last[4])
        assert candles.close_time[-1] == last[0] + 1_800_000 - 1
        for name in ("quote_volume", "trades", "taker_buy_volume", "taker_buy_quote_volume"):
            assert np.isnan(candles.column(name)).all()
        trades = await source.fetch_trades("BTC/USDT", 4)
        expected = AGG_TRADES[-4:]
        assert trades.column("is_buyer_maker").tolist() == [float(t["m"]) for t in expected]
        assert trades.column("id").tolist() == [t["a"] for t in expected]
        assert (await source.fetch_ticker("BTC/USDT")).last == 37100.5
        assert {op: c.weight for op, c in source.stats.operations.items()} == {
            "markets": 1,
            "ohlcv": 1,
            "trades": 1,
            "ticker": 1,
        }
        assert source.source_name == "binanceus"
    finally:
        await source.close()


async def test_concurrent_first_requests_share_one_markets_load(
    source: CcxtSource, stub: StubExchange
) -> None:
    tickers = await asyncio.gather(*(source.fetch_ticker("BTC/USDT") for _ in range(5)))
    assert {t.last for t in tickers} == {37100.5}
    assert stub.count("/api/v3/exchangeInfo") == 1
    assert stub.count("/api/v3/ticker/24hr") == 5
