"""`/`, `/markets`, CORS and the offline docs."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.api.conftest import Harness


async def test_root_lists_the_service_and_its_endpoints(harness: Harness) -> None:
    response = await harness.client.get("/")
    assert response.status_code == 200
    doc = response.json()
    assert doc["service"] == "cached-market-data"
    assert doc["mode"] == "cached"
    assert doc["docs"]["swagger"] == "/docs"
    assert doc["dashboard"] == "/dashboard"
    assert doc["subscriptions"] == {"websocket": "/ws", "events": "/subscribe/{endpoint}"}
    listed = {(e["method"], e["path"]) for e in doc["endpoints"]}
    assert {("POST", "/price"), ("GET", "/price"), ("POST", "/prices"), ("GET", "/markets")} <= (
        listed
    )
    assert ("GET", "/health") in listed
    assert all(e["summary"] for e in doc["endpoints"])


async def test_root_of_the_uncached_service(make_harness: Any) -> None:
    harness: Harness = await make_harness(no_cache=True)
    doc = (await harness.client.get("/")).json()
    assert (doc["service"], doc["mode"]) == ("market-data", "uncached")
    assert doc["subscriptions"] is None  # nothing to watch without a cache


async def test_markets_lists_every_market_with_its_details(harness: Harness) -> None:
    before = harness.source.calls["markets"]
    response = await harness.client.get("/markets")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["count"] == 315 == len(data["markets"])
    btc = next(m for m in data["markets"] if m["symbol"] == "BTC/USDT")
    assert set(btc) == {"symbol", "id", "base", "quote", "active", "precision", "limits"}
    assert response.json()["meta"]["cache"] == "miss"
    again = await harness.client.get("/markets")
    assert again.json()["meta"]["cache"] == "hit"
    assert harness.source.calls["markets"] == before + 1  # one request for the list


async def test_markets_by_quote(harness: Harness) -> None:
    data = (await harness.client.get("/markets?quote=usdt")).json()["data"]
    assert data["quote"] == "USDT"
    assert data["count"] == 315
    none = (await harness.client.get("/markets?quote=EUR")).json()["data"]
    assert none["count"] == 0


@pytest.mark.parametrize("query", ["?quote=US-DT", "?quote=", "?quote=A&quote=B", "?base=BTC"])
async def test_bad_markets_queries_are_422(harness: Harness, query: str) -> None:
    response = await harness.client.get(f"/markets{query}")
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"


async def test_no_cors_by_default(harness: Harness) -> None:
    preflight = await harness.client.options(
        "/price",
        headers={"Origin": "https://dash.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 405
    assert "access-control-allow-origin" not in preflight.headers
    assert "Allow" in preflight.headers


async def test_cors_for_allowed_origins(make_harness: Any) -> None:
    harness: Harness = await make_harness(cors_origins="https://dash.example")
    preflight = await harness.client.options(
        "/price",
        headers={
            "Origin": "https://dash.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://dash.example"
    refused = await harness.client.options(
        "/price",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "cors_refused"
    assert "access-control-allow-origin" not in refused.headers
    answer = await harness.client.post(
        "/price", json={"symbol": "BTC/USDT"}, headers={"Origin": "https://dash.example"}
    )
    assert answer.headers["access-control-allow-origin"] == "https://dash.example"
    hit = await harness.client.post(
        "/price", json={"symbol": "BTC/USDT"}, headers={"Origin": "https://dash.example"}
    )
    assert hit.headers["X-Cache"] == "hit"  # the fast path's answers carry them too
    assert "X-Cache" in hit.headers["access-control-expose-headers"]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_name_no_external_host(harness: Harness, page: str) -> None:
    response = await harness.client.get(page)
    assert response.status_code == 200
    html = response.text
    external = re.findall(r"""(?:src|href)\s*=\s*["'](https?:)?//""", html)
    assert not external, html
    assert "cdn.jsdelivr" not in html
    assert "fonts.googleapis" not in html
    for asset in re.findall(r"""["'](/docs/assets/[^"']+)["']""", html):
        fetched = await harness.client.get(asset)
        assert fetched.status_code == 200, asset
        assert len(fetched.content) > 1000 or asset.endswith(".png")
