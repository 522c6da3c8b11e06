"""The checklist's commands of steps 2, 3, 4, 6, 7, 10 and 12 against the real server process."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator

import httpx
import pytest

from marketcache.commands.service_process import ServiceProcess
from marketcache.emulator.process import EmulatorProcess

pytestmark = pytest.mark.e2e

BTC = {"symbol": "BTC/USDT"}
ANALYSIS = {"symbol": "BTC/USDT", "timeframe": "15m"}


@pytest.fixture(scope="module")
def service() -> Iterator[ServiceProcess]:
    """`marketcache serve --offline` on a free port."""
    with ServiceProcess(["--offline"]) as process:
        yield process


def test_checklist_steps(service: ServiceProcess) -> None:
    with httpx.Client(base_url=service.url, timeout=30) as http:
        # Step 2: health
        health = http.get("/health")
        assert health.status_code == 200
        body = health.json()
        assert body["status"] == "healthy"
        assert body["service"] == "cached-market-data"
        assert body["version"] == "2.0.0"
        assert body["cache_enabled"] is True
        assert body["cache_stats"] == {"hit_rate": 0.0, "entries": 0, "memory_mb": 0.0}
        assert body["exchange"]["source"] == "emulator"

        # Step 3: cold stats are zero
        stats = http.get("/cache/stats").json()
        assert stats["success"] is True
        cold = stats["data"]["cache_stats"]
        for field in ("hit_rate", "entries", "memory_mb", "hits", "misses", "evictions"):
            assert cold[field] == 0, field

        # Step 4: functional
        price = http.post("/price", json=BTC)
        assert price.status_code == 200
        assert price.json()["data"]["last"] > 0
        assert price.json()["meta"]["source"] == "emulator"
        analysis = http.post("/comprehensive_analysis", json=ANALYSIS)
        assert analysis.status_code == 200
        assert analysis.json()["data"]["indicators"]["rsi"] is not None

        # Step 6: warming raises the entry count
        entries_before = http.get("/cache/stats").json()["data"]["cache_stats"]["entries"]
        warm = http.post("/cache/warm", json={"symbols": ["BTC/USDT", "ETH/USDT", "SOL/USDT"]})
        assert warm.status_code == 200
        assert all(r["status"] == "warmed" for r in warm.json()["data"]["results"].values())
        entries_after = http.get("/cache/stats").json()["data"]["cache_stats"]["entries"]
        assert entries_after > entries_before

        # Step 7: the same request five times; after the first, hits
        statuses = [
            http.post(
                "/comprehensive_analysis", json={"symbol": "SOL/USDT", "timeframe": "15m"}
            ).headers["X-Cache"]
            for _ in range(5)
        ]
        # served from the cache: fresh, or stale-while-revalidate if the machine was slow
        assert set(statuses[1:]) <= {"hit", "stale"}, statuses

        # Step 10: ten concurrent requests all succeed
        def post() -> int:
            return http.post("/comprehensive_analysis", json=ANALYSIS).status_code

        with concurrent.futures.ThreadPoolExecutor(10) as pool:
            codes = list(pool.map(lambda _: post(), range(10)))
        assert codes == [200] * 10

        # Step 12: every endpoint through the cached service
        assert http.get("/health").status_code == 200
        for path in ("/price", "/comprehensive_analysis", "/volume_spike", "/cvd"):
            response = http.post(path, json=BTC)
            assert response.status_code == 200, (path, response.text)
            assert response.json()["success"] is True
        final = http.get("/cache/stats").json()["data"]["cache_stats"]
        assert final["hits"] > 0
        assert final["hit_rate"] > 50


def test_warm_command(service: ServiceProcess, capsys: pytest.CaptureFixture[str]) -> None:
    from marketcache.cli import main

    code = main(["warm", "--url", service.url, "--symbols", "ADA/USDT,nope", "--timeframes", "1h"])
    out = capsys.readouterr().out
    assert code == 1  # one symbol could not be warmed
    assert "ADA/USDT       warmed" in out
    assert "nope" in out
    assert "unknown_symbol" in out or "invalid_parameter" in out
    statuses = [
        httpx.post(f"{service.url}/cvd", json={"symbol": "ADA/USDT", "timeframe": "1h"}).headers[
            "X-Cache"
        ]
    ]
    assert statuses[0] in {"hit", "stale"}


def test_warm_command_service_down(capsys: pytest.CaptureFixture[str]) -> None:
    from marketcache.cli import main
    from marketcache.netutil import free_port

    assert main(["warm", "--url", f"http://127.0.0.1:{free_port()}", "--timeout", "2"]) == 2
    assert "no service at http://127.0.0.1:" in capsys.readouterr().err


@pytest.fixture(scope="module")
def slow_exchange() -> Iterator[EmulatorProcess]:
    """An emulator answering in 150 ms."""
    with EmulatorProcess(latency_ms=150) as emulator:
        yield emulator


def klines_requests(emulator: EmulatorProcess) -> int:
    stats = httpx.get(f"{emulator.url}/_emulator/stats").json()
    return int(stats["requests"].get("/api/v3/klines", 0))


def test_one_klines_request_serves_everything(slow_exchange: EmulatorProcess) -> None:
    # Long freshness and no refresh-ahead, so a slow machine cannot make a refresh
    # happen inside the test; what is counted is the cost of the requests alone.
    env = {"REFRESH_AHEAD": "false", "KLINES_LIVE_FRESH_S": "60"}
    with (
        ServiceProcess(["--exchange-url", slow_exchange.url], env=env) as service,
        httpx.Client(base_url=service.url, timeout=30) as http,
    ):
        before = klines_requests(slow_exchange)
        request = {"symbol": "ETH/USDT", "timeframe": "1d"}
        with concurrent.futures.ThreadPoolExecutor(10) as pool:
            responses = list(
                pool.map(lambda _: http.post("/comprehensive_analysis", json=request), range(10))
            )
        assert [r.status_code for r in responses] == [200] * 10
        assert klines_requests(slow_exchange) - before == 1

        again = http.post("/comprehensive_analysis", json=request)
        assert again.headers["X-Cache"] == "hit"
        assert http.post("/volume_spike", json=request).status_code == 200
        assert http.post("/cvd", json=request).status_code == 200
        assert klines_requests(slow_exchange) - before == 1
