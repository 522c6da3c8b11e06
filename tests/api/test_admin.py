"""Admin endpoints: token rules, loopback-only mode, and what they do to the cache."""

from __future__ import annotations

import pytest

from tests.api.conftest import HarnessFactory

WARM = {"symbols": ["BTC/USDT"], "timeframes": ["15m"]}


@pytest.mark.parametrize("path", ["/cache/warm", "/cache/clear", "/cache/invalidate"])
async def test_no_token_is_401(make_harness: HarnessFactory, path: str) -> None:
    harness = await make_harness(admin_token="s3cret")
    response = await harness.client.post(path, json=WARM)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


async def test_wrong_token_is_403(make_harness: HarnessFactory) -> None:
    harness = await make_harness(admin_token="s3cret")
    headers = {"Authorization": "Bearer nope"}
    response = await harness.client.post("/cache/clear", headers=headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


async def test_right_token_from_anywhere(make_harness: HarnessFactory) -> None:
    harness = await make_harness(admin_token="s3cret", client_host="203.0.113.9")
    headers = {"Authorization": "Bearer s3cret"}
    response = await harness.client.post("/cache/clear", headers=headers)
    assert response.status_code == 200
    assert response.json() == {"success": True, "data": {"removed": 0}}


async def test_without_token_loopback_only(make_harness: HarnessFactory) -> None:
    remote = await make_harness(client_host="203.0.113.9")
    response = await remote.client.post("/cache/clear", json={})
    assert response.status_code == 403
    assert "loopback" in response.json()["error"]["message"]
    local = await make_harness(client_host="127.0.0.1")
    assert (await local.client.post("/cache/clear", json={})).status_code == 200


@pytest.mark.parametrize(
    ("headers", "says"),
    [
        ({"X-Forwarded-For": "127.0.0.1"}, "proxy"),
        ({"X-Forwarded-For": "localhost"}, "proxy"),
        ({"X-Real-IP": "127.0.0.1"}, "proxy"),
        ({"Forwarded": "for=127.0.0.1"}, "proxy"),
        ({"Via": "1.1 nginx"}, "proxy"),
        ({"X-Forwarded-Host": "localhost"}, "proxy"),
        ({"Origin": "https://evil.example"}, "cross-site"),
        ({"Host": "evil.example:8001"}, "Host"),
        ({"Content-Type": "text/plain"}, "Content-Type"),
    ],
)
@pytest.mark.parametrize("path", ["/cache/clear", "/cache/invalidate"])
async def test_without_token_only_the_operators_own_request(
    make_harness: HarnessFactory, headers: dict[str, str], says: str, path: str
) -> None:
    harness = await make_harness(client_host="127.0.0.1")
    await harness.client.post("/price", json={"symbol": "BTC/USDT"})
    content = b'{"prefix": "answer:"}'
    sent = {"Content-Type": "application/json", **headers}
    response = await harness.client.post(path, content=content, headers=sent)
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "forbidden"
    assert says in error["message"]
    stats = (await harness.client.get("/cache/stats")).json()["data"]["cache_stats"]
    assert stats["entries"] > 0  # nothing was dropped


async def test_a_same_site_origin_is_fine(make_harness: HarnessFactory) -> None:
    harness = await make_harness(client_host="127.0.0.1")
    headers = {"Origin": "http://localhost:8001"}
    response = await harness.client.post("/cache/clear", json={}, headers=headers)
    assert response.status_code == 200


async def test_warm_is_open_without_a_token(make_harness: HarnessFactory) -> None:
    harness = await make_harness(client_host="203.0.113.9")
    response = await harness.client.post("/cache/warm", json=WARM)
    assert response.status_code == 200


async def test_read_only_endpoints_stay_open(make_harness: HarnessFactory) -> None:
    harness = await make_harness(admin_token="s3cret", client_host="203.0.113.9")
    assert (await harness.client.get("/cache/stats")).status_code == 200
    assert (await harness.client.get("/health")).status_code == 200


async def test_warm_adds_entries_and_next_requests_hit(make_harness: HarnessFactory) -> None:
    harness = await make_harness()
    body = {"symbols": ["BTC/USDT", "ethusdt", "NOPE/USDT"], "timeframes": ["15m", "1h"]}
    response = await harness.client.post("/cache/warm", json=body)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["results"]["BTC/USDT"]["status"] == "warmed"
    assert data["results"]["ethusdt"]["status"] == "warmed"
    assert data["results"]["NOPE/USDT"]["status"] == "error"
    assert data["results"]["NOPE/USDT"]["error"]["code"] == "unknown_symbol"
    assert data["entries_added"] == data["entries_after"] - data["entries_before"] > 0
    calls = sum(harness.source.calls.values())
    for path in ("/comprehensive_analysis", "/volume_spike", "/cvd"):
        response = await harness.client.post(path, json={"symbol": "ETH/USDT", "timeframe": "1h"})
        assert response.headers["X-Cache"] == "hit", path
    assert sum(harness.source.calls.values()) == calls


async def test_warm_rejects_a_bad_timeframe(make_harness: HarnessFactory) -> None:
    harness = await make_harness()
    response = await harness.client.post(
        "/cache/warm", json={"symbols": ["BTC/USDT"], "timeframes": ["2m"]}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unsupported_timeframe"


async def test_warm_needs_symbols(make_harness: HarnessFactory) -> None:
    harness = await make_harness()
    response = await harness.client.post("/cache/warm", json={"symbols": []})
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == ["symbols"]


async def test_invalidate_symbol_and_prefix(make_harness: HarnessFactory) -> None:
    harness = await make_harness()
    await harness.client.post("/price", json={"symbol": "BTC/USDT"})
    await harness.client.post("/price", json={"symbol": "ETH/USDT"})
    response = await harness.client.post("/cache/invalidate", json={"symbol": "btcusdt"})
    assert response.json()["data"] == {"symbol": "BTC/USDT", "removed": 2}
    again = await harness.client.post("/price", json={"symbol": "ETH/USDT"})
    assert again.headers["X-Cache"] == "hit"
    response = await harness.client.post("/cache/invalidate", json={"prefix": "answer:"})
    assert response.json()["data"]["removed"] == 1


async def test_invalidate_needs_exactly_one_of_prefix_or_symbol(
    make_harness: HarnessFactory,
) -> None:
    harness = await make_harness()
    for body in ({}, {"prefix": "a", "symbol": "BTC/USDT"}):
        response = await harness.client.post("/cache/invalidate", json=body)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_parameter"


async def test_clear_empties_the_cache(make_harness: HarnessFactory) -> None:
    harness = await make_harness()
    await harness.client.post("/price", json={"symbol": "BTC/USDT"})
    response = await harness.client.post("/cache/clear", json={})
    assert response.json()["data"]["removed"] == 2
    stats = (await harness.client.get("/cache/stats")).json()["data"]["cache_stats"]
    assert stats["entries"] == 0


async def test_behind_a_trusted_proxy_only_direct_requests_clear(
    make_harness: HarnessFactory,
) -> None:
    harness = await make_harness(client_host="127.0.0.1", trusted_proxies="*")
    forwarded = {"X-Forwarded-For": "127.0.0.1"}
    through = await harness.client.post("/cache/clear", json={}, headers=forwarded)
    assert through.status_code == 403
    direct = await harness.client.post("/cache/clear", json={})  # e.g. inside the container
    assert direct.status_code == 200
