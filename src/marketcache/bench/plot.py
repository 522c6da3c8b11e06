"""The A/B plot: latency distributions of both sides and upstream requests per second."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from marketcache.bench.loadgen import Record
from marketcache.bench.stats import per_second

COLORS = {"uncached": "tab:red", "cached": "tab:blue"}


def write_png(path: Path, report: dict[str, Any], records: dict[str, list[Record]]) -> Path:
    """Draw the two panels and save them; returns the path written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (latency_ax, upstream_ax) = plt.subplots(1, 2, figsize=(13, 5))
    for side in ("uncached", "cached"):
        latencies = sorted(r.latency_ms for r in records[side] if r.ok)
        if latencies:
            n = len(latencies)
            latency_ax.step(
                latencies,
                [(i + 1) / n for i in range(n)],
                where="post",
                color=COLORS[side],
                label=_latency_label(side, report["sides"][side]["latency_ok"]),
            )
        samples = report["sides"][side]["upstream"]["samples"]
        rates = per_second((s["t"], s["requests"]) for s in samples)
        if rates:
            total = report["sides"][side]["upstream"]["requests"]
            # each rate holds over (previous sample, this sample]: draw it from the first one
            upstream_ax.step(
                [samples[0]["t"], *(t for t, _ in rates)],
                [rates[0][1], *(rate for _, rate in rates)],
                where="pre",
                color=COLORS[side],
                label=f"{side}: {total:,} upstream requests",
            )
    latency_ax.set_xscale("log")
    latency_ax.set_xlabel("latency of 2xx answers (ms, log scale)")
    latency_ax.set_ylabel("fraction of answers ≤ latency")
    latency_ax.axvline(200, color="grey", linestyle="--", linewidth=1, label="200 ms target")
    latency_ax.set_title("client latency distribution (CDF)")
    latency_ax.grid(True, which="both", alpha=0.3)
    latency_ax.legend(loc="lower right", fontsize=8)
    upstream_ax.set_xlabel("seconds since the side's run began")
    upstream_ax.set_ylabel("upstream requests per second")
    upstream_ax.set_title("requests reaching the exchange (emulator counters)")
    upstream_ax.grid(True, alpha=0.3)
    upstream_ax.legend(loc="upper right", fontsize=8)
    upstream_ax.set_ylim(bottom=0)
    settings = report["settings"]
    figure.suptitle(
        f"marketcache A/B: {settings['users']} users, {settings['duration_s']:g} s, "
        f"{report['layout']}, exchange latency {settings['latency_ms']:g}±"
        f"{settings['jitter_ms']:g} ms, Zipf s={settings['zipf_s']:g}"
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _latency_label(side: str, latency: dict[str, Any]) -> str:
    return (
        f"{side}: p50 {latency['p50']:.1f} ms, p95 {latency['p95']:.1f} ms, "
        f"p99 {latency['p99']:.1f} ms"
    )
