"""Each checklist alert fires and clears over HTTP; the clock and the fake exchange are driven."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from marketcache.clock import settle
from marketcache.errors import ExchangeUnavailable
from marketcache.monitoring import memory
from marketcache.monitoring.memory import MB
from tests.api.conftest import Harness, HarnessFactory
from tests.fakes import real_markets

SYMBOLS = [m.symbol for m in real_markets()]


async def health(h: Harness, status_code: int = 200) -> dict[str, Any]:
    response = await h.client.get("/cache/health")
    assert response.status_code == status_code, response.text
    body: dict[str, Any] = response.json()
    assert body["active_alerts"] == len(body["alerts"])
    return body


def alert(body: dict[str, Any], name: str) -> dict[str, Any] | None:
    found = [a for a in body["alerts"] if a["name"] == name]
    return found[0] if found else None


async def price(h: Harness, symbol: str) -> str:
    response = await h.client.post("/price", json={"symbol": symbol})
    assert response.status_code == 200, response.text
    return response.headers["X-Cache"]


async def test_a_healthy_cache_reports_healthy_with_the_checklist_shape(
    harness: Harness,
) -> None:
    for _ in range(5):
        await price(harness, "BTC/USDT")
    body = await health(harness)
    assert body["status"] == "healthy"
    assert body["active_alerts"] == 0
    metrics = body["metrics"]
    for field in (
        "hit_rate",
        "memory_usage_percent",
        "avg_response_time_ms",
        "p95_response_time_ms",
        "error_rate",
        "rss_mb",
        "upstream_calls_per_minute",
    ):
        assert isinstance(metrics[field], float | int), field
    assert metrics["hit_rate"] == 80.0  # the clients': 1 miss, then 4 hits
    assert metrics["hit_rate_basis"] == "client_requests_window"
    assert metrics["lookup_hit_rate"] == 66.67  # 2 misses (the answer and its ticker), 4 hits
    assert metrics["requests"] == 5
    assert metrics["market_requests"] == 5
    assert metrics["rss_mb"] > 0
    assert set(body["tasks"]) >= {"cache.purge", "cache.refresh_ahead", "monitor.sampler"}
    assert body["tasks"]["monitor.sampler"]["running"] is True


async def test_hit_rate_alert_spares_a_cold_cache_then_fires_escalates_and_clears(
    harness: Harness,
) -> None:
    h = harness
    for symbol in SYMBOLS[:19]:  # 19 cold answers: under 20 market requests, a cold cache
        assert await price(h, symbol) == "miss"
    warm = await h.client.post("/cache/warm", json={"symbols": SYMBOLS[100:110]})
    assert warm.status_code == 200  # warming is not a client request: it counts for nothing
    body = await health(h)
    assert body["metrics"]["hit_rate"] == 0.0
    assert body["metrics"]["market_requests"] == 19
    assert alert(body, "hit_rate_low") is None
    assert body["status"] == "healthy"

    for symbol in SYMBOLS[19:30]:  # 30 market requests, all misses
        await price(h, symbol)
    body = await health(h)
    fired = alert(body, "hit_rate_low")
    assert fired is not None
    assert (fired["severity"], fired["value"], fired["threshold"]) == ("critical", 0.0, 50.0)
    assert "30 market requests" in fired["message"]
    assert body["status"] == "healthy"  # it serves: the alert says how well, not whether
    since = fired["since"]

    for _ in range(2):  # the same 30 again, twice: 60 hits of 90 market requests = 66.67 %
        for symbol in SYMBOLS[:30]:
            assert await price(h, symbol) == "hit"
    body = await health(h)
    fired = alert(body, "hit_rate_low")
    assert fired is not None
    assert (fired["severity"], fired["value"], fired["threshold"]) == ("warning", 66.67, 70.0)
    assert fired["since"] == since  # the same episode

    for _ in range(4):  # 180 hits of 210 = 85.7 %
        for symbol in SYMBOLS[:30]:
            await price(h, symbol)
    body = await health(h)
    assert alert(body, "hit_rate_low") is None
    assert body["metrics"]["hit_rate"] == 85.71
    assert [a["name"] for a in body["recently_resolved"]] == ["hit_rate_low"]


def cgroup_limit(monkeypatch: pytest.MonkeyPatch, root: Path, limit_bytes: int) -> None:
    """A cgroup v2 memory limit the service's next monitor reads."""
    (root / "memory.max").write_text(f"{limit_bytes}\n")
    monkeypatch.setattr(memory, "CGROUP_ROOT", root)


async def test_a_cache_filled_past_its_bound_is_not_a_memory_alert(
    make_harness: HarnessFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cgroup_limit(monkeypatch, tmp_path, 64 * 1024 * MB)  # a 64 GiB container
    h = await make_harness(cache_max_memory_mb=0.1)
    for symbol in SYMBOLS[:80]:
        await price(h, symbol)
        for _ in range(6):  # keep the hit rate above 70 %: only memory could speak
            await price(h, symbol)
    stats = (await h.client.get("/cache/stats")).json()["data"]["cache_stats"]
    assert stats["evictions"] > 0  # the bound was reached and held
    body = await health(h)
    metrics = body["metrics"]
    assert metrics["cache_fill_percent"] > 90
    assert metrics["memory_limit_source"] == "cgroup"
    assert metrics["memory_limit_mb"] == 64 * 1024
    assert metrics["memory_usage_percent"] < 80
    assert metrics["memory_usage_percent"] == round(metrics["rss_mb"] / (64 * 1024) * 100, 2)
    assert alert(body, "memory_high") is None
    assert body["active_alerts"] == 0
    assert body["status"] == "healthy"


async def test_the_process_over_its_memory_limit_is_a_critical_alert(
    make_harness: HarnessFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cgroup_limit(monkeypatch, tmp_path, 16 * MB)  # this test process holds far more than that
    h = await make_harness()
    body = await health(h)
    fired = alert(body, "memory_high")
    assert fired is not None
    assert (fired["severity"], fired["threshold"]) == ("critical", 90.0)
    assert body["metrics"]["memory_usage_percent"] > 100
    assert "limit (cgroup" in fired["message"]
    assert body["status"] == "healthy"


async def test_without_a_cgroup_limit_memory_is_against_memory_limit_mb(
    make_harness: HarnessFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "memory.max").write_text("max\n")
    monkeypatch.setattr(memory, "CGROUP_ROOT", tmp_path)
    h = await make_harness(memory_limit_mb=100_000)
    metrics = (await health(h))["metrics"]
    assert (metrics["memory_limit_mb"], metrics["memory_limit_source"]) == (100_000, "setting")
    assert metrics["memory_usage_percent"] == round(metrics["rss_mb"] / 100_000 * 100, 2)


async def test_error_rate_alert_fires_while_the_exchange_fails_and_clears_after(
    harness: Harness,
) -> None:
    h = harness
    h.source.fail_with = ExchangeUnavailable("exchange down (injected)")
    for symbol in SYMBOLS[:25]:
        response = await h.client.post("/price", json={"symbol": symbol})
        assert response.status_code == 503
    body = await health(h, 503)  # unreachable, nothing cached: it cannot serve
    fired = alert(body, "error_rate_high")
    assert fired is not None
    assert (fired["severity"], fired["value"], fired["threshold"]) == ("critical", 100.0, 5.0)
    assert body["metrics"]["error_rate"] == 100.0
    assert body["status"] == "unhealthy"
    assert body["reasons"] == ["exchange unreachable", "nothing servable in the cache"]
    assert alert(body, "serving_stale_exchange_failing") is None  # nothing was stale to serve

    h.source.fail_with = None
    h.forget_ping()
    await h.clock.advance(6 * 60)  # the failures leave the 5-minute window
    for symbol in SYMBOLS[:5]:
        await price(h, symbol)
    body = await health(h)
    assert alert(body, "error_rate_high") is None
    assert body["metrics"]["error_rate"] == 0.0
    assert body["status"] == "healthy"


async def test_stale_answers_during_an_outage_raise_their_own_alert(harness: Harness) -> None:
    h = harness
    assert await price(h, "BTC/USDT") == "miss"
    assert (await health(h))["status"] == "healthy"

    h.source.fail_with = ExchangeUnavailable("exchange down (injected)")
    await h.clock.advance(3)  # past the price's 2 s freshness, inside its stale window
    assert await price(h, "BTC/USDT") == "stale"  # grace: the client still gets an answer
    await settle()  # the background refresh runs, and fails
    body = await health(h)
    fired = alert(body, "serving_stale_exchange_failing")
    assert fired is not None
    assert fired["severity"] == "warning"
    assert body["status"] == "degraded"
    assert body["metrics"]["error_rate"] == 0.0  # grace hides the outage from the error rate...
    assert body["metrics"]["stale_answers"] >= 1  # ...not from the health report

    h.source.fail_with = None
    await h.clock.advance(1.5)  # past the error back-off: the next stale read refreshes
    assert await price(h, "BTC/USDT") in ("stale", "hit")
    await settle()
    body = await health(h)
    assert alert(body, "serving_stale_exchange_failing") is None
    assert body["status"] == "healthy"
