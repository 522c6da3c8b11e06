"""`/cache/recommendations`: memory advice when hot keys are evicted; nothing on a healthy cache."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Harness, HarnessFactory
from tests.fakes import real_markets

SYMBOLS = [m.symbol for m in real_markets()]
WARMED = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]


async def recommendations(h: Harness) -> list[dict[str, Any]]:
    response = await h.client.get("/cache/recommendations")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    found: list[dict[str, Any]] = body["data"]["recommendations"]
    return found


async def test_a_healthy_warmed_cache_gets_no_advice(harness: Harness) -> None:
    h = harness
    warm = await h.client.post("/cache/warm", json={"symbols": WARMED})
    assert warm.status_code == 200
    for _ in range(10):
        for symbol in WARMED:
            assert (await h.client.post("/price", json={"symbol": symbol})).status_code == 200
            for path in ("/comprehensive_analysis", "/volume_spike", "/cvd"):
                response = await h.client.post(path, json={"symbol": symbol, "timeframe": "15m"})
                assert response.headers["X-Cache"] == "hit"
    stats = (await h.client.get("/cache/stats")).json()["data"]["cache_stats"]
    assert stats["lookups"] >= 100  # enough evidence for every rule to have looked
    assert await recommendations(h) == []
    assert (await h.client.get("/cache/health")).json()["status"] == "healthy"


async def test_hot_keys_evicted_from_a_tiny_cache_ask_for_more_memory(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness(cache_max_memory_mb=0.05)
    hot = SYMBOLS[:60]  # more than the bound holds: each pass evicts what the next one needs
    for _ in range(3):
        for symbol in hot:
            assert (await h.client.post("/price", json={"symbol": symbol})).status_code == 200
    found = {r["id"]: r for r in await recommendations(h)}
    memory = found["memory_too_small"]
    assert memory["severity"] == "warning"
    assert memory["setting"] == "CACHE_MAX_MEMORY_MB"
    assert memory["suggested"] == 0.1
    assert memory["evidence"]["evictions"] > 0
    assert memory["evidence"]["cache_fill_percent"] >= 80
    assert memory["evidence"]["cache_max_memory_mb"] == 0.05
    below = found["hit_rate_below_target"]
    assert below["setting"] == "CACHE_MAX_MEMORY_MB"
    assert "evicted" in below["message"]
    stats = (await h.client.get("/cache/stats")).json()["data"]["cache_stats"]
    assert memory["evidence"]["evictions"] == stats["evictions"]


async def test_symbols_that_keep_missing_are_worth_warming(harness: Harness) -> None:
    h = harness
    for _ in range(6):  # each read after the price's stale window: every one is cold
        await h.client.post("/price", json={"symbol": "doge/usdt"})
        await h.client.post("/price", json={"symbol": "DOGEUSDT"})
        await h.clock.advance(40)
    found = {r["id"]: r for r in await recommendations(h)}
    warm = found["warm_symbols"]
    assert warm["suggested"] == {"symbols": ["DOGE/USDT"]}  # the spellings merge
    assert warm["evidence"]["cold_answers"]["DOGE/USDT"]["cold"] >= 6
