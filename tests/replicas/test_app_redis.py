"""The app with REDIS_URL: L1 and L2 shown apart in /cache/stats and /health (in-process)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.conftest import HarnessFactory, make_harness  # noqa: F401 (fixture)
from tests.cache.redis_server import RedisServer, unique_prefix


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis of the test's own; it stops before the app does (fixtures end in reverse),
    so the app's shutdown meets a Redis already gone, as when Redis dies first."""
    if not RedisServer.available():
        pytest.skip("no redis-server")
    server = RedisServer().start()
    yield server.url
    server.close()


async def test_stats_and_health_show_l1_and_l2_apart(
    make_harness: HarnessFactory,  # noqa: F811
    redis_url: str,
) -> None:
    harness = await make_harness(
        redis_url=redis_url, redis_prefix=unique_prefix(), redis_timeout_ms=2000
    )
    body = {"symbol": "BTC/USDT"}
    assert (await harness.client.post("/price", json=body)).status_code == 200
    await harness.clock.advance(0.5)
    assert (await harness.client.post("/price", json=body)).headers["x-cache"] == "hit"
    data = (await harness.client.get("/cache/stats")).json()["data"]
    l1, l2 = data["cache_levels"]["l1"], data["cache_levels"]["l2"]
    assert l1["hits"] >= 1
    assert l1["entries"] == data["cache_stats"]["entries"]
    assert (l2["enabled"], l2["shared"], l2["state"], l2["errors"]) == (True, True, "up", 0)
    assert l2["get_latency_ms"]["samples"] >= 1
    budget = data["upstream"]["rate_budget"]  # with Redis: shared by the replicas
    assert (budget["limit"], budget["shared"]) == (harness.settings.exchange_weight_limit, True)
    health = (await harness.client.get("/health")).json()
    assert health["cache_levels"]["l2"]["state"] == "up"
    assert health["cache_levels"]["l1"]["entries"] == l1["entries"]


async def test_an_unreachable_redis_is_l1_alone_never_an_error(
    make_harness: HarnessFactory,  # noqa: F811
) -> None:
    from marketcache.netutil import free_port

    harness = await make_harness(
        redis_url=f"redis://127.0.0.1:{free_port()}/0", redis_prefix=unique_prefix()
    )
    for _ in range(3):
        response = await harness.client.post("/price", json={"symbol": "BTC/USDT"})
        assert response.status_code == 200
    l2 = (await harness.client.get("/cache/stats")).json()["data"]["cache_levels"]["l2"]
    assert l2["state"] in ("down", "retrying")
    assert l2["errors"] >= 1
    health = (await harness.client.get("/cache/health")).json()
    assert "l2_unavailable" in {alert["name"] for alert in health["alerts"]}
