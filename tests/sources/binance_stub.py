"""A scripted Binance stand-in on a free loopback port, for the source tests.

The stub answers the few spot endpoints the source uses with recorded Binance data,
records every path it is asked for, and can be told to answer a path differently
(status, body, headers, or a delay) for the next requests.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from aiohttp import web

DATA = resources.files("marketcache.emulator") / "data"
EXCHANGE_INFO = (DATA / "exchangeInfo-spot-usdt-2021-10-12.json").read_text()
KLINES: list[list[Any]] = json.loads((DATA / "BTCUSDT-30m-klines-2019-04.json").read_text())

TICKER_24HR = {
    "symbol": "BTCUSDT",
    "priceChange": "100.50000000",
    "priceChangePercent": "0.271",
    "weightedAvgPrice": "37000.00000000",
    "prevClosePrice": "36999.00000000",
    "lastPrice": "37100.50000000",
    "lastQty": "0.01000000",
    "bidPrice": "37100.00000000",
    "bidQty": "1.00000000",
    "askPrice": "37101.00000000",
    "askQty": "2.00000000",
    "openPrice": "37000.00000000",
    "highPrice": "37500.00000000",
    "lowPrice": "36500.00000000",
    "volume": "1234.50000000",
    "quoteVolume": "45678901.20000000",
    "openTime": 1699913600000,
    "closeTime": 1700000000000,
    "firstId": 1,
    "lastId": 1000,
    "count": 1000,
}

AGG_TRADES = [
    {
        "a": 100 + i,
        "p": f"{37000 + i}.5",
        "q": "0.25",
        "f": i,
        "l": i,
        "T": 1_700_000_000_000 + i,
        "m": i % 2 == 0,
        "M": True,
    }
    for i in range(10)
]


@dataclass
class Scripted:
    """One scripted answer."""

    status: int = 200
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    hang: bool = False  # answer only when the stub is released (at teardown)


@dataclass
class StubExchange:
    """A running stub: its URL, the paths asked so far, and answers to script."""

    url: str
    extra_headers: dict[str, str]
    requests: list[str] = field(default_factory=list)
    script: dict[str, list[Scripted]] = field(default_factory=dict)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def answer(self, path: str, *answers: Scripted) -> None:
        """Answer the next requests for `path` with `answers`, in order."""
        self.script.setdefault(path, []).extend(answers)

    def count(self, path: str) -> int:
        """How many requests `path` got."""
        return self.requests.count(path)


def _default_body(path: str, query: dict[str, str]) -> str | None:
    if path == "/api/v3/exchangeInfo":
        return EXCHANGE_INFO
    if path == "/api/v3/time":
        return json.dumps({"serverTime": 1_700_000_000_000})
    if path == "/api/v3/ticker/24hr":
        return json.dumps(TICKER_24HR)
    if path == "/api/v3/klines":
        return json.dumps(KLINES[-int(query.get("limit", "500")) :])
    if path == "/api/v3/aggTrades":
        return json.dumps(AGG_TRADES[-int(query.get("limit", "500")) :])
    return None


async def start_stub(stub_headers: dict[str, str]) -> tuple[web.AppRunner, StubExchange]:
    stub: StubExchange | None = None

    async def handle(request: web.Request) -> web.Response:
        assert stub is not None
        stub.requests.append(request.path)
        queued = stub.script.get(request.path)
        if queued:
            answer = queued.pop(0)
            if answer.hang:
                await stub.released.wait()
            if answer.delay_s:
                await asyncio.sleep(answer.delay_s)
            return web.Response(
                status=answer.status,
                text=answer.body,
                headers={**stub.extra_headers, **answer.headers},
                content_type="application/json",
            )
        body = _default_body(request.path, dict(request.query))
        if body is None:
            return web.Response(status=404, text='{"code":-1,"msg":"no such path"}')
        return web.Response(text=body, headers=stub.extra_headers, content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    stub = StubExchange(url=f"http://127.0.0.1:{port}", extra_headers=stub_headers)
    return runner, stub
