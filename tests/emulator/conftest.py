"""Fixtures of the emulator tests: in-process servers, a child process, a ccxt client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import httpx
import pytest
from aiohttp.test_utils import TestServer

from marketcache.emulator.ccxt_urls import repoint
from marketcache.emulator.clock import EmulatorClock, parse_clock_start
from marketcache.emulator.market import Market
from marketcache.emulator.process import EmulatorProcess
from marketcache.emulator.server import EmulatorOptions, create_app

CLOCK_START = "2024-01-01T00:10:00Z"
START_MS = parse_clock_start(CLOCK_START)
FIXED_WALL_TIME = 1_700_000_010.0  # 10 s into a wall-clock minute: the weight minute never rolls


@pytest.fixture
def market() -> Market:
    """A market on a frozen clock at CLOCK_START."""
    return Market(EmulatorClock(START_MS, frozen=True))


ServerFactory = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def serve() -> AsyncIterator[ServerFactory]:
    """Start an in-process emulator on a free loopback port; returns an httpx client to it."""
    servers: list[TestServer] = []
    clients: list[httpx.AsyncClient] = []

    async def start(**options: object) -> httpx.AsyncClient:
        settings: dict[str, object] = {"clock_start_ms": START_MS, "frozen": True, **options}
        opts = EmulatorOptions(**settings)  # type: ignore[arg-type]
        app = create_app(opts, wall_clock=lambda: FIXED_WALL_TIME)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        base_url = str(server.make_url("")).rstrip("/")
        client = httpx.AsyncClient(base_url=base_url, timeout=10.0)
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.aclose()
    for server in servers:
        await server.close()


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    """The real `marketcache emulator` command as a child process, frozen at CLOCK_START."""
    with EmulatorProcess(frozen=True, clock_start=CLOCK_START) as process:
        yield process


def make_binance(base_url: str, **config: object) -> object:
    """An unmodified ccxt async binance client aimed at the emulator (spot markets only)."""
    import ccxt.async_support as ccxt

    options = {"fetchMarkets": ["spot"], "fetchCurrencies": False}
    exchange = ccxt.binance({"options": options, **config})
    repoint(exchange, base_url)
    return exchange
