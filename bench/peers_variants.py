"""Our hit path under variations: request log off, fast path off, uvicorn's knobs, granian.

Every variant is our cached service on the emulator, warmed, driven by the same wrk matrix
as `marketcache bench --peers` (interleaved rounds, medians), next to the raw ASGI ceiling
on uvicorn and on granian; then a bounded 1,000-connection run and a slowloris probe for
each. Needs wrk (scripts/ensure-nginx-wrk.sh) and, for the granian rows, granian in .venv.
Usage: .venv/bin/python bench/peers_variants.py [--rounds 2] [--seconds 5] [--overload 10]
       [--hold 20] [--only NAME,NAME]
Prints markdown tables; writes bench/out/variants-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from marketcache import procutil
from marketcache.bench.peers import contenders as c
from marketcache.bench.peers import matrix, report, slowloris
from marketcache.bench.peers.apps import payloads
from marketcache.bench.peers.procs import Daemon, http_ready
from marketcache.emulator.process import EmulatorProcess
from marketcache.netutil import free_port

VARIANT = [sys.executable, "-m", "marketcache.bench.peers.serve_variant", "--port", "{port}"]
# name -> (environment, serve_variant options or None for the real `marketcache serve`)
OURS: dict[str, tuple[dict[str, str], list[str] | None]] = {
    "default": ({}, None),
    "log off (LOG_LEVEL=warning)": ({"LOG_LEVEL": "warning"}, None),
    "fast path off (FAST_PATH=false)": ({"FAST_PATH": "false"}, None),
    "uvicorn --limit-concurrency 64": ({}, ["--limit-concurrency", "64"]),
    "uvicorn --backlog 8192": ({}, ["--backlog", "8192"]),
    "uvicorn --timeout-keep-alive 1": ({}, ["--timeout-keep-alive", "1"]),
    "granian (1 worker)": ({}, ["--server", "granian"]),
    "granian, log off": ({"LOG_LEVEL": "warning"}, ["--server", "granian"]),
}
RAW = {"raw ASGI on uvicorn": "uvicorn", "raw ASGI on granian": "granian"}


@contextlib.contextmanager
def start_raw(name: str, server: str, payload_dir: Path) -> Iterator[c.Contender]:
    """The raw ceiling on `server`, through serve_variant."""
    port = free_port()
    argv = [a.replace("{port}", str(port)) for a in VARIANT]
    argv += ["--server", server, "--app", "raw"]
    base = f"http://127.0.0.1:{port}"
    env = {payloads.ENV: str(payload_dir)}
    with Daemon(name, argv, env=env, ready=http_ready(base)) as d:
        yield c.warm(c.Contender(name, "raw ASGI ceiling", base, d.pid), lambda r: True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--overload", type=float, default=10.0, help="seconds at 1,000 conns")
    parser.add_argument("--hold", type=float, default=20.0, help="slowloris hold, seconds")
    parser.add_argument("--only", help="comma-separated variant names to run")
    parser.add_argument("--tables", type=Path, help="only print the tables of a saved JSON")
    args = parser.parse_args()
    if args.tables:
        saved = json.loads(args.tables.read_text())
        cells = report.cells(saved["runs"])
        names = list(dict.fromkeys(cell["contender"] for cell in cells))
        print_tables(names, cells, saved["overload"], saved["slowloris"])
        return 0
    wanted = set(args.only.split(",")) if args.only else None
    has_granian = importlib.util.find_spec("granian") is not None
    names = [n for n in [*OURS, *RAW] if wanted is None or n in wanted]
    names = [n for n in names if has_granian or "granian" not in n]
    procutil.exit_on_sigterm()
    with contextlib.ExitStack() as stack:
        script_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="variants-")))
        emulator = stack.enter_context(EmulatorProcess(die_with_parent=True))
        everyone: list[c.Contender] = []
        for name in names:
            if name in OURS:
                env, options = OURS[name]
                command = (
                    None
                    if options is None
                    else [*VARIANT, "--exchange-url", emulator.url, *options]
                )
                everyone.append(
                    stack.enter_context(
                        c.start_ours(emulator.url, name=name, env=env, command=command)
                    )
                )
        if any(n in RAW for n in names):
            first = everyone[0] if everyone else stack.enter_context(c.start_ours(emulator.url))
            payload_dir = script_dir / "payloads"
            payloads.write(payload_dir, c.capture_answers(first))
            for name in (n for n in names if n in RAW):
                everyone.append(stack.enter_context(start_raw(name, RAW[name], payload_dir)))
        runs = matrix.run_matrix(
            everyone,
            endpoints=list(c.ENDPOINTS),
            connections=(16, 256),
            rounds=args.rounds,
            duration_s=args.seconds,
            script_dir=script_dir,
        )
        over = matrix.overload(
            everyone,
            endpoint="/price",
            connections=1000,
            duration_s=args.overload,
            script_dir=script_dir,
        )
        slow = asyncio.run(slowloris.probe(everyone, headers=20, body=50, hold_s=args.hold))
    cells = report.cells(runs)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = Path("bench/out") / f"variants-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "command": " ".join(sys.argv),
        "runs": runs,
        "cells": cells,
        "overload": over,
        "slowloris": slow,
    }
    out.write_text(json.dumps(document, indent=2))
    print(f"written: {out}", file=sys.stderr)
    print_tables(names, cells, over, slow)
    return 0


def print_tables(
    names: list[str], cells: list[dict[str, Any]], over: dict[str, Any], slow: dict[str, Any]
) -> None:
    """Markdown: CPU per request (each round), against the default, and req/s; then the
    1,000-connection run and the slowloris probe."""
    columns = [(e, n) for e in c.ENDPOINTS for n in (16, 256)]
    print(_row(["variant", *(f"{e} c={n}" for e, n in columns)]))
    print("|---|" + "---:|" * len(columns))
    base = names[0]
    for name in names:
        parts = []
        for e, n in columns:
            mine, ref = report.cell(cells, e, n, name), report.cell(cells, e, n, base)
            rounds = "/".join(f"{r:.0f}" for r in mine["cpu_us_per_request_rounds"])
            cheaper = report.ratio(ref["cpu_us_per_request"], mine["cpu_us_per_request"])
            part = f"{mine['cpu_us_per_request']:.0f} µs ({rounds}), {cheaper:.2f}x; "
            part += f"{mine['rps']:,.0f} req/s"
            if mine["errors"]:
                part += f", {mine['errors']} non-2xx"
            parts.append(part)
        print(_row([name, *parts]))
    heads = ["variant", "1,000 conns: req/s", "timeouts", "503s", "p50 / p99 ms"]
    print(
        "\n"
        + _row(
            [
                *heads,
                "slow headers cut (after s)",
                "slow bodies cut (after s)",
                "a request meanwhile",
            ]
        )
    )
    print("|---|---:|---:|---:|---|---|---|---|")
    for name in names:
        o, s = over[name], slow[name]
        m = s["request_meanwhile"]
        meanwhile = f"{m['latency_ms']} ms" if m["ok"] else m.get("error", m.get("status"))
        cells_ = [name, f"{o['rps']:,.0f}", str(o["timeouts"]), str(o["status_errors"])]
        cells_ += [f"{o['p50_ms']:.0f} / {o['p99_ms']:.0f}", _cut(s["partial_headers"])]
        print(_row([*cells_, _cut(s["partial_body"]), meanwhile]))


def _cut(kind: dict[str, Any]) -> str:
    cut = kind["closed_by_server"] + kind["answered"]
    return f"{cut} ({kind['cut_after_s']['max']})" if cut else "0"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


if __name__ == "__main__":
    raise SystemExit(main())
