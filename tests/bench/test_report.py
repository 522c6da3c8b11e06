"""The report built from synthetic side runs: sections, ratios, targets, table and plot."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from marketcache.bench.loadgen import Record
from marketcache.bench.monitor import Samples, UpstreamSample, counter_delta
from marketcache.bench.plot import write_png
from marketcache.bench.report import SideRun, build_report, print_report

HEADER: dict[str, Any] = {
    "layout": "sequential",
    "settings": {
        "users": 2,
        "duration_s": 3.0,
        "latency_ms": 150.0,
        "jitter_ms": 50.0,
        "zipf_s": 1.1,
    },
}


def emulator_stats(klines: int, tickers: int) -> dict[str, Any]:
    requests = {"/api/v3/klines": klines, "/api/v3/ticker/24hr": tickers}
    weight = {path: 2 * n for path, n in requests.items()}
    return {
        "requests": requests,
        "weight": weight,
        "total_requests": klines + tickers,
        "total_weight": 2 * (klines + tickers),
        "weight_this_minute": 2 * (klines + tickers),
    }


def cache_stats(hits: int, misses: int) -> dict[str, Any]:
    return {"data": {"cache_stats": {"hits": hits, "misses": misses, "entries": 3}}}


def side(
    name: str, latencies: list[float], cache: str | None, upstream: list[tuple[int, int]]
) -> SideRun:
    records = [Record(0, "price", i * 0.1, ms, 200, cache) for i, ms in enumerate(latencies)]
    samples = Samples(
        upstream=[
            UpstreamSample(float(t), k + p, 2 * (k + p), 2 * (k + p))
            for t, (k, p) in enumerate(upstream)
        ],
        rss=[(0.0, 100 * 1024 * 1024), (1.0, 120 * 1024 * 1024)],
        first_stats=emulator_stats(*upstream[0]),
        last_stats=emulator_stats(*upstream[-1]),
    )
    return SideRun(name, [], records, 3.0, samples, cache_stats(0, 0), cache_stats(8, 2))


def report() -> dict[str, Any]:
    uncached = side("uncached", [200.0] * 10, "bypass", [(1, 0), (4, 2), (7, 4)])
    cached = side("cached", [2.0] * 18 + [300.0] * 2, None, [(0, 0), (2, 1), (3, 1)])
    for i, record in enumerate(cached.records):
        label = "miss" if record.latency_ms > 100 else ("hit" if i % 2 else "stale")
        cached.records[i] = Record(0, "price", record.start_s, record.latency_ms, 200, label)
    return build_report(uncached, cached, HEADER)


def test_upstream_totals_are_the_growth_of_the_emulators_counters() -> None:
    up = report()["sides"]["uncached"]["upstream"]
    assert up["requests"] == 10  # from (1 + 0) to (7 + 4)
    assert up["weight"] == 20
    assert up["requests_by_path"] == {"/api/v3/klines": 6, "/api/v3/ticker/24hr": 4}
    assert sum(up["requests_by_path"].values()) == up["requests"]
    assert up["samples"][0]["requests"] == 0
    assert up["samples"][-1]["requests"] == up["requests"]
    assert up["requests_per_client_request"] == pytest.approx(1.0)


def test_ratios_are_quotients_of_the_sides() -> None:
    built = report()
    u, c, r = built["sides"]["uncached"], built["sides"]["cached"], built["ratios"]
    assert r["speedup_mean"] == pytest.approx(u["latency_ok"]["mean"] / c["latency_ok"]["mean"])
    assert r["speedup_p50"] == pytest.approx(200.0 / 2.0)
    assert r["speedup_p95"] == pytest.approx(u["latency_ok"]["p95"] / c["latency_ok"]["p95"])
    assert r["improvement_percent"] == pytest.approx(
        100 * (1 - c["latency_ok"]["mean"] / u["latency_ok"]["mean"])
    )
    assert r["throughput_ratio"] == pytest.approx(20 / 10)
    assert r["upstream_requests_reduction"] == pytest.approx(1 - 4 / 10)
    assert r["upstream_weight_reduction"] == pytest.approx(1 - 8 / 20)
    assert r["upstream_per_request_reduction"] == pytest.approx(1 - (4 / 20) / (10 / 10))


def test_cached_side_counts_and_service_stats() -> None:
    cached = report()["sides"]["cached"]
    assert cached["hit_rate"] == pytest.approx(18 / 20)
    assert sum(cached["cache"].values()) == cached["requests"] == 20
    assert cached["latency_from_cache"]["max"] == 2.0
    assert cached["service_cache_stats"]["hits"] == 8
    assert cached["service_cache_stats"]["hit_rate"] == pytest.approx(0.8)
    assert cached["rss_mb"] == {"peak": 120.0, "end": 120.0}


def test_targets_compare_measurements_with_the_checklist() -> None:
    by_name = {t["name"]: t for t in report()["targets"]}
    assert by_name["hit rate"]["measured"] == pytest.approx(90.0)
    assert by_name["hit rate"]["met"] is True
    assert by_name["hit-to-miss ratio"]["measured"] == pytest.approx(9.0)
    assert by_name["hit-to-miss ratio"]["met"] is False
    assert by_name["warm p95 (answers served from cache)"]["met"] is True
    assert by_name["RSS of the cached service (peak)"]["measured"] == 120.0
    upstream = by_name["upstream reduction (per client request)"]
    assert upstream["measured"] == pytest.approx(80.0)
    assert upstream["met"] is True


def test_counter_delta_drops_paths_that_did_not_grow() -> None:
    before = {"requests": {"/a": 3, "/b": 1}}
    after = {"requests": {"/a": 5, "/b": 1, "/c": 2}}
    assert counter_delta(before, after, "requests") == {"/a": 2, "/c": 2}


def test_the_table_shows_both_sides_and_the_targets() -> None:
    console = Console(record=True, width=140)
    print_report(report(), console)
    text = console.export_text()
    for needle in (
        "uncached",
        "cached",
        "latency p95",
        "upstream requests",
        "hit rate",
        "< 400 MB",
    ):
        assert needle in text


def test_nan_values_print_as_not_available() -> None:
    built = report()
    built["sides"]["uncached"]["hit_rate"] = math.nan
    console = Console(record=True, width=140)
    print_report(built, console)
    assert "n/a" in console.export_text()


def test_the_plot_is_a_png(tmp_path: Path) -> None:
    uncached = side("uncached", [200.0, 210.0], "bypass", [(0, 0), (1, 1), (2, 2)])
    cached = side("cached", [1.0, 2.0], "hit", [(0, 0), (1, 0), (1, 1)])
    built = build_report(uncached, cached, HEADER)
    path = write_png(
        tmp_path / "out" / "ab.png",
        built,
        {"uncached": uncached.records, "cached": cached.records},
    )
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
