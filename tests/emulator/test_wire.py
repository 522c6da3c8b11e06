"""Every endpoint and stream against Binance's documented field lists (names, types, order),
written out here from Binance's spot API documentation."""

from __future__ import annotations

import re
from typing import Any

import pytest

from marketcache.emulator import quotes, streams
from marketcache.emulator.market import Market

from .conftest import START_MS, ServerFactory

DECIMAL = re.compile(r"^-?[0-9]+\.[0-9]{8}$")
D, I, B = "decimal string", int, bool  # noqa: E741

KLINE = [I, D, D, D, D, D, I, D, I, D, D, str]  # open time, o, h, l, c, volume, close time,
# quote volume, trades, taker buy base, taker buy quote, ignore
TICKER_24HR = {
    "symbol": str,
    "priceChange": D,
    "priceChangePercent": str,
    "weightedAvgPrice": D,
    "prevClosePrice": D,
    "lastPrice": D,
    "lastQty": D,
    "bidPrice": D,
    "bidQty": D,
    "askPrice": D,
    "askQty": D,
    "openPrice": D,
    "highPrice": D,
    "lowPrice": D,
    "volume": D,
    "quoteVolume": D,
    "openTime": I,
    "closeTime": I,
    "firstId": I,
    "lastId": I,
    "count": I,
}
AGG_TRADE = {"a": I, "p": D, "q": D, "f": I, "l": I, "T": I, "m": B, "M": B}
TRADE = {
    "id": I,
    "price": D,
    "qty": D,
    "quoteQty": D,
    "time": I,
    "isBuyerMaker": B,
    "isBestMatch": B,
}
BOOK_TICKER = {"symbol": str, "bidPrice": D, "bidQty": D, "askPrice": D, "askQty": D}
AVG_PRICE = {"mins": I, "price": D, "closeTime": I}
WS = {
    "trade": {"e": str, "E": I, "s": str, "t": I, "p": D, "q": D, "T": I, "m": B, "M": B},
    "aggTrade": {
        "e": str,
        "E": I,
        "s": str,
        "a": I,
        "p": D,
        "q": D,
        "f": I,
        "l": I,
        "T": I,
        "m": B,
        "M": B,
    },
    "24hrTicker": {
        "e": str,
        "E": I,
        "s": str,
        "p": D,
        "P": str,
        "w": D,
        "x": D,
        "c": D,
        "Q": D,
        "b": D,
        "B": D,
        "a": D,
        "A": D,
        "o": D,
        "h": D,
        "l": D,
        "v": D,
        "q": D,
        "O": I,
        "C": I,
        "F": I,
        "L": I,
        "n": I,
    },
    "24hrMiniTicker": {"e": str, "E": I, "s": str, "c": D, "o": D, "h": D, "l": D, "v": D, "q": D},
    "bookTicker": {"u": I, "s": str, "b": D, "B": D, "a": D, "A": D},
    "kline": {"e": str, "E": I, "s": str, "k": dict},
    "kline.k": {
        "t": I,
        "T": I,
        "s": str,
        "i": str,
        "f": I,
        "L": I,
        "o": D,
        "c": D,
        "h": D,
        "l": D,
        "v": D,
        "n": I,
        "x": B,
        "q": D,
        "V": D,
        "Q": D,
        "B": str,
    },
    "depthUpdate": {"e": str, "E": I, "s": str, "U": I, "u": I, "b": list, "a": list},
    "depth5": {"lastUpdateId": I, "bids": list, "asks": list},
}


def check(value: Any, kind: Any) -> None:
    if kind == D:
        assert isinstance(value, str), value
        assert DECIMAL.match(value), value
    elif kind is I:
        assert isinstance(value, int), value
        assert not isinstance(value, bool), value
    else:
        assert isinstance(value, kind), value


def check_object(body: dict[str, Any], fields: dict[str, Any]) -> None:
    assert list(body) == list(fields)  # names and their order
    for name, kind in fields.items():
        check(body[name], kind)


def check_levels(levels: list[list[str]]) -> None:
    assert levels
    for level in levels:
        assert len(level) == 2
        check(level[0], D)
        check(level[1], D)


async def test_rest_endpoints_follow_binances_field_lists(serve: ServerFactory) -> None:
    client = await serve()

    async def get(path: str, **query: str) -> Any:
        answer = await client.get(path, params=query)
        assert answer.status_code == 200, answer.text
        return answer.json()

    assert await get("/api/v3/ping") == {}
    check_object(await get("/api/v3/time"), {"serverTime": I})
    info = await get("/api/v3/exchangeInfo")
    assert list(info)[:5] == ["timezone", "serverTime", "rateLimits", "exchangeFilters", "symbols"]
    assert info["rateLimits"][0] == {
        "rateLimitType": "REQUEST_WEIGHT",
        "interval": "MINUTE",
        "intervalNum": 1,
        "limit": 6000,
    }
    for interval in ("1s", "1m", "1h", "1M"):
        for row in await get("/api/v3/klines", symbol="BTCUSDT", interval=interval, limit="3"):
            assert len(row) == len(KLINE)
            for value, kind in zip(row, KLINE, strict=True):
                check(value, kind)
    check_object(await get("/api/v3/ticker/24hr", symbol="ETHUSDT"), TICKER_24HR)
    for row in await get("/api/v3/aggTrades", symbol="ETHUSDT", limit="5"):
        check_object(row, AGG_TRADE)
    for row in await get("/api/v3/trades", symbol="ETHUSDT", limit="5"):
        check_object(row, TRADE)
    book = await get("/api/v3/depth", symbol="ETHUSDT", limit="5")
    assert list(book) == ["lastUpdateId", "bids", "asks"]
    check_levels(book["bids"])
    check_levels(book["asks"])
    check_object(await get("/api/v3/ticker/price", symbol="ETHUSDT"), {"symbol": str, "price": D})
    check_object(await get("/api/v3/ticker/bookTicker", symbol="ETHUSDT"), BOOK_TICKER)
    check_object(await get("/api/v3/avgPrice", symbol="ETHUSDT"), AVG_PRICE)
    assert await get("/sapi/v1/system/status") == {"status": 0, "msg": "normal"}


def test_stream_messages_follow_binances_field_lists(market: Market) -> None:
    def stream(name: str) -> streams.Stream:
        found = streams.parse(name, market)
        assert found is not None
        return found

    now = market.clock.now_ms()
    trades = streams.trade_messages(market, stream("ethusdt@trade"), START_MS - 60_000, now)
    check_object(trades[0], WS["trade"])
    aggs = streams.trade_messages(market, stream("ethusdt@aggTrade"), START_MS - 60_000, now)
    check_object(aggs[0], WS["aggTrade"])
    check_object(streams.ticker_message(market, stream("ethusdt@ticker"), now), WS["24hrTicker"])
    mini = streams.ticker_message(market, stream("ethusdt@miniTicker"), now)
    check_object(mini, WS["24hrMiniTicker"])
    check_object(
        streams.book_ticker_message(market, stream("ethusdt@bookTicker"), now), WS["bookTicker"]
    )
    kline = streams.kline_message(market, stream("ethusdt@kline_1m"), now // 60_000 * 60_000, now)
    check_object(kline, WS["kline"])
    check_object(kline["k"], WS["kline.k"])
    diff = streams.diff_depth_message(market, stream("ethusdt@depth@100ms"), now - 1000, now)
    check_object(diff, WS["depthUpdate"])
    partial = streams.partial_depth_message(market, stream("ethusdt@depth5"), now)
    check_object(partial, WS["depth5"])
    assert len(partial["bids"]) == 5


@pytest.mark.parametrize(
    "name", ["ETHUSDT@trade", "ethusdt@kline_7m", "nopeusdt@ticker", "ethusdt"]
)
def test_unknown_stream_names(market: Market, name: str) -> None:
    assert streams.parse(name, market) is None


def test_a_ticker_message_is_the_ticker_at_its_own_time(market: Market) -> None:
    """Built after the clock moved on, a message stamped E still says the tape at E."""
    found = streams.parse("ethusdt@ticker", market)
    assert found is not None
    stamped = market.clock.now_ms()
    at_stamp = quotes.ticker_24hr(market, "ETHUSDT")
    market.clock.advance(5 * 60_000)  # trades happened since (the price moved)
    assert quotes.ticker_24hr(market, "ETHUSDT")["lastId"] != at_stamp["lastId"]
    message = streams.ticker_message(market, found, stamped)
    assert message["E"] == stamped
    assert (message["c"], message["L"], message["C"]) == (
        at_stamp["lastPrice"],
        at_stamp["lastId"],
        at_stamp["closeTime"],
    )
