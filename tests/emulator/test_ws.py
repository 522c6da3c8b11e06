"""Binance's websocket streams: unmodified ccxt.pro gets what REST gives at the same instant;
the raw protocol (paths, combined streams, SUBSCRIBE/UNSUBSCRIBE, errors, faults, lifetime)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import ccxt.pro as ccxtpro
import httpx
import pytest
from aiohttp import ClientSession, WSMsgType
from aiohttp.test_utils import TestServer

from marketcache.emulator.ccxt_urls import repoint
from marketcache.emulator.control import EmulatorControl
from marketcache.emulator.process import EmulatorProcess
from marketcache.emulator.server import EmulatorOptions, create_app

from .conftest import START_MS

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


@pytest.fixture
async def pro(emulator: EmulatorProcess) -> AsyncIterator[Any]:
    control = EmulatorControl(emulator.url)
    control.reset()
    control.set_clock(START_MS)
    exchange: Any = ccxtpro.binance(
        {"options": {"fetchMarkets": ["spot"], "fetchCurrencies": False}}
    )
    repoint(exchange, emulator.url)
    try:
        yield exchange
    finally:
        await exchange.close()
        control.set_clock(START_MS)


async def subscribed(emulator: EmulatorProcess, stream: str) -> None:
    """Wait until the emulator has a subscriber to `stream`."""
    for _ in range(600):
        if stream in EmulatorControl(emulator.url).stats()["streams"]["subscriptions"]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the subscription never arrived")


async def waiting(watch: Any) -> asyncio.Future[Any]:
    """A watch_* call started and waiting for its next message (before the clock moves:
    with a frozen clock nothing else would come)."""
    future = asyncio.ensure_future(watch)
    await asyncio.sleep(0.2)  # subscribed already: it only has to reach its await
    assert not future.done()
    return future


def rest(emulator: EmulatorProcess, path: str, **query: Any) -> Any:
    answer = httpx.get(f"{emulator.url}{path}", params=query, timeout=5)
    answer.raise_for_status()
    return answer.json()


async def test_watch_ticker_is_the_rest_ticker(pro: Any, emulator: EmulatorProcess) -> None:
    streamed = await asyncio.wait_for(pro.watch_ticker("ETH/USDT"), 40)
    fetched = await pro.fetch_ticker("ETH/USDT")
    # (ccxt.pro does not read bid and ask off the 24hrTicker stream)
    for key in ("last", "open", "high", "low", "change", "baseVolume", "quoteVolume"):
        assert streamed[key] == fetched[key], key
    assert streamed["timestamp"] == fetched["timestamp"] == START_MS


async def test_watch_ohlcv_is_the_rest_live_candle(pro: Any, emulator: EmulatorProcess) -> None:
    for timeframe in ("1m", "1h"):
        streamed = await asyncio.wait_for(pro.watch_ohlcv("BTC/USDT", timeframe), 40)
        fetched = await pro.fetch_ohlcv("BTC/USDT", timeframe, limit=2)
        assert streamed[-1] == fetched[-1]
    # the clock moves: the next message is the candle REST gives at the new instant
    watching = await waiting(pro.watch_ohlcv("BTC/USDT", "1m"))
    EmulatorControl(emulator.url).advance_clock(90_000)
    await asyncio.wait_for(watching, 40)
    fetched = await pro.fetch_ohlcv("BTC/USDT", "1m", limit=3)
    # the closed candle's final message comes first, then the live one: poll ccxt's cache
    for _ in range(100):
        streamed = list(pro.ohlcvs["BTC/USDT"]["1m"])
        if streamed[-1][0] == fetched[-1][0]:
            break
        await asyncio.sleep(0.05)
    assert streamed[-1] == fetched[-1]
    assert [c for c in streamed if c[0] == fetched[-2][0]] == [fetched[-2]]


async def test_watch_trades_are_the_rest_trades(pro: Any, emulator: EmulatorProcess) -> None:
    watching = asyncio.ensure_future(pro.watch_trades("SOL/USDT"))
    await subscribed(emulator, "solusdt@trade")  # before the clock moves
    EmulatorControl(emulator.url).advance_clock(60_000)
    streamed = await asyncio.wait_for(watching, 40)
    rows = rest(
        emulator,
        "/api/v3/aggTrades",
        symbol="SOLUSDT",
        startTime=START_MS + 1,
        endTime=START_MS + 60_000,
        limit=1000,
    )
    by_time = {(r["T"], r["p"], r["q"]) for r in rows}
    assert streamed
    for trade in streamed:
        assert START_MS < trade["timestamp"] <= START_MS + 60_000
        key = (trade["timestamp"], f"{trade['price']:.8f}", f"{trade['amount']:.8f}")
        assert any(k[0] == key[0] and float(k[1]) == trade["price"] for k in by_time)


async def test_watch_order_book_is_the_rest_book(pro: Any, emulator: EmulatorProcess) -> None:
    book = await asyncio.wait_for(pro.watch_order_book("ETH/USDT"), 40)
    fetched = rest(emulator, "/api/v3/depth", symbol="ETHUSDT", limit=10)
    assert book["nonce"] == fetched["lastUpdateId"] == START_MS
    assert book["bids"][:10] == [[float(p), float(q)] for p, q in fetched["bids"]]
    watching = await waiting(pro.watch_order_book("ETH/USDT"))
    EmulatorControl(emulator.url).advance_clock(5_000)  # a diff update follows
    book = await asyncio.wait_for(watching, 40)
    fetched = rest(emulator, "/api/v3/depth", symbol="ETHUSDT", limit=10)
    assert book["nonce"] == fetched["lastUpdateId"] == START_MS + 5_000
    assert book["bids"][:10] == [[float(p), float(q)] for p, q in fetched["bids"]]
    assert book["asks"][:10] == [[float(p), float(q)] for p, q in fetched["asks"]]


@pytest.fixture
async def stream_server() -> AsyncIterator[str]:
    """An in-process emulator with fast ticks and a short connection lifetime."""
    options = EmulatorOptions(
        clock_start_ms=START_MS,
        frozen=True,
        ws_tick_ms=10,
        ws_max_lifetime_s=1.0,
        ws_ping_interval_s=0.2,
    )
    server = TestServer(create_app(options), host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


async def receive(ws: Any) -> Any:
    msg = await asyncio.wait_for(ws.receive(), 10)
    assert msg.type == WSMsgType.TEXT, msg
    return json.loads(msg.data)


async def test_raw_combined_and_live_subscriptions(stream_server: str) -> None:
    ws_base = stream_server.replace("http", "ws")
    async with ClientSession() as session:
        async with session.ws_connect(f"{ws_base}/ws/ethusdt@bookTicker") as ws:
            first = await receive(ws)
            assert first["s"] == "ETHUSDT"
            assert set(first) == {"u", "s", "b", "B", "a", "A"}
            await ws.send_str(
                json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@ticker"], "id": 7})
            )
            replies = [await receive(ws), await receive(ws)]
            assert {"result": None, "id": 7} in replies
            await ws.send_str(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 8}))
            listed = await receive(ws)
            assert listed == {"result": ["ethusdt@bookTicker", "btcusdt@ticker"], "id": 8}
            await ws.send_str(json.dumps({"method": "SUBSCRIBE", "params": ["nope@x"], "id": 9}))
            error = await receive(ws)
            assert error["id"] == 9
            assert error["error"]["code"] == 2
            await ws.send_str(
                json.dumps({"method": "UNSUBSCRIBE", "params": ["btcusdt@ticker"], "id": 10})
            )
            assert await receive(ws) == {"result": None, "id": 10}
            await ws.send_str("not json")
            assert (await receive(ws))["error"]["code"] == 3
        async with session.ws_connect(
            f"{ws_base}/stream?streams=ethusdt@miniTicker/ethusdt@kline_5m"
        ) as ws:
            got = {m["stream"]: m["data"] for m in [await receive(ws), await receive(ws)]}
            assert got["ethusdt@miniTicker"]["e"] == "24hrMiniTicker"
            assert got["ethusdt@kline_5m"]["k"]["i"] == "5m"


async def test_lifetime_closes_and_faults_drop(stream_server: str) -> None:
    ws_base = stream_server.replace("http", "ws")
    async with ClientSession() as session:
        async with session.ws_connect(f"{ws_base}/ws/ethusdt@trade") as ws:
            msg = await asyncio.wait_for(ws.receive(), 10)  # nothing trades on a frozen clock
            assert msg.type in {WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED}
        async with httpx.AsyncClient(base_url=stream_server) as client:
            await client.post(
                "/_emulator/faults", json={"fault": "drop", "count": 1, "path": "/ws"}
            )
            async with session.ws_connect(f"{ws_base}/ws/ethusdt@ticker") as ws:
                msg = await asyncio.wait_for(ws.receive(), 10)
                assert msg.type in {WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED}
            stats = (await client.get("/_emulator/stats")).json()["streams"]
            assert stats["opened"] == 2
            await client.post(
                "/_emulator/faults", json={"fault": "stall", "count": 1, "retry_after": 0}
            )
            async with session.ws_connect(f"{ws_base}/ws/ethusdt@ticker") as ws:
                assert (await receive(ws))["e"] == "24hrTicker"  # a 0 s stall: sent anyway


async def test_faults_stall_and_delay_hold_the_messages(stream_server: str) -> None:
    """A 1 s stall on a 1 s connection sends nothing; a 1 s delay sends, a second late."""
    ws_base = stream_server.replace("http", "ws")
    async with ClientSession() as session, httpx.AsyncClient(base_url=stream_server) as client:
        await client.post(
            "/_emulator/faults", json={"fault": "stall", "count": 1, "retry_after": 1}
        )
        async with session.ws_connect(f"{ws_base}/ws/ethusdt@ticker") as ws:
            msg = await asyncio.wait_for(ws.receive(), 10)
            assert msg.type in {WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED}, msg
        await client.post(
            "/_emulator/faults", json={"fault": "delay", "count": 1, "retry_after": 1}
        )
        started = time.monotonic()
        async with session.ws_connect(f"{ws_base}/ws/ethusdt@ticker") as ws:
            assert (await receive(ws))["e"] == "24hrTicker"
            assert time.monotonic() - started >= 0.9  # held for the fault's second


async def test_the_server_pings(stream_server: str) -> None:
    ws_base = stream_server.replace("http", "ws")
    async with (
        ClientSession() as session,
        session.ws_connect(f"{ws_base}/ws", autoping=False) as ws,
    ):
        msg = await asyncio.wait_for(ws.receive(), 10)
        assert msg.type == WSMsgType.PING
        await ws.pong(msg.data)
