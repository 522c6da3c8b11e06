"""A batch of 30 cold symbols through the real server, real ccxt and the emulator."""

from __future__ import annotations

import httpx
import pytest

from marketcache.commands.service_process import ServiceProcess
from marketcache.emulator.process import EmulatorProcess
from tests.fakes import real_markets

pytestmark = pytest.mark.e2e

THIRTY = [m.symbol for m in real_markets()[10:40]]


def ticker_requests(emulator: EmulatorProcess) -> int:
    stats = httpx.get(f"{emulator.url}/_emulator/stats").json()
    return int(stats["requests"].get("/api/v3/ticker/24hr", 0))


def test_thirty_cold_symbols_are_one_ticker_request_upstream() -> None:
    with (
        EmulatorProcess() as emulator,
        ServiceProcess(["--exchange-url", emulator.url], env={"REFRESH_AHEAD": "false"}) as svc,
    ):
        before = ticker_requests(emulator)
        response = httpx.post(f"{svc.url}/prices", json={"symbols": THIRTY}, timeout=30)
        assert response.status_code == 200, response.text
        results = response.json()["data"]["results"]
        assert [r["data"]["symbol"] for r in results] == THIRTY
        assert all(r["meta"]["source"] == "emulator" for r in results)
        assert ticker_requests(emulator) - before == 1
        upstream = httpx.get(f"{svc.url}/cache/stats").json()["data"]["upstream"]
        assert upstream["operations"]["tickers"] == {"calls": 1, "errors": 0, "weight": 40}
