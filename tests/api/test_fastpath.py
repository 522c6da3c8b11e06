"""The hit fast path answers exactly what the routes would, and nothing else."""

from __future__ import annotations

from typing import Any

import pytest

from marketcache.api.runtime import Runtime
from tests.api.conftest import Harness

ANALYSIS = {"symbol": "BTC/USDT", "timeframe": "15m"}


def runtime_of(harness: Harness) -> Runtime:
    transport = harness.client._transport
    rt: Runtime = transport.app.state.runtime  # type: ignore[attr-defined]
    return rt


def forbid_routes(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """After this, only the fast path can answer market requests."""

    async def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the route ran: the fast path did not serve this hit")

    market = runtime_of(harness).market
    for name in ("price", "comprehensive_analysis", "volume_spike", "cvd"):
        monkeypatch.setattr(market, name, refuse)


@pytest.mark.parametrize(
    ("path", "body", "hit_body"),
    [
        ("/price", {"symbol": "BTC/USDT"}, {"symbol": " btcusdt ", "extra": 1}),
        ("/comprehensive_analysis", ANALYSIS, {"symbol": "BTC-USDT"}),
        ("/volume_spike", ANALYSIS, {"symbol": "BTC/USDT", "lookback": 20, "threshold": 2}),
        ("/cvd", {**ANALYSIS, "limit": 100}, {"symbol": "BTC_USDT", "timeframe": "15m"}),
    ],
)
async def test_hits_are_served_without_the_routes(
    harness: Harness,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    body: dict[str, Any],
    hit_body: dict[str, Any],
) -> None:
    first = await harness.client.post(path, json=body)
    assert first.headers["X-Cache"] == "miss"
    forbid_routes(harness, monkeypatch)
    second = await harness.client.post(path, json=hit_body)
    assert second.status_code == 200
    assert second.headers["X-Cache"] == "hit"
    assert second.headers["content-type"] == "application/json"
    assert second.json()["data"] == first.json()["data"]
    assert second.json()["meta"]["source"] == "emulator"


async def test_a_miss_falls_through_to_the_route(harness: Harness) -> None:
    response = await harness.client.post("/price", json={"symbol": "ETH/USDT"})
    assert response.headers["X-Cache"] == "miss"
    assert harness.source.calls["ticker"] == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "malformed_json"),
        (b'{"symbol": "NOPE/USDT"}', 404, "unknown_symbol"),
        (b'{"symbol": "BTC/USDT", "timeframe": "7m"}', 400, "unsupported_timeframe"),
        (b'{"symbol": "BTC/USDT", "lookback": 1}', 422, "validation_error"),
        (b'{"symbol": "BTC/USDT", "threshold": true}', 422, "validation_error"),
        (b'{"symbol": "BTC/USDT", "lookback": "20"}', 422, "validation_error"),
        (b'{"symbol": "BTC/USDT", "lookback": 20.0}', 422, "validation_error"),
        (b"[1, 2]", 422, "validation_error"),
    ],
)
async def test_bad_bodies_get_the_routes_errors_even_when_warm(
    harness: Harness, body: bytes, status: int, code: str
) -> None:
    await harness.client.post("/volume_spike", json={"symbol": "BTC/USDT"})
    response = await harness.client.post("/volume_spike", content=body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


async def test_a_stale_answer_is_served_and_refreshed(harness: Harness) -> None:
    await harness.client.post("/price", json={"symbol": "BTC/USDT"})
    await harness.clock.advance(harness.settings.ticker_fresh_s + 0.5)
    response = await harness.client.post("/price", json={"symbol": "BTC/USDT"})
    assert response.headers["X-Cache"] == "stale"
    assert response.json()["meta"]["age_ms"] >= harness.settings.ticker_fresh_s * 1000
    await harness.clock.advance(0)
    assert harness.source.calls["ticker"] == 2


async def test_uncached_service_has_no_fast_path(make_harness: Any) -> None:
    harness = await make_harness(no_cache=True)
    for _ in range(2):
        response = await harness.client.post("/price", json={"symbol": "BTC/USDT"})
        assert response.headers["X-Cache"] == "bypass"
    assert harness.source.calls["ticker"] == 2
