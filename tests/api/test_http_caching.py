"""GET on every market endpoint: the POST's answer and cache entry, with HTTP caching."""

from __future__ import annotations

import re

import pytest

from marketcache.endpoints import MARKET_ENDPOINTS
from tests.api.conftest import Harness
from tests.api.test_fastpath import forbid_routes

QUERIES = {
    "/price": "symbol=BTC/USDT",
    "/comprehensive_analysis": "symbol=BTC/USDT&timeframe=15m",
    "/volume_spike": "symbol=BTC/USDT&lookback=20&threshold=2",
    "/cvd": "symbol=BTC/USDT&limit=100",
}
BODIES = {
    "/price": {"symbol": "BTC/USDT"},
    "/comprehensive_analysis": {"symbol": "BTC/USDT"},
    "/volume_spike": {"symbol": "BTC/USDT", "lookback": 20, "threshold": 2.0},
    "/cvd": {"symbol": "btcusdt", "limit": 100},
}


def test_every_endpoint_has_a_query() -> None:
    assert set(QUERIES) == {e.path for e in MARKET_ENDPOINTS}


@pytest.mark.parametrize("path", list(QUERIES))
async def test_get_and_post_share_one_entry(harness: Harness, path: str) -> None:
    posted = await harness.client.post(path, json=BODIES[path])
    assert posted.headers["X-Cache"] == "miss"
    got = await harness.client.get(f"{path}?{QUERIES[path]}")
    assert got.status_code == 200, got.text
    assert got.headers["X-Cache"] == "hit"
    assert got.json()["data"] == posted.json()["data"]
    assert sum(harness.source.calls.values()) <= 2  # markets + one fetch, none for the GET


async def test_get_first_then_post_hits(harness: Harness) -> None:
    got = await harness.client.get("/price?symbol=ETH-USDT")
    assert got.headers["X-Cache"] == "miss"
    posted = await harness.client.post("/price", json={"symbol": "ETH/USDT"})
    assert posted.headers["X-Cache"] == "hit"
    assert harness.source.calls["ticker"] == 1


async def test_caching_headers_follow_the_fresh_window(harness: Harness) -> None:
    first = await harness.client.get("/price?symbol=BTC/USDT")
    assert first.headers["Cache-Control"] == (
        "max-age=1, stale-while-revalidate=6, stale-if-error=30"
    )
    assert first.headers["Age"] == "0"
    assert re.fullmatch(r'"[0-9a-f]+"', first.headers["ETag"])
    await harness.clock.advance(1.5)
    hit = await harness.client.get("/price?symbol=BTC/USDT")
    assert hit.headers["X-Cache"] == "hit"
    assert hit.headers["Cache-Control"].startswith("max-age=0,")
    assert hit.headers["Age"] == "1"
    assert hit.headers["ETag"] == first.headers["ETag"]
    await harness.clock.advance(1.0)
    stale = await harness.client.get("/price?symbol=BTC/USDT")
    assert stale.headers["X-Cache"] == "stale"
    assert stale.headers["Cache-Control"].startswith("max-age=0,")


@pytest.mark.parametrize("fast_path", [True, False])
async def test_a_matching_if_none_match_is_a_304(make_harness: object, fast_path: bool) -> None:
    harness: Harness = await make_harness(fast_path=fast_path)  # type: ignore[operator]
    first = await harness.client.get("/comprehensive_analysis?symbol=BTC/USDT")
    tag = first.headers["ETag"]
    again = await harness.client.get(
        "/comprehensive_analysis?symbol=BTC/USDT", headers={"If-None-Match": f'W/"x", {tag}'}
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == tag
    assert "max-age=" in again.headers["Cache-Control"]
    other = await harness.client.get(
        "/comprehensive_analysis?symbol=BTC/USDT", headers={"If-None-Match": '"other"'}
    )
    assert other.status_code == 200
    posted = await harness.client.post(
        "/comprehensive_analysis", json={"symbol": "BTC/USDT"}, headers={"If-None-Match": tag}
    )
    assert posted.status_code == 200  # conditional requests are for GET
    assert "ETag" not in posted.headers


async def test_get_hits_are_served_by_the_fast_path(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await harness.client.get("/cvd?symbol=BTC/USDT")
    forbid_routes(harness, monkeypatch)
    hit = await harness.client.get("/cvd?symbol=btc_usdt&limit=100&timeframe=15m")
    assert hit.status_code == 200
    assert hit.headers["X-Cache"] == "hit"
    assert "ETag" in hit.headers


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("/volume_spike?symbol=BTC/USDT&lookback=abc", "lookback"),
        ("/volume_spike?symbol=BTC/USDT&lookback=2.5", "lookback"),
        ("/volume_spike?symbol=BTC/USDT&lookback=4", "lookback"),
        ("/volume_spike?symbol=BTC/USDT&threshold=nan", "threshold"),
        ("/volume_spike?symbol=BTC/USDT&threshold=0", "threshold"),
        ("/cvd?symbol=BTC/USDT&limit=5000", "limit"),
        ("/price?symbol=BTC/USDT&symbol=ETH/USDT", "symbol"),
        ("/price?symbol=", "symbol"),
        ("/price", "symbol"),
    ],
)
async def test_bad_query_strings_are_422(harness: Harness, query: str, field: str) -> None:
    response = await harness.client.get(query)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["fields"] == [field]


async def test_unknown_symbol_by_get_is_404(harness: Harness) -> None:
    response = await harness.client.get("/price?symbol=NOPE/USDT")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_symbol"


async def test_bad_timeframe_by_get_is_400(harness: Harness) -> None:
    response = await harness.client.get("/cvd?symbol=BTC/USDT&timeframe=7m")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unsupported_timeframe"
