"""A hung exchange call does not keep a hot price stale: the refresh is hedged."""

from __future__ import annotations

import time

import httpx
import pytest

from marketcache.commands.service_process import ServiceProcess
from marketcache.emulator.control import EmulatorControl
from marketcache.emulator.process import EmulatorProcess

pytestmark = pytest.mark.e2e

WATCH_S = 12.0  # several fresh windows of a price (2 s) after the call hangs


def test_a_hung_ticker_call_does_not_keep_a_hot_price_stale() -> None:
    with (
        EmulatorProcess(latency_ms=20) as emulator,
        ServiceProcess(["--exchange-url", emulator.url], env={"LOG_LEVEL": "warning"}) as svc,
        httpx.Client(base_url=svc.url, timeout=30) as http,
    ):
        for _ in range(20):  # a hot key, with a typical load time learnt
            assert http.post("/price", json={"symbol": "BTC/USDT"}).status_code == 200
            time.sleep(0.1)
        EmulatorControl(emulator.url).set_faults("hang", count=1, path="/api/v3/ticker/24hr")
        ages: list[int] = []
        deadline = time.monotonic() + WATCH_S
        while time.monotonic() < deadline:
            response = http.post("/price", json={"symbol": "BTC/USDT"})
            assert response.status_code == 200, response.text
            ages.append(response.json()["meta"]["age_ms"])
            time.sleep(0.1)
        stats = httpx.get(f"{emulator.url}/_emulator/stats").json()
        tickers = stats["requests"].get("/api/v3/ticker/24hr", 0)
    # the exchange's timeout is 10 s: without hedging the price would age that long
    assert max(ages) <= 6000, max(ages)
    assert ages[-1] <= 4000, ages[-10:]
    assert tickers >= 3  # the hung call, its hedge, and refreshes after
