"""The peers report: medians per cell, our ratios to each peer, the goals of issue 14, a table."""

from __future__ import annotations

import math
import statistics
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from marketcache.bench.stats import ratio

OURS = "marketcache"
# ratio name -> the peer our median req/s is divided by
RATIOS = {"ours_over_nginx": "nginx", "ours_over_fastapi_cache2": "fastapi-cache2"}
RATIOS["ours_over_raw"] = "raw-asgi"
# issue 14's goals: ratio floors, and p99 ceilings per connection count
RATIO_GOALS = {"ours_over_nginx": 0.5, "ours_over_fastapi_cache2": 10.0, "ours_over_raw": 0.8}
P99_GOALS_MS = {16: 1.0, 256: 15.0}
OVERLOAD_P99_GOAL_MS = 100.0


def cells(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One cell per (endpoint, connections, contender): medians over its rounds."""
    grouped: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
    for run in runs:
        grouped.setdefault((run["endpoint"], run["connections"], run["contender"]), []).append(run)
    out = []
    for (endpoint, conns, contender), mine in grouped.items():
        out.append(
            {
                "endpoint": endpoint,
                "connections": conns,
                "contender": contender,
                "rounds": len(mine),
                "rps": statistics.median(r["rps"] for r in mine),
                "p50_ms": statistics.median(r["p50_ms"] for r in mine),
                "p99_ms": statistics.median(r["p99_ms"] for r in mine),
                "cpu_us_per_request": _median_of_finite(r["cpu_us_per_request"] for r in mine),
                "requests": sum(r["requests"] for r in mine),
                "errors": sum(r["errors"] for r in mine),
                "rps_rounds": [r["rps"] for r in mine],
                "p99_ms_rounds": [r["p99_ms"] for r in mine],
                "cpu_us_per_request_rounds": [r["cpu_us_per_request"] for r in mine],
            }
        )
    return out


def _median_of_finite(values: Iterable[float]) -> float:
    """The median of the values that are numbers (a run that completed nothing has NaN)."""
    finite = [v for v in values if not math.isnan(v)]
    return statistics.median(finite) if finite else math.nan


def cell(table: Sequence[dict[str, Any]], endpoint: str, conns: int, name: str) -> dict[str, Any]:
    """The cell of `name` at (endpoint, conns) (KeyError if it did not run)."""
    for c in table:
        if (c["endpoint"], c["connections"], c["contender"]) == (endpoint, conns, name):
            return c
    raise KeyError((endpoint, conns, name))


def ratios(table: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Our median req/s over each peer's, and their CPU per request over ours, per cell."""
    out = []
    for endpoint, conns in dict.fromkeys((c["endpoint"], c["connections"]) for c in table):
        ours = cell(table, endpoint, conns, OURS)
        row: dict[str, Any] = {"endpoint": endpoint, "connections": conns}
        for name, peer in RATIOS.items():
            theirs = cell(table, endpoint, conns, peer)
            row[name] = ratio(ours["rps"], theirs["rps"])
            # the same comparison by the work a request costs: their CPU-µs over ours
            row[f"{name}_by_cpu"] = ratio(theirs["cpu_us_per_request"], ours["cpu_us_per_request"])
        out.append(row)
    return out


def goals(
    table: Sequence[dict[str, Any]], rows: Sequence[dict[str, Any]], over: dict[str, Any]
) -> list[dict[str, Any]]:
    """Each of issue 14's measurable goals with its value in this run and whether it is met."""
    out = []
    for row in rows:
        where = f"{row['endpoint']} c={row['connections']}"
        for name, floor in RATIO_GOALS.items():
            value = row[name]
            out.append(
                {
                    "goal": f"{name} {where}",
                    "value": value,
                    "target": f">= {floor:g}",
                    "met": value >= floor,
                }
            )
        ceiling = P99_GOALS_MS.get(row["connections"])
        if ceiling is not None:
            p99 = cell(table, row["endpoint"], row["connections"], OURS)["p99_ms"]
            out.append(
                {
                    "goal": f"p99 {where}",
                    "value": p99,
                    "target": f"<= {ceiling:g} ms",
                    "met": p99 <= ceiling,
                }
            )
    if OURS in over:
        mine = over[OURS]
        where = f"{mine['endpoint']} c={mine['connections']}"
        out.append(
            {
                "goal": f"timeouts {where}",
                "value": mine["timeouts"],
                "target": "== 0",
                "met": mine["timeouts"] == 0,
            }
        )
        out.append(
            {
                "goal": f"p99 {where}",
                "value": mine["p99_ms"],
                "target": f"<= {OVERLOAD_P99_GOAL_MS:g} ms",
                "met": mine["p99_ms"] <= OVERLOAD_P99_GOAL_MS,
            }
        )
    return out


def build_report(
    header: dict[str, Any],
    contenders: dict[str, dict[str, Any]],
    runs: list[dict[str, Any]],
    over: dict[str, dict[str, Any]],
    slow: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """The whole JSON document of one peers run."""
    table = cells(runs)
    rows = ratios(table)
    return {
        **header,
        "contenders": contenders,
        "runs": runs,
        "cells": table,
        "ratios": rows,
        "overload": over,
        "slowloris": slow,
        "goals": goals(table, rows, over),
    }


def print_report(report: dict[str, Any], console: Console | None = None) -> None:
    """The tables of a peers report on the terminal."""
    console = console or Console(width=None if sys.stdout.isatty() else 120)
    console.print(f"[bold]{report['benchmark']}[/bold]   $ {report['command']}")
    main = Table(title=f"hits: median of {report['settings']['rounds']} interleaved rounds")
    columns = ("endpoint", "conns", "contender", "req/s", "p50 ms", "p99 ms", "CPU µs/req")
    for column in (*columns, "errors"):
        main.add_column(column, justify="left" if column in ("endpoint", "contender") else "right")
    for c in report["cells"]:
        main.add_row(
            c["endpoint"],
            str(c["connections"]),
            c["contender"],
            f"{c['rps']:,.0f}",
            f"{c['p50_ms']:.2f}",
            f"{c['p99_ms']:.2f}",
            f"{c['cpu_us_per_request']:.0f}",
            str(c["errors"]),
        )
    console.print(main)
    ratio_table = Table(title="ours / peer: by median req/s (by CPU-µs per request)")
    for column in ("endpoint", "conns", *(f"ours / {peer}" for peer in RATIOS.values())):
        ratio_table.add_column(column)
    for row in report["ratios"]:
        ratio_table.add_row(
            row["endpoint"],
            str(row["connections"]),
            *(f"{row[name]:.2f}x ({row[name + '_by_cpu']:.2f}x)" for name in RATIOS),
        )
    console.print(ratio_table)
    if report["overload"]:
        over = Table(title="overload: one run per contender")
        columns = ("contender", "conns", "seconds", "req/s", "timeouts", "errors", "p99 ms")
        for column in (*columns, "p99 the service recorded"):
            over.add_column(column)
        for name, o in report["overload"].items():
            mine = o.get("recorded_by_the_service")
            over.add_row(
                name,
                str(o["connections"]),
                f"{o['duration_s']:g}",
                f"{o['rps']:,.0f}",
                str(o["timeouts"]),
                str(o["errors"]),
                f"{o['p99_ms']:.1f}",
                f"<= {mine['p99_ms_at_most']:g} ms" if mine else "-",
            )
        console.print(over)
    if report["slowloris"]:
        slow = Table(title="slowloris: slow connections held open, and when the server cut them")
        for column in (
            "contender",
            "kind",
            "opened",
            "cut",
            "still open",
            "cut after s (p50/max)",
            "request meanwhile",
        ):
            slow.add_column(column)
        for name, s in report["slowloris"].items():
            meanwhile = s["request_meanwhile"]
            served = (
                f"{meanwhile['latency_ms']} ms"
                if meanwhile["ok"]
                else meanwhile.get("error", meanwhile.get("status"))
            )
            for kind in ("partial_headers", "partial_body"):
                k = s[kind]
                cut = k["closed_by_server"] + k["answered"]
                after = k["cut_after_s"]
                slow.add_row(
                    name,
                    kind,
                    str(k["connections"] - k["refused"]),
                    str(cut),
                    str(k["still_open_at_end"]),
                    f"{after['p50']} / {after['max']}",
                    served,
                )
        console.print(slow)
    met = sum(1 for g in report["goals"] if g["met"])
    console.print(f"issue 14 goals met: {met} of {len(report['goals'])}")
