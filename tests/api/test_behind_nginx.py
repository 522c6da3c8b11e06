"""The real server behind Debian's nginx: admin access, and an HTTP cache honouring our headers."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest

from marketcache.commands.service_process import ServiceProcess
from tests import nginx
from tests.nginx import NginxProcess

pytestmark = pytest.mark.e2e

JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def service() -> Iterator[ServiceProcess]:
    assert nginx.available(), "nginx is missing: `make test` installs it"
    with ServiceProcess(("--offline",), env={"LOG_LEVEL": "warning"}) as process:
        yield process


def test_admin_through_a_plain_proxy_pass_is_refused(service: ServiceProcess) -> None:
    with NginxProcess(f"location / {{ proxy_pass {service.url}; }}") as proxy:
        through = httpx.post(f"{proxy.url}/cache/clear", content=b"{}", headers=JSON)
        assert through.status_code == 403, through.text
        assert through.json()["error"]["code"] == "forbidden"
        invalidate = httpx.post(
            f"{proxy.url}/cache/invalidate", content=b'{"prefix": "answer:"}', headers=JSON
        )
        assert invalidate.status_code == 403
        market = httpx.post(f"{proxy.url}/price", json={"symbol": "BTC/USDT"})
        assert market.status_code == 200  # the proxy itself works
    direct = httpx.post(f"{service.url}/cache/clear", content=b"{}", headers=JSON)
    assert direct.status_code == 200  # the operator on the machine may


def test_admin_through_a_forwarding_proxy_is_refused(service: ServiceProcess) -> None:
    server = (
        f"location / {{ proxy_pass {service.url}; proxy_http_version 1.1; "
        "proxy_set_header X-Forwarded-For $http_x_forwarded_for; }"
    )
    with NginxProcess(server) as proxy:
        for spoof in ("127.0.0.1", "localhost"):
            headers = {**JSON, "X-Forwarded-For": spoof}
            response = httpx.post(f"{proxy.url}/cache/clear", content=b"{}", headers=headers)
            assert response.status_code == 403, response.text


def test_a_spoofed_forwarded_for_is_refused_directly(service: ServiceProcess) -> None:
    headers = {**JSON, "X-Forwarded-For": "127.0.0.1"}
    response = httpx.post(f"{service.url}/cache/clear", content=b"{}", headers=headers)
    assert response.status_code == 403


def test_a_cross_origin_text_plain_post_is_refused(service: ServiceProcess) -> None:
    headers = {"Content-Type": "text/plain", "Origin": "https://evil.example"}
    response = httpx.post(f"{service.url}/cache/clear", content=b"{}", headers=headers)
    assert response.status_code == 403
    rebound = {**JSON, "Host": "evil.example:8001", "Origin": "http://evil.example:8001"}
    response = httpx.post(f"{service.url}/cache/clear", content=b"{}", headers=rebound)
    assert response.status_code == 403


def _fetched_at(response: httpx.Response) -> float:
    stamp = response.json()["meta"]["fetched_at"].replace("Z", "+00:00")
    return datetime.fromisoformat(stamp).timestamp()


def test_nginx_proxy_cache_never_serves_past_the_fresh_window(service: ServiceProcess) -> None:
    http = "proxy_cache_path {root}/cache keys_zone=answers:1m;"
    server = (
        f"location / {{ proxy_pass {service.url}; proxy_cache answers; "
        "add_header X-Nginx-Cache $upstream_cache_status; }"
    )
    fresh_s = 5.0  # KLINES_LIVE_FRESH_S
    statuses: Counter[str] = Counter()
    with NginxProcess(server, http) as proxy, httpx.Client(timeout=30) as client:
        deadline = time.monotonic() + 14
        while time.monotonic() < deadline:
            response = client.get(f"{proxy.url}/comprehensive_analysis?symbol=BTC/USDT")
            received = time.time()
            assert response.status_code == 200
            status = response.headers.get("x-nginx-cache", "-")
            statuses[status] += 1
            if status == "HIT":  # served from nginx's copy: within its freshness
                assert received - _fetched_at(response) <= fresh_s + 0.25, response.headers
            time.sleep(0.01)
    assert statuses["HIT"] > 0, statuses  # nginx did cache (max-age honoured) ...
    assert statuses["EXPIRED"] + statuses["MISS"] > 1, statuses  # ... and let it expire
