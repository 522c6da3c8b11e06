"""`/cache/performance`: per-minute buckets after scripted minutes of load, summary, trend, 422s."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Harness
from tests.fakes import real_markets

SYMBOLS = [m.symbol for m in real_markets()]


async def performance(h: Harness, query: str = "?hours=1") -> dict[str, Any]:
    response = await h.client.get(f"/cache/performance{query}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["success"] is True
    data: dict[str, Any] = body["data"]
    return data


async def test_scripted_minutes_of_load_give_buckets_a_summary_and_a_trend(
    harness: Harness,
) -> None:
    h = harness
    # minute 1: 30 markets asked once each; all cold
    for symbol in SYMBOLS[:30]:
        await h.client.post("/price", json={"symbol": symbol})
    await h.clock.advance(60)
    # minute 2: 5 markets, each asked 11 times: 5 misses then 50 hits
    for _ in range(11):
        for symbol in SYMBOLS[:5]:
            await h.client.post("/price", json={"symbol": symbol})
    await h.clock.advance(60)

    data = await performance(h)
    assert data["hours"] == 1
    buckets = data["buckets"]
    assert len(buckets) == 3  # two closed minutes and the one running
    first, second, running = buckets
    assert (first["requests"], first["hit_rate"], first["lookups"]) == (30, 0.0, 60)
    assert first["upstream_calls"] >= 30  # one ticker each (refresh-ahead may add its own)
    assert second["requests"] == 55
    assert 5 <= second["upstream_calls"] < 30
    assert 80 < second["hit_rate"] <= 100  # 50 hits of about 60 lookups (refreshes add a few)
    assert first["minute"] < second["minute"] < running["minute"]
    assert running["partial"] is True
    assert "partial" not in first
    for bucket in (first, second):
        assert bucket["p50_ms"] <= bucket["p95_ms"] <= bucket["p99_ms"]
        assert bucket["rss_mb"] > 0  # cache_bytes is at the minute's end: expired by then
        assert bucket["errors"] == 0
        assert bucket["stale"] == 0
    assert second["upstream_weight"] == 2 * second["upstream_calls"]  # 2 per ticker
    summary = data["summary"]
    assert summary["requests"] == 85
    assert summary["upstream_calls"] == sum(b["upstream_calls"] for b in buckets)
    assert summary["lookups"] == sum(b["lookups"] for b in buckets)
    assert 0 < summary["hit_rate"] < second["hit_rate"]
    assert data["trend"]["hit_rate"] == "improving"
    assert data["trend"]["latency"] in ("improving", "stable", "degrading")
    assert data["trend"]["basis"]["hit_rate"][0] == 0.0


async def test_a_degrading_hit_rate_is_called_so(harness: Harness) -> None:
    h = harness
    for _ in range(10):  # minute 1: 2 markets, mostly hits
        for symbol in SYMBOLS[:2]:
            await h.client.post("/price", json={"symbol": symbol})
    await h.clock.advance(60)
    for symbol in SYMBOLS[100:130]:  # minute 2: all cold
        await h.client.post("/price", json={"symbol": symbol})
    await h.clock.advance(60)
    data = await performance(h)
    assert data["trend"]["hit_rate"] == "degrading"


async def test_the_window_covers_the_hours_asked(harness: Harness) -> None:
    h = harness
    await h.client.post("/price", json={"symbol": "BTC/USDT"})
    await h.clock.advance(90 * 60)
    one_hour = await performance(h, "?hours=1")
    two_hours = await performance(h, "?hours=2")
    assert 60 <= len(one_hour["buckets"]) <= 61
    assert len(two_hours["buckets"]) == 91  # 90 minutes so far, and the running one
    assert one_hour["summary"]["lookups"] == 0  # the price was asked 90 minutes ago
    assert two_hours["summary"]["lookups"] == 2  # its answer and its ticker
    assert (await performance(h, ""))["hours"] == 1  # the default
    week = await performance(h, "?hours=168")
    assert week["capacity_minutes"] == 7 * 24 * 60


@pytest.mark.parametrize("hours", ["0", "169", "-1", "abc", "1.5", ""])
async def test_hours_out_of_range_is_a_422_naming_hours(harness: Harness, hours: str) -> None:
    response = await harness.client.get(f"/cache/performance?hours={hours}")
    assert response.status_code == 422
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == "validation_error"
    assert body["error"]["fields"] == ["hours"]
    assert "hours" in body["error"]["message"]
