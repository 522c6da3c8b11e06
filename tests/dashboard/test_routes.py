"""`/dashboard`, its assets, `/dashboard/markets` and `/dashboard/limits`, in process."""

from __future__ import annotations

import re

import pytest

from marketcache.dashboard.assets import ASSETS
from marketcache.dashboard.routes import CSP
from marketcache.monitoring.alerts import AlertRules
from tests.api.conftest import Harness, HarnessFactory


async def test_page_is_html_with_a_strict_policy(harness: Harness) -> None:
    page = await harness.client.get("/dashboard")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"] == CSP
    assert "default-src 'none'" in CSP
    assert "connect-src 'self'" in CSP


async def test_every_file_the_page_names_is_served_from_the_package(harness: Harness) -> None:
    html = (await harness.client.get("/dashboard")).text
    named = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert named, "the page names its scripts and styles"
    for url in named:
        if url.startswith("data:"):
            continue
        assert not re.match(r"^[a-z]+:|^//", url), f"{url} is not on the service's own origin"
        assert url.startswith("dashboard/assets/"), url
        served = await harness.client.get("/" + url)
        assert served.status_code == 200, url
        assert served.content == ASSETS[url.rsplit("/", 1)[1]].body
        kind = "javascript" if url.endswith(".js") else "css"
        assert kind in served.headers["content-type"]


async def test_an_asset_is_revalidated_by_its_etag(harness: Harness) -> None:
    first = await harness.client.get("/dashboard/assets/dashboard.js")
    again = await harness.client.get(
        "/dashboard/assets/dashboard.js", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/dashboard/assets/nope.js", 404, "not_found"),
        ("GET", "/dashboard/assets/..%2Fassets.py", 404, "not_found"),
        ("GET", "/dashboard/", 404, "not_found"),
        ("POST", "/dashboard", 405, "method_not_allowed"),
        ("POST", "/dashboard/markets", 405, "method_not_allowed"),
    ],
)
async def test_what_is_not_there(
    harness: Harness, method: str, path: str, status: int, code: str
) -> None:
    response = await harness.client.request(method, path)
    assert response.status_code == status
    assert response.json() == {
        "success": False,
        "error": {"code": code, "message": response.json()["error"]["message"]},
    }


async def test_hottest_markets_merge_spellings_and_show_the_cached_price(
    harness: Harness,
) -> None:
    for symbol in ("btcusdt", "BTC/USDT", "BTC-USDT", "ETH/USDT"):
        assert (await harness.client.post("/price", json={"symbol": symbol})).status_code == 200
    price = (await harness.client.post("/price", json={"symbol": "BTC/USDT"})).json()["data"]
    stats_before = (await harness.client.get("/cache/stats")).json()["data"]["cache_stats"]
    body = (await harness.client.get("/dashboard/markets")).json()
    assert body["success"] is True
    rows = body["data"]["markets"]
    assert [r["symbol"] for r in rows] == ["BTC/USDT", "ETH/USDT"]
    btc = rows[0]
    assert btc["answers"] == 4
    assert btc["cold"] == 1
    assert btc["price"] == price["last"]
    assert btc["cache"] == "fresh"
    assert btc["data_age_ms"] == 0  # the manual clock has not moved
    assert body["data"]["tracked"] == 2
    # looking is not a lookup: the cache's counters did not move
    stats_after = (await harness.client.get("/cache/stats")).json()["data"]["cache_stats"]
    assert stats_after == stats_before

    await harness.clock.advance(5)
    later = (await harness.client.get("/dashboard/markets?limit=1")).json()["data"]
    assert len(later["markets"]) == 1
    assert later["markets"][0]["cache"] == "stale"
    assert later["markets"][0]["data_age_ms"] == 5000


async def test_hottest_markets_of_the_uncached_service(make_harness: HarnessFactory) -> None:
    h = await make_harness(no_cache=True)
    await h.client.post("/price", json={"symbol": "BTC/USDT"})
    rows = (await h.client.get("/dashboard/markets")).json()["data"]["markets"]
    assert rows == [
        {
            "symbol": "BTC/USDT",
            "answers": 1,
            "cold": 0,
            "cold_share": 0.0,
            "price": None,
            "data_age_ms": None,
            "cache": "off",
            "fetched_at": None,
        }
    ]


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten", "1.5", ""])
async def test_a_bad_limit_is_a_422_naming_it(harness: Harness, limit: str) -> None:
    response = await harness.client.get("/dashboard/markets", params={"limit": limit})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["fields"] == ["limit"]
    assert error["message"].startswith("limit: ")


async def test_limits_are_the_alert_rules_and_settings(make_harness: HarnessFactory) -> None:
    h = await make_harness(admin_token="s3cret", cache_max_memory_mb=64, exchange_weight_limit=1200)
    data = (await h.client.get("/dashboard/limits")).json()["data"]
    rules = AlertRules()
    assert data["thresholds"] == {
        "hit_rate_percent": {
            "warning": rules.hit_rate_warning * 100,
            "critical": rules.hit_rate_critical * 100,
        },
        "memory_percent": {
            "warning": rules.memory_warning * 100,
            "critical": rules.memory_critical * 100,
        },
        "error_rate_percent": {"critical": rules.error_rate_critical * 100},
        "p95_ms": {"target": 200.0},
    }
    assert data["cache"] == {"enabled": True, "max_bytes": 64 * 1024 * 1024}
    # the memory alerts' limit: the process's (cgroup, else MEMORY_LIMIT_MB), not the cache's
    limit = h.app.state.runtime.monitor.memory_limit()
    assert data["memory"] == {"limit_mb": round(limit.mb, 2), "source": limit.source}
    assert data["exchange"]["weight_limit_per_minute"] == 1200
    assert data["admin"] == {"token_required": True}
    assert "s3cret" not in (await h.client.get("/dashboard/limits")).text
