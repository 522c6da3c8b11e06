"""The checklist's steps 6, 7 and 8 in order, in process: warm, five analyses, cache health."""

from __future__ import annotations

from tests.api.conftest import Harness

WARMED = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
ANALYSIS = {"symbol": "BTC/USDT", "timeframe": "15m"}


async def test_steps_6_to_8_give_a_hit_rate_over_50_and_healthy(harness: Harness) -> None:
    h = harness
    # Step 6: warm the popular symbols
    warm = await h.client.post("/cache/warm", json={"symbols": WARMED})
    assert warm.status_code == 200
    assert all(r["status"] == "warmed" for r in warm.json()["data"]["results"].values())

    # Step 7: the same analysis five times
    statuses = []
    for _ in range(5):
        response = await h.client.post("/comprehensive_analysis", json=ANALYSIS)
        assert response.status_code == 200
        statuses.append(response.headers["X-Cache"])
    assert statuses == ["hit"] * 5  # warmed: even the first is served from the cache

    # Step 8: cache health
    response = await h.client.get("/cache/health")
    assert response.status_code == 200
    report = response.json()
    assert report["status"] == "healthy"
    assert report["reasons"] == []
    metrics = report["metrics"]
    assert metrics["hit_rate"] > 50
    assert metrics["hit_rate"] == 100.0
    assert metrics["hit_rate_basis"] == "client_requests_window"
    assert metrics["market_requests"] == 5
    assert metrics["memory_usage_percent"] < 80
    assert report["active_alerts"] == 0
    # the lookup-level figure is reported apart: warming's loads are misses there
    assert metrics["lookup_hit_rate"] < metrics["hit_rate"]
    health = (await h.client.get("/health")).json()
    assert health["status"] == "healthy"
    assert health["cache_stats"]["hit_rate"] == 100.0
