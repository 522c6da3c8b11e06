"""The checklist's steps 3, 6, 8 and 9 over HTTP against the real server process (offline)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from marketcache.commands.service_process import ServiceProcess
from marketcache.emulator.control import EmulatorControl
from marketcache.emulator.process import EmulatorProcess

pytestmark = pytest.mark.e2e

WARMED = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]


@pytest.fixture(scope="module")
def service() -> Iterator[ServiceProcess]:
    """`marketcache serve --offline` on a free port, logging JSON."""
    with ServiceProcess(["--offline"], env={"LOG_FORMAT": "json"}) as process:
        yield process


def test_checklist_monitoring_steps(service: ServiceProcess) -> None:
    with httpx.Client(base_url=service.url, timeout=30) as http:
        # Step 3: cache statistics of a cold cache are zero
        stats = http.get("/cache/stats")
        assert stats.status_code == 200
        cold = stats.json()["data"]["cache_stats"]
        for field in ("hit_rate", "entries", "memory_mb", "hits", "misses", "evictions"):
            assert cold[field] == 0, field

        # Step 6: warming the popular symbols increases the entries
        warm = http.post("/cache/warm", json={"symbols": WARMED})
        assert warm.status_code == 200
        assert all(r["status"] == "warmed" for r in warm.json()["data"]["results"].values())
        warmed = http.get("/cache/stats").json()["data"]["cache_stats"]
        assert warmed["entries"] > cold["entries"]

        # ... and the hit rate improves on subsequent requests
        for _ in range(15):
            for symbol in WARMED:
                assert http.post("/price", json={"symbol": symbol}).status_code == 200
                body = {"symbol": symbol, "timeframe": "15m"}
                assert http.post("/comprehensive_analysis", json=body).status_code == 200
        after = http.get("/cache/stats").json()["data"]["cache_stats"]
        assert after["hit_rate"] > warmed["hit_rate"]

        # Step 8: cache health
        health = http.get("/cache/health")
        assert health.status_code == 200
        report = health.json()
        assert report["status"] == "healthy", report["alerts"]
        assert report["metrics"]["hit_rate"] > 50
        assert report["metrics"]["memory_usage_percent"] < 80
        assert report["active_alerts"] == 0
        assert report["alerts"] == []
        assert report["metrics"]["avg_response_time_ms"] > 0
        assert report["metrics"]["rss_mb"] > 0
        assert report["tasks"]["monitor.sampler"]["running"] is True

        # Step 9: performance trends and recommendations
        performance = http.get("/cache/performance", params={"hours": 1})
        assert performance.status_code == 200
        data = performance.json()["data"]
        assert data["buckets"], data
        assert sum(b["requests"] for b in data["buckets"]) >= 90
        assert data["summary"]["requests"] >= 90
        assert data["trend"]["hit_rate"] in ("improving", "stable")
        recommendations = http.get("/cache/recommendations")
        assert recommendations.status_code == 200
        advice = recommendations.json()["data"]["recommendations"]
        assert not [r for r in advice if r["severity"] == "critical"], advice
        assert http.get("/cache/performance", params={"hours": 169}).status_code == 422

        # Prometheus scrapes the same service
        metrics = http.get("/metrics")
        assert metrics.status_code == 200
        assert 'marketcache_requests_total{cache="hit",endpoint="/price"' in metrics.text

    # one JSON log line per request, with its method, path, status, cache status, latency
    # (written off the request path: wait for the writer)
    prices: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    while len(prices) < 45 and time.monotonic() < deadline:
        lines = [orjson.loads(ln) for ln in service.log().splitlines() if ln.startswith("{")]
        access = [line for line in lines if line.get("logger") == "marketcache.access"]
        prices = [line for line in access if line["path"] == "/price"]
        time.sleep(0.05)
    assert len(prices) == 45
    assert {line["cache"] for line in prices} <= {"hit", "stale", "miss", "coalesced"}
    assert all(line["status"] == 200 and line["latency_ms"] >= 0 for line in prices)
    assert all(line["method"] == "POST" for line in prices)


def test_checklist_steps_6_to_8_in_order_give_over_50_percent_and_healthy() -> None:
    """Steps 6, 7 and 8 literally, on a fresh process: warm, five analyses, cache health."""
    with (
        ServiceProcess(["--offline"]) as fresh,
        httpx.Client(base_url=fresh.url, timeout=30) as http,
    ):
        warm = http.post("/cache/warm", json={"symbols": WARMED})
        assert warm.status_code == 200
        assert all(r["status"] == "warmed" for r in warm.json()["data"]["results"].values())
        for _ in range(5):
            response = http.post(
                "/comprehensive_analysis", json={"symbol": "BTC/USDT", "timeframe": "15m"}
            )
            assert response.status_code == 200
        health = http.get("/cache/health")
        assert health.status_code == 200
        report = health.json()
        assert report["status"] == "healthy", report
        assert report["metrics"]["hit_rate"] > 50, report["metrics"]
        assert report["metrics"]["hit_rate_basis"] == "client_requests_window"
        assert report["metrics"]["market_requests"] == 5
        assert report["metrics"]["memory_usage_percent"] < 80
        assert report["active_alerts"] == 0, report["alerts"]


def poll_health(http: httpx.Client, status_code: int, timeout_s: float = 60.0) -> httpx.Response:
    """GET /health until it answers `status_code` (the service re-pings every 10 s)."""
    deadline = time.monotonic() + timeout_s
    while True:
        response = http.get("/health")
        if response.status_code == status_code or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


def test_health_is_503_when_the_exchange_is_unreachable_and_nothing_is_cached() -> None:
    with (
        EmulatorProcess() as emulator,
        ServiceProcess(["--exchange-url", emulator.url]) as service,
        httpx.Client(base_url=service.url, timeout=30) as http,
        EmulatorControl(emulator.url) as control,
    ):
        assert http.get("/health").status_code == 200
        control.set_faults("503", ratio=1)
        response = poll_health(http, 503)
        assert response.status_code == 503, response.text
        body = response.json()
        assert body["status"] == "unhealthy"
        assert body["reasons"] == ["exchange unreachable", "nothing servable in the cache"]
        assert http.get("/cache/health").status_code == 503
        assert http.post("/price", json={"symbol": "BTC/USDT"}).status_code == 503

        control.clear_faults()
        response = poll_health(http, 200)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "healthy"
