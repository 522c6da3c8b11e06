"""The peers plot: median req/s and p99 of every contender, per endpoint and connection count."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from marketcache.bench.peers.report import OURS, cell

COLORS = {"marketcache": "tab:blue", "nginx": "tab:green", "fastapi-cache2": "tab:red"}
COLORS["raw-asgi"] = "tab:grey"


def write_png(path: Path, report: dict[str, Any]) -> Path:
    """Three rows (req/s, p99, CPU per request), a column per endpoint; returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = report["cells"]
    endpoints = list(dict.fromkeys(c["endpoint"] for c in table))
    conns = sorted({c["connections"] for c in table})
    names = list(dict.fromkeys(c["contender"] for c in table))
    figure, axes = plt.subplots(
        3, len(endpoints), figsize=(6.5 * len(endpoints), 13), squeeze=False
    )
    width = 0.8 / max(1, len(names))
    for col, endpoint in enumerate(endpoints):
        rps_ax, p99_ax, cpu_ax = axes[0][col], axes[1][col], axes[2][col]
        for i, name in enumerate(names):
            xs = [j + (i - (len(names) - 1) / 2) * width for j in range(len(conns))]
            mine = [cell(table, endpoint, c, name) for c in conns]
            color = COLORS.get(name, "tab:purple")
            bars = rps_ax.bar(xs, [m["rps"] for m in mine], width, label=name, color=color)
            rps_ax.bar_label(bars, labels=[f"{m['rps'] / 1000:.1f}k" for m in mine], fontsize=7)
            bars = p99_ax.bar(xs, [m["p99_ms"] for m in mine], width, label=name, color=color)
            p99_ax.bar_label(bars, labels=[f"{m['p99_ms']:.1f}" for m in mine], fontsize=7)
            cpu = [m["cpu_us_per_request"] for m in mine]
            bars = cpu_ax.bar(xs, cpu, width, label=name, color=color)
            cpu_ax.bar_label(bars, labels=[f"{v:.0f}" for v in cpu], fontsize=7)
        for ax in (rps_ax, p99_ax, cpu_ax):
            ax.set_xticks(range(len(conns)), [f"{c} connections" for c in conns])
            ax.grid(True, axis="y", alpha=0.3)
        rows = [r for r in report["ratios"] if r["endpoint"] == endpoint]
        ratios = "; ".join(
            f"c={r['connections']}: {r['ours_over_nginx']:.2f}x nginx, "
            f"{r['ours_over_raw']:.2f}x raw"
            for r in rows
        )
        rps_ax.set_title(f"POST {endpoint} hits: median req/s\n{OURS} = {ratios}", fontsize=9)
        rps_ax.set_ylabel("requests per second")
        p99_ax.set_title(f"{endpoint}: median p99 latency (ms, log scale)", fontsize=9)
        p99_ax.set_yscale("log")
        p99_ax.set_ylabel("p99 (ms)")
        cpu_ax.set_title(f"{endpoint}: server CPU per request (µs, its processes)", fontsize=9)
        cpu_ax.set_ylabel("CPU µs per request")
        rps_ax.legend(fontsize=8)
    settings = report["settings"]
    figure.suptitle(
        f"marketcache bench --peers: wrk -t{settings['threads']}, {settings['duration_s']:g} s "
        f"per run, median of {settings['rounds']} interleaved rounds, "
        f"{report['machine']['cpus']} CPUs, load average "
        f"{report['machine']['load_average_at_start'][0]:.1f} at the start"
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
