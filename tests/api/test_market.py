"""The market endpoints over the fake exchange: shapes, meta, and what reaches upstream."""

from __future__ import annotations

import asyncio

import pytest

from marketcache.errors import ExchangeUnavailable
from tests.api.conftest import Harness, HarnessFactory

ANALYSIS = {"symbol": "BTC/USDT", "timeframe": "15m"}


async def test_price_shape_and_meta(harness: Harness) -> None:
    response = await harness.client.post("/price", json={"symbol": "BTC/USDT"})
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    data = body["data"]
    for field in ("last", "bid", "ask", "change", "change_percent", "high", "low"):
        assert isinstance(data[field], float), field
    assert data["symbol"] == "BTC/USDT"
    assert isinstance(data["timestamp"], int)
    meta = body["meta"]
    assert meta["cache"] == "miss" == response.headers["X-Cache"]
    assert meta["source"] == "emulator"
    assert meta["exchange"] == "binance"
    assert meta["age_ms"] == 0
    assert meta["fetched_at"].endswith("Z")


async def test_second_identical_request_is_a_hit_with_no_upstream_call(harness: Harness) -> None:
    first = await harness.client.post("/comprehensive_analysis", json=ANALYSIS)
    await harness.clock.advance(1.0)
    second = await harness.client.post("/comprehensive_analysis", json=ANALYSIS)
    assert first.headers["X-Cache"] == "miss"
    assert second.headers["X-Cache"] == "hit"
    assert second.json()["meta"]["age_ms"] == 1000
    assert second.json()["data"] == first.json()["data"]
    assert harness.source.calls["ohlcv"] == 1


@pytest.mark.parametrize("spelling", ["btcusdt", "BTC-USDT", "btc/usdt", "BTC_USDT", "BTCUSDT"])
async def test_spellings_share_one_entry(harness: Harness, spelling: str) -> None:
    await harness.client.post("/price", json={"symbol": "BTC/USDT"})
    response = await harness.client.post("/price", json={"symbol": spelling})
    assert response.headers["X-Cache"] == "hit"
    assert response.json()["data"]["symbol"] == "BTC/USDT"
    assert harness.source.calls["ticker"] == 1


async def test_one_candle_fetch_serves_all_three_candle_endpoints(harness: Harness) -> None:
    await harness.client.post("/comprehensive_analysis", json=ANALYSIS)
    spike = await harness.client.post("/volume_spike", json=ANALYSIS)
    cvd = await harness.client.post("/cvd", json=ANALYSIS)
    assert spike.status_code == cvd.status_code == 200
    assert harness.source.calls["ohlcv"] == 1


async def test_concurrent_cold_requests_cost_one_fetch(harness: Harness) -> None:
    harness.source.gate = asyncio.Event()
    requests = [
        asyncio.create_task(harness.client.post("/comprehensive_analysis", json=ANALYSIS))
        for _ in range(10)
    ]
    await asyncio.sleep(0.05)
    harness.source.gate.set()
    responses = await asyncio.gather(*requests)
    assert all(r.status_code == 200 for r in responses)
    statuses = sorted(r.headers["X-Cache"] for r in responses)
    assert statuses.count("miss") == 1
    assert statuses.count("coalesced") == 9
    assert harness.source.calls["ohlcv"] == 1


async def test_expired_answer_is_recomputed(harness: Harness) -> None:
    await harness.client.post("/price", json={"symbol": "ETH/USDT"})
    await harness.clock.advance(
        harness.settings.ticker_fresh_s + harness.settings.ticker_stale_s + 1
    )
    response = await harness.client.post("/price", json={"symbol": "ETH/USDT"})
    assert response.headers["X-Cache"] == "miss"
    assert harness.source.calls["ticker"] == 2


async def test_exchange_down_serves_the_stale_copy(harness: Harness) -> None:
    await harness.client.post("/price", json={"symbol": "BTC/USDT"})
    harness.source.fail_with = ExchangeUnavailable("down")
    await harness.clock.advance(harness.settings.ticker_fresh_s + 1)
    response = await harness.client.post("/price", json={"symbol": "BTC/USDT"})
    assert response.status_code == 200
    assert response.headers["X-Cache"] == "stale"
    assert response.json()["meta"]["age_ms"] >= harness.settings.ticker_fresh_s * 1000


async def test_uncached_mode_goes_upstream_every_time(make_harness: HarnessFactory) -> None:
    harness = await make_harness(no_cache=True)
    for _ in range(3):
        response = await harness.client.post("/comprehensive_analysis", json=ANALYSIS)
        assert response.status_code == 200
        assert response.headers["X-Cache"] == "bypass"
    assert harness.source.calls["ohlcv"] == 3


async def test_analysis_data_shape(harness: Harness) -> None:
    data = (await harness.client.post("/comprehensive_analysis", json=ANALYSIS)).json()["data"]
    assert data["symbol"] == "BTC/USDT"
    assert data["timeframe"] == "15m"
    assert data["signal"]["signal"] in {"strong_buy", "buy", "neutral", "sell", "strong_sell"}
    assert data["signal"]["reasons"]


async def test_cvd_and_volume_spike_shapes(harness: Harness) -> None:
    cvd = (await harness.client.post("/cvd", json={**ANALYSIS, "limit": 50})).json()["data"]
    assert len(cvd["series"]) == 50
    assert {"time", "delta", "cvd"} <= set(cvd["series"][0])
    spike = (await harness.client.post("/volume_spike", json=ANALYSIS)).json()["data"]
    assert isinstance(spike["is_spike"], bool)


async def test_past_the_stale_grace_a_read_waits_for_fresh_data(harness: Harness) -> None:
    await harness.client.post("/price", json={"symbol": "BTC/USDT"})
    fresh = harness.settings.ticker_fresh_s
    await harness.clock.advance(fresh * (1 + harness.settings.cache_stale_grace) + 0.1)
    response = await harness.client.post("/price", json={"symbol": "BTC/USDT"})
    assert response.headers["X-Cache"] == "miss"
    assert response.json()["meta"]["age_ms"] == 0
    assert harness.source.calls["ticker"] == 2
