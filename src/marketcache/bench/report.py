"""The A/B report: one JSON-ready document per run, its ratios, targets and terminal table."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from marketcache.bench.loadgen import Record
from marketcache.bench.monitor import Samples, counter_delta
from marketcache.bench.stats import SideSummary, ratio, reduction, summarize

MB = 1024 * 1024
CACHE_COUNTERS = ("hits", "stale_hits", "misses", "coalesced", "lookups", "loads", "load_errors")


@dataclass
class SideRun:
    """Everything measured on one side: its records, the monitor's samples, /cache/stats."""

    name: str
    service_args: list[str]
    records: list[Record]
    elapsed_s: float
    samples: Samples
    cache_stats_before: dict[str, Any]
    cache_stats_after: dict[str, Any]


def side_report(run: SideRun) -> dict[str, Any]:
    """One side's section of the report."""
    summary: SideSummary = summarize(run.records, run.elapsed_s)
    samples = run.samples
    first, last = samples.upstream[0], samples.upstream[-1]
    upstream_requests = last.requests - first.requests
    upstream_weight = last.weight - first.weight
    rss = [b for _, b in samples.rss if b > 0]
    return {
        "service_args": run.service_args,
        **summary.to_dict(),
        "upstream": {
            "requests": upstream_requests,
            "weight": upstream_weight,
            "requests_by_path": counter_delta(samples.first_stats, samples.last_stats, "requests"),
            "weight_by_path": counter_delta(samples.first_stats, samples.last_stats, "weight"),
            "requests_per_client_request": ratio(upstream_requests, summary.requests),
            "weight_per_client_request": ratio(upstream_weight, summary.requests),
            "requests_per_s": ratio(upstream_requests, last.t - first.t),
            "peak_weight_this_minute": max(s.weight_this_minute for s in samples.upstream),
            # cumulative since the start of the run, one sample a second
            "samples": [
                {
                    "t": round(s.t, 3),
                    "requests": s.requests - first.requests,
                    "weight": s.weight - first.weight,
                }
                for s in samples.upstream
            ],
        },
        "rss_mb": {
            "peak": max(rss) / MB if rss else math.nan,
            "end": rss[-1] / MB if rss else math.nan,
        },
        "service_cache_stats": _cache_stats_delta(run.cache_stats_before, run.cache_stats_after),
    }


def _cache_stats_delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The growth of the service's own counters over the run (its hit rate counts both levels)."""
    old = before.get("data", {}).get("cache_stats", {})
    new = after.get("data", {}).get("cache_stats", {})
    grown = {name: int(new.get(name, 0)) - int(old.get(name, 0)) for name in CACHE_COUNTERS}
    served = grown["hits"] + grown["stale_hits"] + grown["coalesced"]
    return {
        **grown,
        "hit_rate": ratio(served, served + grown["misses"]),
        "entries": new.get("entries"),
        "memory_mb": new.get("memory_mb"),
    }


def ratios(uncached: dict[str, Any], cached: dict[str, Any]) -> dict[str, float]:
    """The comparison: how much faster, how much more throughput, how much less upstream."""
    u_lat, c_lat = uncached["latency_ok"], cached["latency_ok"]
    u_up, c_up = uncached["upstream"], cached["upstream"]
    return {
        "speedup_mean": ratio(u_lat["mean"], c_lat["mean"]),
        "speedup_p50": ratio(u_lat["p50"], c_lat["p50"]),
        "speedup_p95": ratio(u_lat["p95"], c_lat["p95"]),
        "speedup_p99": ratio(u_lat["p99"], c_lat["p99"]),
        "improvement_percent": 100.0 * reduction(u_lat["mean"], c_lat["mean"]),
        "throughput_ratio": ratio(cached["ok_throughput_rps"], uncached["ok_throughput_rps"]),
        "upstream_requests_reduction": reduction(u_up["requests"], c_up["requests"]),
        "upstream_weight_reduction": reduction(u_up["weight"], c_up["weight"]),
        "upstream_per_request_reduction": reduction(
            u_up["requests_per_client_request"], c_up["requests_per_client_request"]
        ),
    }


def _target(
    name: str, target: str, measured: float, passed: bool, unit: str = ""
) -> dict[str, Any]:
    return {"name": name, "target": target, "measured": measured, "unit": unit, "met": passed}


def targets(cached: dict[str, Any], comparison: dict[str, float]) -> list[dict[str, Any]]:
    """The deployment checklist's success criteria beside what this run measured."""
    warm_p95 = cached["latency_from_cache"]["p95"]
    all_p95 = cached["latency_ok"]["p95"]
    improvement = comparison["improvement_percent"]
    speedup = comparison["speedup_mean"]
    hit_rate = 100.0 * cached["hit_rate"]
    served = sum(cached["cache"].get(k, 0) for k in ("hit", "stale", "coalesced"))
    hit_to_miss = ratio(served, cached["cache"].get("miss", 0))
    upstream = 100.0 * comparison["upstream_per_request_reduction"]
    rss = cached["rss_mb"]["peak"]
    errors = 100.0 * cached["error_rate"]
    return [
        _target("warm p95 (answers served from cache)", "< 200 ms", warm_p95, warm_p95 < 200, "ms"),
        _target(
            "p95, every 2xx answer of the cached side", "< 200 ms", all_p95, all_p95 < 200, "ms"
        ),
        _target("improvement (mean latency)", ">= 80 %", improvement, improvement >= 80, "%"),
        _target("speed-up (mean latency)", ">= 5x", speedup, speedup >= 5, "x"),
        _target("hit rate", "> 80 %", hit_rate, hit_rate > 80, "%"),
        _target("hit-to-miss ratio", "> 10:1", hit_to_miss, hit_to_miss > 10, ":1"),
        _target(
            "upstream reduction (per client request)", ">= 50 %", upstream, upstream >= 50, "%"
        ),
        _target("RSS of the cached service (peak)", "< 400 MB", rss, rss < 400, "MB"),
        _target("error rate of the cached side", "< 1 %", errors, errors < 1, "%"),
    ]


def build_report(uncached: SideRun, cached: SideRun, header: dict[str, Any]) -> dict[str, Any]:
    """The whole document: header (settings, workload, layout), both sides, ratios, targets."""
    sides = {"uncached": side_report(uncached), "cached": side_report(cached)}
    comparison = ratios(sides["uncached"], sides["cached"])
    return {
        **header,
        "sides": sides,
        "ratios": comparison,
        "targets": targets(sides["cached"], comparison),
    }


# -- the terminal table ----------------------------------------------------------------


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _rows(report: dict[str, Any]) -> Sequence[tuple[str, str, str, str]]:
    u, c, r = report["sides"]["uncached"], report["sides"]["cached"], report["ratios"]
    pct = 100.0
    return [
        ("requests", _fmt(u["requests"]), _fmt(c["requests"]), ""),
        (
            "throughput (2xx/s)",
            _fmt(u["ok_throughput_rps"]),
            _fmt(c["ok_throughput_rps"]),
            f"{_fmt(r['throughput_ratio'], 2)}x",
        ),
        (
            "latency mean (ms)",
            _fmt(u["latency_ok"]["mean"]),
            _fmt(c["latency_ok"]["mean"]),
            f"{_fmt(r['speedup_mean'], 2)}x faster",
        ),
        (
            "latency p50 (ms)",
            _fmt(u["latency_ok"]["p50"]),
            _fmt(c["latency_ok"]["p50"]),
            f"{_fmt(r['speedup_p50'], 2)}x faster",
        ),
        (
            "latency p95 (ms)",
            _fmt(u["latency_ok"]["p95"]),
            _fmt(c["latency_ok"]["p95"]),
            f"{_fmt(r['speedup_p95'], 2)}x faster",
        ),
        (
            "latency p99 (ms)",
            _fmt(u["latency_ok"]["p99"]),
            _fmt(c["latency_ok"]["p99"]),
            f"{_fmt(r['speedup_p99'], 2)}x faster",
        ),
        ("p95 served from cache (ms)", "-", _fmt(c["latency_from_cache"]["p95"]), ""),
        (
            "data age mean / p95 / max (ms)",
            _ages(u["data_age"]),
            _ages(c["data_age"]),
            "",
        ),
        ("error rate (%)", _fmt(pct * u["error_rate"], 2), _fmt(pct * c["error_rate"], 2), ""),
        ("hit rate, X-Cache (%)", _fmt(pct * u["hit_rate"]), _fmt(pct * c["hit_rate"]), ""),
        ("hit rate, /cache/stats (%)", "-", _fmt(pct * c["service_cache_stats"]["hit_rate"]), ""),
        (
            "upstream requests",
            _fmt(u["upstream"]["requests"]),
            _fmt(c["upstream"]["requests"]),
            f"-{_fmt(pct * r['upstream_requests_reduction'])} %",
        ),
        (
            "upstream weight",
            _fmt(u["upstream"]["weight"]),
            _fmt(c["upstream"]["weight"]),
            f"-{_fmt(pct * r['upstream_weight_reduction'])} %",
        ),
        (
            "upstream per client request",
            _fmt(u["upstream"]["requests_per_client_request"], 3),
            _fmt(c["upstream"]["requests_per_client_request"], 3),
            f"-{_fmt(pct * r['upstream_per_request_reduction'])} %",
        ),
        (
            "peak weight in a minute",
            _fmt(u["upstream"]["peak_weight_this_minute"]),
            _fmt(c["upstream"]["peak_weight_this_minute"]),
            "",
        ),
        ("service RSS peak (MB)", _fmt(u["rss_mb"]["peak"]), _fmt(c["rss_mb"]["peak"]), ""),
    ]


def print_report(report: dict[str, Any], console: Console | None = None) -> None:
    """The side-by-side table and the targets, on the terminal."""
    console = console or Console()
    settings = report["settings"]
    table = Table(
        title=(
            f"marketcache bench: {settings['users']} users, {settings['duration_s']:g} s per side, "
            f"{report['layout']}, exchange latency {settings['latency_ms']:g}"
            f"±{settings['jitter_ms']:g} ms"
        )
    )
    table.add_column("metric")
    table.add_column("uncached", justify="right")
    table.add_column("cached", justify="right")
    table.add_column("cached vs uncached", justify="right")
    for row in _rows(report):
        table.add_row(*row)
    console.print(table)
    checks = Table(title="deployment checklist targets")
    checks.add_column("criterion")
    checks.add_column("target", justify="right")
    checks.add_column("measured", justify="right")
    checks.add_column("met", justify="center")
    for item in report["targets"]:
        measured = f"{_fmt(item['measured'])} {item['unit']}".strip()
        checks.add_row(item["name"], item["target"], measured, "yes" if item["met"] else "NO")
    console.print(checks)


def _ages(age: dict[str, Any]) -> str:
    """`mean / p95 / max` of a side's data ages."""
    return f"{_fmt(age['mean'])} / {_fmt(age['p95'])} / {_fmt(age['max'])}"
