"""`/health` and `/cache/stats` keep the checklist's shapes and count what happened."""

from __future__ import annotations

import re

from marketcache.errors import ExchangeUnavailable
from tests.api.conftest import Harness, HarnessFactory


async def test_health_cold(harness: Harness) -> None:
    body = (await harness.client.get("/health")).json()
    assert body == {
        "status": "healthy",
        "reasons": [],
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


async def test_health_unhealthy_when_exchange_unreachable_and_the_cache_empty(
    harness: Harness,
) -> None:
    harness.source.fail_with = ExchangeUnavailable("down")
    response = await harness.client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["reasons"] == ["exchange unreachable", "nothing servable in the cache"]
    assert body["exchange"]["reachable"] is False
    assert (await harness.client.head("/health")).status_code == 503
    cache_health = await harness.client.get("/cache/health")
    assert cache_health.status_code == 503
    assert cache_health.json()["status"] == "unhealthy"
    assert cache_health.json()["reasons"] == body["reasons"]
    # what the 503 promises: a market request cannot be served
    assert (await harness.client.post("/price", json={"symbol": "BTC/USDT"})).status_code == 503


async def test_health_unhealthy_for_the_uncached_service_with_the_exchange_down(
    make_harness: HarnessFactory,
) -> None:
    harness = await make_harness(no_cache=True)
    harness.source.fail_with = ExchangeUnavailable("down")
    response = await harness.client.get("/health")
    assert response.status_code == 503
    assert response.json()["reasons"] == ["exchange unreachable", "no cache"]


async def test_health_degraded_while_stale_copies_are_served(harness: Harness) -> None:
    h = harness
    warm = await h.client.post("/cache/warm", json={"symbols": ["BTC/USDT", "ETH/USDT"]})
    assert warm.status_code == 200
    h.source.fail_with = ExchangeUnavailable("down")
    await h.clock.advance(10)  # past every fresh window, inside every stale window
    served = await h.client.post("/price", json={"symbol": "BTC/USDT"})
    assert served.status_code == 200
    assert served.headers["X-Cache"] == "stale"
    analysis = await h.client.post("/comprehensive_analysis", json={"symbol": "ETH/USDT"})
    assert (analysis.status_code, analysis.headers["X-Cache"]) == (200, "stale")

    response = await h.client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["exchange"]["reachable"] is False
    first, second = body["reasons"]
    assert first == "exchange unreachable"
    assert re.fullmatch(r"serving \d+ stale entries", second), second
    stale = int(second.split()[1])
    assert stale >= 4  # the two prices and two candle series, their answers too

    cache_health = await h.client.get("/cache/health")
    assert cache_health.status_code == 200
    report = cache_health.json()
    assert (report["status"], report["reasons"]) == ("degraded", body["reasons"])
    assert report["serving"]["entries"]["stale"] == stale
    assert report["serving"]["exchange_reachable"] is False

    await h.clock.advance(3600)  # every stale window over: nothing is servable any more
    response = await h.client.get("/health")
    assert response.status_code == 503
    assert response.json()["reasons"] == ["exchange unreachable", "nothing servable in the cache"]


async def test_health_hit_rate_is_the_clients_and_warming_does_not_count(
    harness: Harness,
) -> None:
    h = harness
    warm = await h.client.post("/cache/warm", json={"symbols": ["BTC/USDT"]})
    assert warm.status_code == 200
    body = (await h.client.get("/health")).json()
    assert body["cache_stats"]["hit_rate"] == 0.0  # no client request yet
    assert body["cache_stats"]["entries"] > 0
    for _ in range(3):
        response = await h.client.post("/comprehensive_analysis", json={"symbol": "BTC/USDT"})
        assert response.headers["X-Cache"] == "hit"
    await h.client.post("/price", json={"symbol": "nope!"})  # a client's mistake: not counted
    body = (await h.client.get("/health")).json()
    assert body["cache_stats"]["hit_rate"] == 100.0
    lookups = (await h.client.get("/cache/stats")).json()["data"]["cache_stats"]
    assert lookups["hit_rate"] < 100.0  # the lookup-level rate counts warming's misses


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
