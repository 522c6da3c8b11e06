"""Each client address has a budget of cold loads: a flood of distinct keys is refused."""

from __future__ import annotations

import httpx

from tests.api.conftest import HarnessFactory
from tests.fakes import real_markets

SYMBOLS = [m.symbol for m in real_markets()[:40]]


async def test_a_flood_gets_429_while_another_client_is_served(
    make_harness: HarnessFactory,
) -> None:
    harness = await make_harness(client_host="203.0.113.7", client_cold_loads_per_min=10)
    statuses = []
    for symbol in SYMBOLS[:30]:
        response = await harness.client.post("/price", json={"symbol": symbol})
        statuses.append(response.status_code)
        if response.status_code == 429:
            error = response.json()["error"]
            assert error["code"] == "client_rate_limited"
            assert int(response.headers["Retry-After"]) >= 1
    assert statuses.count(200) <= 12
    assert statuses.count(429) >= 18
    app = harness.client._transport.app  # type: ignore[attr-defined]
    other = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("198.51.100.9", 40001)),
        base_url="http://localhost:8001",
    )
    async with other:
        first = await other.post("/price", json={"symbol": "BTC/USDT"})
        assert first.status_code == 200
        again = await other.post("/price", json={"symbol": "BTC/USDT"})
        assert again.headers["X-Cache"] == "hit"
    hot = await harness.client.post("/price", json={"symbol": SYMBOLS[0]})
    assert hot.status_code == 200  # what the flooder already has is served


async def test_warming_is_bounded_like_the_clients_own_requests(
    make_harness: HarnessFactory,
) -> None:
    harness = await make_harness(client_host="203.0.113.8", client_cold_loads_per_min=10)
    response = await harness.client.post(
        "/cache/warm", json={"symbols": SYMBOLS[:20], "timeframes": ["15m"]}
    )
    assert response.status_code == 200
    results = response.json()["data"]["results"]
    refused = [r for r in results.values() if r["status"] == "error"]
    assert refused
    assert {r["error"]["code"] for r in refused} == {"client_rate_limited"}
    assert sum(harness.source.calls.values()) <= 12  # markets + about ten cold loads
