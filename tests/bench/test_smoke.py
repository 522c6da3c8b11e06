"""`marketcache bench --smoke` end to end: the report exists and its numbers agree."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import orjson
import pytest

from marketcache.cli import main

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(240)]

SERVED = ("hit", "stale", "coalesced")


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """One smoke run for the module: its JSON report and its PNG."""
    out = tmp_path_factory.mktemp("bench")
    json_path, png_path = out / "ab.json", out / "ab.png"
    code = main(["bench", "--smoke", "--json", str(json_path), "--png", str(png_path)])
    assert code == 0
    return orjson.loads(json_path.read_bytes()), png_path


def test_the_report_and_the_plot_are_written(smoke: tuple[dict[str, Any], Path]) -> None:
    report, png = smoke
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert report["command"].startswith("marketcache bench ")
    assert report["layout"] == "sequential"
    assert set(report["sides"]) == {"uncached", "cached"}
    assert report["workload"]["endpoints"]
    assert len(report["targets"]) >= 5


@pytest.mark.parametrize("name", ["uncached", "cached"])
def test_each_side_adds_up(smoke: tuple[dict[str, Any], Path], name: str) -> None:
    side = smoke[0]["sides"][name]
    assert side["requests"] > 0
    assert side["requests"] == sum(side["statuses"].values())
    assert side["requests"] == sum(side["cache"].values())
    assert side["ok"] + side["errors"] == side["requests"]
    assert side["ok"] == sum(n for code, n in side["statuses"].items() if code.startswith("2"))
    assert side["error_rate"] == pytest.approx(side["errors"] / side["requests"])
    assert side["throughput_rps"] == pytest.approx(side["requests"] / side["elapsed_s"])
    assert sum(e["requests"] for e in side["endpoints"].values()) == side["requests"]
    upstream = side["upstream"]
    assert upstream["requests"] == sum(upstream["requests_by_path"].values())
    assert upstream["weight"] == sum(upstream["weight_by_path"].values())
    assert upstream["samples"][-1]["requests"] == upstream["requests"]
    assert upstream["samples"][-1]["weight"] == upstream["weight"]
    counts = [s["requests"] for s in upstream["samples"]]
    assert counts == sorted(counts)
    assert side["rss_mb"]["peak"] > 0


def test_the_uncached_side_bypasses_and_the_cached_side_looks_up(
    smoke: tuple[dict[str, Any], Path],
) -> None:
    uncached, cached = smoke[0]["sides"]["uncached"], smoke[0]["sides"]["cached"]
    assert set(uncached["cache"]) <= {"bypass", "none"}
    assert uncached["hit_rate"] is None  # NaN is written as null
    assert set(cached["cache"]) <= {*SERVED, "miss", "none"}
    looked_up = sum(cached["cache"].get(k, 0) for k in (*SERVED, "miss"))
    assert looked_up + cached["cache"].get("none", 0) == cached["requests"]
    served = sum(cached["cache"].get(k, 0) for k in SERVED)
    assert cached["hit_rate"] == pytest.approx(served / looked_up)
    assert cached["service_cache_stats"]["lookups"] > 0


def test_ratios_are_quotients_of_the_sides(smoke: tuple[dict[str, Any], Path]) -> None:
    report = smoke[0]
    u, c, r = report["sides"]["uncached"], report["sides"]["cached"], report["ratios"]
    assert r["speedup_mean"] == pytest.approx(u["latency_ok"]["mean"] / c["latency_ok"]["mean"])
    assert r["speedup_p95"] == pytest.approx(u["latency_ok"]["p95"] / c["latency_ok"]["p95"])
    assert r["throughput_ratio"] == pytest.approx(c["ok_throughput_rps"] / u["ok_throughput_rps"])
    uu, cu = u["upstream"], c["upstream"]
    if uu["requests"]:
        assert r["upstream_requests_reduction"] == pytest.approx(
            1 - cu["requests"] / uu["requests"]
        )
    per_request = r["upstream_per_request_reduction"]
    expected = 1 - cu["requests_per_client_request"] / uu["requests_per_client_request"]
    assert per_request == pytest.approx(expected)
    assert not math.isnan(r["improvement_percent"])
