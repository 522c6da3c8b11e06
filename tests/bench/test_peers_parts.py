"""The peers bench's pieces without processes: wrk's script and summary, the report's sums."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import httpx
import pytest

from marketcache.bench.peers import contenders, nginx, recorded, report, runner, wrk
from marketcache.bench.peers.contenders import Contender
from marketcache.bench.peers.matrix import rotated

WRK_OUT = """Running 1s test @ http://127.0.0.1:1/price
  1 threads and 16 connections
WRK_JSON {"requests": 2000, "duration_us": 1000000, "bytes": 824000, "connect": 0, \
"read": 1, "write": 0, "status": 2, "timeout": 3, "p50_us": 500, "p90_us": 900, \
"p99_us": 2500, "p999_us": 4000, "mean_us": 610.5, "max_us": 9000}
"""


def test_wrk_summary_is_parsed() -> None:
    result = wrk.parse(WRK_OUT, 16, 1.0)
    assert result.requests == 2000
    assert result.rps == pytest.approx(2000)
    assert result.p99_ms == pytest.approx(2.5)
    assert result.errors == 6
    assert result.timeouts == 3
    assert result.to_dict()["rps"] == pytest.approx(2000)


def test_wrk_without_a_summary_is_an_error() -> None:
    with pytest.raises(ValueError, match="no summary"):
        wrk.parse("unable to connect to 127.0.0.1:1 Connection refused\n", 16, 1.0)


def test_the_lua_script_posts_the_body() -> None:
    lua = wrk.Shape("POST", "/price", b'{"symbol":"BTC/USDT"}').lua()
    assert 'wrk.method = "POST"' in lua
    assert 'wrk.body = "{\\"symbol\\":\\"BTC/USDT\\"}"' in lua
    assert "Content-Type" in lua
    assert "WRK_JSON" in lua
    assert "wrk.body" not in wrk.Shape("GET", "/price?symbol=BTC%2FUSDT").lua()


def test_a_get_contender_asks_with_a_query() -> None:
    get = Contender("fastapi-cache2", "", "http://x", 1, by_get=True)
    post = Contender("marketcache", "", "http://x", 1)
    assert get.shape("/comprehensive_analysis").path == (
        "/comprehensive_analysis?symbol=BTC%2FUSDT&timeframe=15m"
    )
    assert post.shape("/price") == wrk.Shape("POST", "/price", b'{"symbol":"BTC/USDT"}')


def test_rounds_rotate_the_order() -> None:
    items = [Contender(n, "", "", 0) for n in "abc"]
    assert [c.name for c in rotated(items, 1)] == ["b", "c", "a"]
    assert [c.name for c in rotated(items, 3)] == ["a", "b", "c"]


def _run(contender: str, conns: int, rps: float, p99: float) -> dict[str, object]:
    return {
        "endpoint": "/price",
        "connections": conns,
        "contender": contender,
        "rps": rps,
        "p50_ms": p99 / 2,
        "p99_ms": p99,
        "requests": int(rps),
        "errors": 0,
        "cpu_us_per_request": 1e6 / rps if rps else math.nan,
    }


def test_cells_ratios_and_goals() -> None:
    runs = [_run("marketcache", 16, rps, 0.8) for rps in (10_000, 12_000, 11_000)]
    runs += [_run("nginx", 16, 40_000, 1.0), _run("fastapi-cache2", 16, 1_000, 20.0)]
    runs += [_run("raw-asgi", 16, 22_000, 0.5)]
    table = report.cells(runs)
    ours = report.cell(table, "/price", 16, "marketcache")
    assert ours["rps"] == 11_000
    assert ours["rounds"] == 3
    rows = report.ratios(table)
    assert rows[0]["ours_over_nginx"] == pytest.approx(11_000 / 40_000)
    assert rows[0]["ours_over_fastapi_cache2"] == pytest.approx(11.0)
    assert rows[0]["ours_over_raw"] == pytest.approx(0.5)
    assert rows[0]["ours_over_nginx_by_cpu"] == pytest.approx(11_000 / 40_000)
    over = {
        "marketcache": {"endpoint": "/price", "connections": 1000, "timeouts": 4, "p99_ms": 50.0}
    }
    met = {g["goal"]: g["met"] for g in report.goals(table, rows, over)}
    assert met == {
        "ours_over_nginx /price c=16": False,
        "ours_over_fastapi_cache2 /price c=16": True,
        "ours_over_raw /price c=16": False,
        "p99 /price c=16": True,
        "timeouts /price c=1000": False,
        "p99 /price c=1000": True,
    }


def test_a_ratio_to_nothing_is_nan() -> None:
    runs = [_run(name, 16, 0.0 if name == "nginx" else 1.0, 1.0) for name in report.RATIOS.values()]
    rows = report.ratios(report.cells([*runs, _run("marketcache", 16, 5.0, 1.0)]))
    assert math.isnan(rows[0]["ours_over_nginx"])


def test_nginx_caches_posts_by_body_for_our_freshness(tmp_path: Path) -> None:
    conf = nginx.render(
        tmp_path,
        8080,
        "127.0.0.1:9000",
        {"/price": 2.0, "/comprehensive_analysis": 5.0},
    )
    assert "worker_processes 1;" in conf
    assert "proxy_cache_methods GET HEAD POST;" in conf
    assert '"$request_method$request_uri|$request_body"' in conf
    assert "proxy_cache_use_stale updating" in conf
    assert "location = /price { proxy_pass http://origin; proxy_cache_valid 200 2s; }" in conf
    assert "proxy_cache_valid 200 5s" in conf
    assert "listen 127.0.0.1:8080;" in conf


def _args(**given: object) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--duration", type=float, dest="duration_s")
    runner.add_arguments(parser)
    argv = [f"--{k.replace('_', '-')}={v}" for k, v in given.items() if k != "smoke"]
    return parser.parse_args([*argv, *(["--smoke"] if given.get("smoke") else [])])


def test_smoke_then_explicit_options_win() -> None:
    settings = runner.settings_from(_args(smoke=True, rounds=2, connections="8,64"))
    assert settings.rounds == 2
    assert settings.connections == (8, 64)
    assert settings.duration_s == runner.SMOKE["duration_s"]
    assert settings.command().startswith("marketcache bench --peers --rounds 2 ")
    assert runner.settings_from(_args()).rounds == runner.PeersSettings().rounds


def test_impossible_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="threads"):
        runner.settings_from(_args(connections="1", threads=2))
    with pytest.raises(SystemExit):
        _args(connections="0,16")


def test_the_recorded_quantile_is_the_bucket_that_holds_it() -> None:
    before = {0.001: 10.0, 0.01: 10.0, 0.1: 10.0, math.inf: 10.0}
    after = {0.001: 60.0, 0.01: 105.0, 0.1: 109.0, math.inf: 110.0}  # 100 more: 50/45/4/1
    assert recorded.quantile_bound_ms(before, after, 0.5) == pytest.approx(1.0)
    assert recorded.quantile_bound_ms(before, after, 0.9) == pytest.approx(10.0)
    assert recorded.quantile_bound_ms(before, after, 0.99) == pytest.approx(100.0)
    assert recorded.quantile_bound_ms(before, after, 1.0) == math.inf
    assert math.isnan(recorded.quantile_bound_ms(after, after, 0.5))


def test_a_run_is_primed_until_the_contender_answers_from_its_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers = ["miss", "miss", "hit"]
    asked: list[str] = []

    def fetch(url: str, shape: object) -> httpx.Response:
        asked.append(url)
        return httpx.Response(200, headers={"x-cache": answers.pop(0) if answers else "miss"})

    monkeypatch.setattr(contenders, "fetch", fetch)

    def from_cache(response: httpx.Response) -> bool:
        return response.headers["x-cache"] == "hit"

    cached = Contender("c", "", "http://127.0.0.1:1", 1, is_hit=from_cache)
    contenders.prime(cached, "/price")
    assert len(asked) == 3  # asked until the third answer, the hit
    with pytest.raises(RuntimeError, match="c no longer answers /price from its cache"):
        contenders.prime(cached, "/price", tries=4)
    assert len(asked) == 7
    contenders.prime(Contender("any", "", "http://127.0.0.1:1", 1), "/price")
    assert len(asked) == 8  # no way to tell a hit: one request
