"""`/health` and `/cache/stats` keep the checklist's shapes and count what happened."""

from __future__ import annotations

from marketcache.errors import ExchangeUnavailable
from tests.api.conftest import Harness, HarnessFactory


async def test_health_cold(harness: Harness) -> None:
    body = (await harness.client.get("/health")).json()
    assert body == {
        "status": "healthy",
        "service": "cached-market-data",
        "version": "2.0.0",
        "cache_enabled": True,
        "cache_stats": {"hit_rate": 0.0, "entries": 0, "memory_mb": 0.0},
        "exchange": {"id": "binance", "source": "emulator", "reachable": True},
    }


async def test_health_uncached_names_the_original_service(make_harness: HarnessFactory) -> None:
    harness = await make_harness(no_cache=True)
    body = (await harness.client.get("/health")).json()
    assert body["service"] == "market-data"
    assert body["cache_enabled"] is False


async def test_health_degraded_when_exchange_unreachable(harness: Harness) -> None:
    harness.source.fail_with = ExchangeUnavailable("down")
    response = await harness.client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["exchange"]["reachable"] is False


async def test_stats_cold_are_zero(harness: Harness) -> None:
    body = (await harness.client.get("/cache/stats")).json()
    assert body["success"] is True
    stats = body["data"]["cache_stats"]
    for field in ("hit_rate", "entries", "memory_mb", "hits", "misses", "evictions"):
        assert stats[field] == 0, field


async def test_stats_count_hits_and_misses(harness: Harness) -> None:
    for _ in range(4):
        await harness.client.post("/price", json={"symbol": "BTC/USDT"})
    stats = (await harness.client.get("/cache/stats")).json()["data"]["cache_stats"]
    # one answer miss (and the ticker miss behind it), then three answer hits
    assert stats["hits"] == 3
    assert stats["misses"] == 2
    assert stats["entries"] == 2
    assert stats["hit_rate"] == 60.0
    assert stats["memory_mb"] > 0
    upstream = (await harness.client.get("/cache/stats")).json()["data"]["upstream"]
    assert upstream["operations"]["ticker"]["calls"] == 1
