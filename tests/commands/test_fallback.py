"""`serve --fallback-offline` (what `make run` uses): the live exchange when it answers at
start-up, else the built-in emulator with a line saying why and a banner; plain `serve`
never falls back."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import psutil
import pytest

from marketcache.commands.fallback import _probe
from marketcache.commands.service_process import ServiceProcess
from marketcache.config import Settings
from marketcache.emulator.process import EmulatorProcess
from marketcache.netutil import free_port
from tests.sources.binance_stub import Scripted, StubExchange, start_stub

BINANCE_451_BODY = (
    b'{"code": 0, "msg": "Service unavailable from a restricted location according to '
    b"'b. Eligibility' in https://www.binance.com/en/terms.\"}"
)
REGION_MESSAGE = (
    "binance refuses requests from this region (HTTP 451); "
    "set EXCHANGE=binanceus or run with --offline"
)
BANNER = "*** OFFLINE FALLBACK"
START_S = 120.0  # a probe, then an emulator and a server: on a busy 2-core machine, slow


class _Refuses(BaseHTTPRequestHandler):
    """Every path answers as Binance does to a region it does not serve."""

    def do_GET(self) -> None:
        self.send_response(451)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BINANCE_451_BODY)))
        self.end_headers()
        self.wfile.write(BINANCE_451_BODY)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def refusing_exchange() -> Iterator[str]:
    """A Binance stand-in that answers 451 to everything, in a thread (serve blocks)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refuses)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
async def stub() -> AsyncIterator[StubExchange]:
    runner, stub = await start_stub({})
    yield stub
    stub.released.set()
    await runner.cleanup()


def closed_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


def price(service: ServiceProcess) -> httpx.Response:
    return httpx.post(f"{service.url}/price", json={"symbol": "BTC/USDT"}, timeout=10)


def emulator_children(service: ServiceProcess) -> list[psutil.Process]:
    children = psutil.Process(service.pid).children(recursive=True)
    return [c for c in children if "emulator" in " ".join(c.cmdline())]


async def test_the_probe_is_none_when_the_exchange_tells_its_time(stub: StubExchange) -> None:
    assert await _probe(Settings(exchange_url=stub.url), 2.0) is None
    assert stub.requests == ["/api/v3/time"]


async def test_the_probe_says_why_not(stub: StubExchange) -> None:
    stub.answer("/api/v3/time", Scripted(451, BINANCE_451_BODY.decode()))
    assert await _probe(Settings(exchange_url=stub.url), 2.0) == REGION_MESSAGE
    assert await _probe(Settings(exchange_url=closed_url()), 2.0) == "binance ping: unavailable"


@pytest.mark.e2e
@pytest.mark.timeout(2 * START_S + 60)
def test_an_unreachable_exchange_falls_back_to_the_emulator() -> None:
    with ServiceProcess(
        ["--fallback-offline", "--exchange-url", closed_url()], start_timeout_s=START_S
    ) as service:
        answer = price(service)
        health = httpx.get(f"{service.url}/health", timeout=10).json()
        log = service.log()
        children = emulator_children(service)
    assert answer.status_code == 200, answer.text
    assert answer.json()["meta"]["source"] == "emulator"
    assert health["exchange"]["source"] == "emulator"
    assert len(children) == 1
    assert "binance cannot be reached at start-up (binance ping: unavailable); " in log
    assert "serving the built-in emulator instead (--fallback-offline)" in log
    assert BANNER in log
    assert "Traceback" not in log


@pytest.mark.e2e
@pytest.mark.timeout(2 * START_S + 60)
def test_a_region_refusal_falls_back_and_says_what_to_do(refusing_exchange: str) -> None:
    with ServiceProcess(
        ["--fallback-offline", "--exchange-url", refusing_exchange], start_timeout_s=START_S
    ) as service:
        answer = price(service)
        log = service.log()
    assert answer.json()["meta"]["source"] == "emulator"
    assert f"binance cannot be reached at start-up ({REGION_MESSAGE})" in log
    assert BANNER in log


@pytest.mark.e2e
@pytest.mark.timeout(2 * START_S + 60)
def test_plain_serve_never_falls_back(refusing_exchange: str) -> None:
    with ServiceProcess(["--exchange-url", refusing_exchange], start_timeout_s=START_S) as service:
        answer = price(service)
        health = httpx.get(f"{service.url}/health", timeout=10).json()
        log = service.log()
        children = emulator_children(service)
    assert answer.status_code == 503
    error = answer.json()["error"]
    assert (error["code"], error["message"]) == ("exchange_unavailable", REGION_MESSAGE)
    assert health["exchange"]["reachable"] is False
    assert children == []
    assert BANNER not in log


@pytest.mark.e2e
@pytest.mark.timeout(2 * START_S + 60)
def test_a_reachable_exchange_is_served_without_fallback() -> None:
    with EmulatorProcess() as exchange:
        args = ["--fallback-offline", "--exchange-url", exchange.url]
        with ServiceProcess(args, start_timeout_s=START_S) as service:
            answer = price(service)
            log = service.log()
            children = emulator_children(service)
    assert answer.status_code == 200
    assert children == []  # it serves the exchange it was given, not an emulator of its own
    assert BANNER not in log
    assert "cannot be reached" not in log
