"""Markdown tables of a `marketcache bench --peers` report, for docs/benchmarks/peers.md.

Usage: .venv/bin/python bench/peers_markdown.py docs/benchmarks/peers.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from marketcache.bench.peers.report import RATIOS, cell


def tables(report: dict[str, Any]) -> str:
    """The hits table, the ratios, the overload run and the slowloris probe."""
    cells = report["cells"]
    endpoints = list(dict.fromkeys(c["endpoint"] for c in cells))
    conns = sorted({c["connections"] for c in cells})
    names = list(report["contenders"])
    out = [
        "| contender | " + " | ".join(f"POST {e} c={n}" for e in endpoints for n in conns) + " |"
    ]
    out.append("|---|" + "---:|" * (len(endpoints) * len(conns)))
    for name in names:
        row = []
        for e in endpoints:
            for n in conns:
                c = cell(cells, e, n, name)
                row.append(
                    f"{c['rps']:,.0f} req/s, p50 {c['p50_ms']:.2f} / p99 {c['p99_ms']:.1f} ms, "
                    f"{c['cpu_us_per_request']:.0f} CPU-µs"
                )
        out.append(f"| {name} | " + " | ".join(row) + " |")
    out += [
        "",
        "| ours / peer | " + " | ".join(f"{e} c={n}" for e in endpoints for n in conns) + " |",
    ]
    out.append("|---|" + "---:|" * (len(endpoints) * len(conns)))
    for key, peer in RATIOS.items():
        row = []
        for e in endpoints:
            for n in conns:
                r = next(r for r in report["ratios"] if (r["endpoint"], r["connections"]) == (e, n))
                row.append(f"{r[key]:.2f}x ({r[key + '_by_cpu']:.2f}x)")
        out.append(f"| ours / {peer} | " + " | ".join(row) + " |")
    heads = ["contender", "conns", "seconds", "req/s", "timeouts", "other errors"]
    out += ["", _row([*heads, "p50 ms", "p99 ms", "max ms", "p99 the service recorded"])]
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, o in report["overload"].items():
        mine = o.get("recorded_by_the_service")
        own = f"≤ {mine['p99_ms_at_most']:g} ms" if mine else "-"
        out.append(
            f"| {name} | {o['connections']} | {o['duration_s']:g} | {o['rps']:,.0f} "
            f"| {o['timeouts']} | {o['errors'] - o['timeouts']} | {o['p50_ms']:.1f} "
            f"| {o['p99_ms']:.1f} | {o['max_ms']:.0f} | {own} |"
        )
    heads = ["contender", "slow connections", "cut by the server", "still open at the end"]
    out += ["", _row([*heads, "cut after (min / p50 / max s)", "a request meanwhile"])]
    out.append("|---|---|---:|---:|---|---|")
    for name, s in report["slowloris"].items():
        m = s["request_meanwhile"]
        meanwhile = f"{m['latency_ms']} ms" if m["ok"] else m.get("error", m.get("status"))
        for kind in ("partial_headers", "partial_body"):
            k = s[kind]
            after = k["cut_after_s"]
            cut = k["closed_by_server"] + k["answered"]
            out.append(
                f"| {name} | {k['connections']} {kind.replace('_', ' ')} | {cut} "
                f"| {k['still_open_at_end']} | {after['min']} / {after['p50']} / {after['max']} "
                f"| {meanwhile} |"
            )
    met = [g for g in report["goals"] if g["met"]]
    out += ["", f"Issue 14 goals met in this run: {len(met)} of {len(report['goals'])}."]
    return "\n".join(out)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


if __name__ == "__main__":
    print(tables(json.loads(Path(sys.argv[1]).read_text())))
