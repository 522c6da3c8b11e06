"""Hits' tail with the request log written every 20 ms, every 250 ms, to /dev/null, or off.

Our service (`marketcache serve`, default settings, emulator as the exchange, hot keys
warmed, each run primed so that it measures hits) in variants side by side, rounds
interleaved: the request log's lines written to a file every `DRAIN_EVERY_S` (the service's
20 ms, and the 250 ms it had before), the same to /dev/null (no page cache to copy into),
and the log off (LOG_LEVEL=warning). wrk, one thread, `POST /price`. The interval is set
in the child by a `python -c` wrapper around `marketcache serve` (started as the peers
bench starts ours: `contenders.start_ours`); nothing else differs.
Needs wrk (scripts/ensure-nginx-wrk.sh).
Usage: .venv/bin/python bench/log_drain.py [--rounds 3] [--seconds 4] [--connections 16 256]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
from pathlib import Path

from marketcache.bench.peers import contenders, wrk
from marketcache.emulator.process import EmulatorProcess

ENDPOINT = "/price"
# name → (request log interval, where the server's output goes, extra environment)
VARIANTS: dict[str, tuple[float, str, dict[str, str]]] = {
    "log to a file, every 20 ms (now)": (0.02, "file", {}),
    "log to a file, every 250 ms (before)": (0.25, "file", {}),
    "log to /dev/null, every 20 ms": (0.02, os.devnull, {}),
    "log off": (0.02, os.devnull, {"LOG_LEVEL": "warning"}),
}
# argv: the interval, where the output goes, then serve's own
_WRAPPER = """\
import os, sys
import marketcache.access_log as access_log
access_log.DRAIN_EVERY_S = float(sys.argv[1])
if sys.argv[2] != "file":  # else it goes to the Daemon's own log file
    sink = os.open(sys.argv[2], os.O_WRONLY)
    os.dup2(sink, 1)
    os.dup2(sink, 2)
from marketcache.cli import main
sys.exit(main(sys.argv[3:]))
"""


def command(exchange_url: str, drain_s: float, sink: str) -> list[str]:
    """`marketcache serve` with the request log drained every `drain_s`, output to `sink`."""
    serve = contenders.ours_command("{port}", exchange_url)[3:]  # after `python -m marketcache`
    return [sys.executable, "-c", _WRAPPER, str(drain_s), sink, *serve]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--connections", type=int, nargs="+", default=[16, 256])
    args = parser.parse_args()
    runs: dict[tuple[int, str], list[wrk.WrkResult]] = {}
    with (
        EmulatorProcess(latency_ms=0, jitter_ms=0) as emulator,
        tempfile.TemporaryDirectory() as scratch,
        contextlib.ExitStack() as servers,
    ):
        started = {
            name: servers.enter_context(
                contenders.start_ours(
                    emulator.url, env=env, command=command(emulator.url, drain_s, where)
                )
            )
            for name, (drain_s, where, env) in VARIANTS.items()
        }
        for connections in args.connections:
            for round_no in range(args.rounds):
                order = list(started.items())
                if round_no % 2:
                    order.reverse()
                for name, ours in order:
                    contenders.prime(ours, ENDPOINT)
                    result = wrk.run(
                        ours.url,
                        ours.shape(ENDPOINT),
                        connections=connections,
                        duration_s=args.seconds,
                        script_dir=Path(scratch),
                    )
                    runs.setdefault((connections, name), []).append(result)
                    print(
                        f"c={connections} round {round_no + 1} {name}: {result.rps:,.0f} req/s, "
                        f"p50 {result.p50_ms} p99 {result.p99_ms} max {result.max_ms} ms",
                        flush=True,
                    )
    med = statistics.median
    print(
        f"\n| connections | variant | req/s | p50 ms | p99 ms (rounds) |"
        f"  (medians of {args.rounds})"
    )
    print("|---:|---|---:|---:|---|")
    for (connections, name), results in runs.items():
        rounds = ", ".join(f"{r.p99_ms:.2f}" for r in results)
        p99 = med(r.p99_ms for r in results)
        print(
            f"| {connections} | {name} | {med(r.rps for r in results):,.0f} | "
            f"{med(r.p50_ms for r in results):.2f} | {p99:.2f} ({rounds}) |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
