"""`/prices`: many markets in one request, each from its own entry, cold ones in one call."""

from __future__ import annotations

from typing import Any

import pytest

from marketcache.errors import ExchangeUnavailable
from tests.api.conftest import Harness
from tests.fakes import real_markets

THIRTY = [m.symbol for m in real_markets()[:30]]


async def test_thirty_cold_symbols_cost_one_ticker_request(harness: Harness) -> None:
    response = await harness.client.post("/prices", json={"symbols": THIRTY})
    assert response.status_code == 200, response.text
    document = response.json()
    results = document["data"]["results"]
    assert [r["requested"] for r in results] == THIRTY
    assert all(r["success"] for r in results)
    assert [r["data"]["symbol"] for r in results] == THIRTY
    assert harness.source.calls["tickers"] == 1
    assert harness.source.calls["ticker"] == 0
    assert document["meta"]["answered"] == 30
    assert response.headers["X-Cache"] == "miss"


async def test_each_symbol_is_its_price_entry(harness: Harness) -> None:
    await harness.client.post("/prices", json={"symbols": ["BTC/USDT", "ETH/USDT"]})
    single = await harness.client.post("/price", json={"symbol": "ethusdt"})
    assert single.headers["X-Cache"] == "hit"
    again = await harness.client.get("/prices?symbols=BTC-USDT,ETH/USDT")
    assert again.status_code == 200
    assert again.headers["X-Cache"] == "hit"
    assert [r["meta"]["cache"] for r in again.json()["data"]["results"]] == ["hit", "hit"]
    first = again.json()["data"]["results"][1]["data"]
    assert first == single.json()["data"]
    assert harness.source.calls["tickers"] == 1


async def test_warm_and_cold_mixed_fetch_only_the_cold(harness: Harness) -> None:
    await harness.client.post("/price", json={"symbol": "BTC/USDT"})
    response = await harness.client.post(
        "/prices", json={"symbols": ["BTC/USDT", "ETH/USDT", "SOL/USDT"]}
    )
    caches = [r["meta"]["cache"] for r in response.json()["data"]["results"]]
    assert caches == ["hit", "miss", "miss"]
    assert harness.source.calls["tickers"] == 1
    assert harness.source.calls["ticker"] == 1


async def test_unknown_symbols_fail_in_their_place(harness: Harness) -> None:
    response = await harness.client.post(
        "/prices", json={"symbols": ["BTC/USDT", "NOPE/USDT", "eth-usdt"]}
    )
    assert response.status_code == 200
    results = response.json()["data"]["results"]
    assert [r["success"] for r in results] == [True, False, True]
    assert results[1]["error"]["code"] == "unknown_symbol"
    assert response.json()["meta"]["failed"] == 1


async def test_exchange_down_fails_each_symbol_not_the_request(harness: Harness) -> None:
    harness.source.fail_with = ExchangeUnavailable("binance tickers: unavailable")
    response = await harness.client.post("/prices", json={"symbols": ["BTC/USDT", "ETH/USDT"]})
    assert response.status_code == 200
    codes = [r["error"]["code"] for r in response.json()["data"]["results"]]
    assert codes == ["exchange_unavailable", "exchange_unavailable"]


@pytest.mark.parametrize(
    ("request_args", "field"),
    [
        ({"json": {"symbols": []}}, "symbols"),
        ({"json": {"symbols": "BTC/USDT"}}, "symbols"),
        ({"json": {"symbols": ["BTC/USDT"], "symbol": "x"}}, "symbol"),
        ({"json": {"symbols": ["BTC/USDT"] * 51}}, "symbols"),
        ({"json": {"symbols": ["x" * 41]}}, "symbols.0"),
    ],
)
async def test_bad_batches_are_422(
    harness: Harness, request_args: dict[str, Any], field: str
) -> None:
    response = await harness.client.post("/prices", **request_args)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["fields"] == [field]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "symbols"),
        ("?symbols=", "symbols"),
        ("?symbol=BTC/USDT", "symbol"),
        ("?symbols=" + "x" * 41, "symbols.0"),
    ],
)
async def test_bad_batch_queries_are_422(harness: Harness, query: str, field: str) -> None:
    response = await harness.client.get(f"/prices{query}")
    assert response.status_code == 422, response.text
    assert response.json()["error"]["fields"] == [field]


async def test_the_limit_is_a_setting(make_harness: Any) -> None:
    harness: Harness = await make_harness(batch_max_symbols=2)
    response = await harness.client.post("/prices", json={"symbols": THIRTY[:3]})
    assert response.status_code == 422
    assert "BATCH_MAX_SYMBOLS" in response.json()["error"]["message"]


async def test_uncached_service_batches_too(make_harness: Any) -> None:
    harness: Harness = await make_harness(no_cache=True)
    response = await harness.client.post("/prices", json={"symbols": THIRTY[:5]})
    assert response.headers["X-Cache"] == "bypass"
    assert harness.source.calls["tickers"] == 1
