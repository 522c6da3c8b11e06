"""Each checklist alert fires and clears over HTTP; the clock and the fake exchange are driven."""

from __future__ import annotations

from typing import Any

from marketcache.clock import settle
from marketcache.errors import ExchangeUnavailable
from tests.api.conftest import Harness, HarnessFactory
from tests.fakes import real_markets

SYMBOLS = [m.symbol for m in real_markets()]


async def health(h: Harness) -> dict[str, Any]:
    response = await h.client.get("/cache/health")
    assert response.status_code == 200
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
    assert metrics["hit_rate"] == 66.67  # 2 misses (the answer and its ticker), then 4 hits
    assert metrics["requests"] == 5
    assert metrics["rss_mb"] > 0
    assert set(body["tasks"]) >= {"cache.purge", "cache.refresh_ahead", "monitor.sampler"}
    assert body["tasks"]["monitor.sampler"]["running"] is True


async def test_hit_rate_alert_spares_a_cold_cache_then_fires_escalates_and_clears(
    harness: Harness,
) -> None:
    h = harness
    for symbol in SYMBOLS[:40]:  # 40 cold answers: 80 lookups, all misses
        assert await price(h, symbol) == "miss"
    body = await health(h)
    assert body["metrics"]["hit_rate"] == 0.0
    assert alert(body, "hit_rate_low") is None  # under 100 lookups: a cold cache, not an alert
    assert body["status"] == "healthy"

    for symbol in SYMBOLS[40:60]:  # 120 lookups, all misses
        await price(h, symbol)
    body = await health(h)
    fired = alert(body, "hit_rate_low")
    assert fired is not None
    assert (fired["severity"], fired["value"], fired["threshold"]) == ("critical", 0.0, 50.0)
    assert body["status"] == "unhealthy"
    since = fired["since"]

    for _ in range(3):  # the same 60 again, three times: 180 hits of 300 lookups = 60 %
        for symbol in SYMBOLS[:60]:
            assert await price(h, symbol) == "hit"
    body = await health(h)
    fired = alert(body, "hit_rate_low")
    assert fired is not None
    assert (fired["severity"], fired["value"], fired["threshold"]) == ("warning", 60.0, 70.0)
    assert fired["since"] == since  # the same episode
    assert body["status"] == "degraded"

    for _ in range(4):  # 420 hits of 540 lookups = 77.8 %
        for symbol in SYMBOLS[:60]:
            await price(h, symbol)
    body = await health(h)
    assert alert(body, "hit_rate_low") is None
    assert body["status"] == "healthy"
    assert [a["name"] for a in body["recently_resolved"]] == ["hit_rate_low"]


async def test_memory_alert_fires_as_the_tiny_bound_fills_and_clears_when_emptied(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness(cache_max_memory_mb=0.1)
    seen: dict[str, dict[str, Any]] = {}
    for symbol in SYMBOLS:
        await price(h, symbol)
        for _ in range(6):  # keep the hit rate above 70 %: only memory should speak
            await price(h, symbol)
        body = await health(h)
        used = body["metrics"]["memory_usage_percent"]
        fired = alert(body, "memory_high")
        if used <= 80:
            assert fired is None, used
        elif used <= 90:
            assert fired is not None, used
            assert fired["severity"] == "warning", used
            seen.setdefault("warning", body)
        else:
            assert fired is not None, used
            assert fired["severity"] == "critical", used
            seen["critical"] = body
            break
    assert set(seen) == {"warning", "critical"}
    assert seen["warning"]["status"] == "degraded"
    assert seen["critical"]["status"] == "unhealthy"
    assert [a["name"] for a in seen["critical"]["alerts"]] == ["memory_high"]

    cleared = await h.client.post("/cache/clear", json={})
    assert cleared.status_code == 200
    body = await health(h)
    assert body["metrics"]["memory_usage_percent"] == 0.0
    assert alert(body, "memory_high") is None
    assert body["status"] == "healthy"


async def test_error_rate_alert_fires_while_the_exchange_fails_and_clears_after(
    harness: Harness,
) -> None:
    h = harness
    h.source.fail_with = ExchangeUnavailable("exchange down (injected)")
    for symbol in SYMBOLS[:25]:
        response = await h.client.post("/price", json={"symbol": symbol})
        assert response.status_code == 503
    body = await health(h)
    fired = alert(body, "error_rate_high")
    assert fired is not None
    assert (fired["severity"], fired["value"], fired["threshold"]) == ("critical", 100.0, 5.0)
    assert body["metrics"]["error_rate"] == 100.0
    assert body["status"] == "unhealthy"
    assert alert(body, "serving_stale_exchange_failing") is None  # nothing was stale to serve

    h.source.fail_with = None
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
