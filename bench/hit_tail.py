"""The tail of cache hits with the start-up heap frozen out of garbage collection, and not.

Our service (`marketcache serve`, default settings, emulator as the exchange, hot keys
warmed) with GC_FREEZE=true and GC_FREEZE=false, rounds interleaved; each round drives hot
`POST /price` and `POST /comprehensive_analysis` with wrk (one thread, --connections, keep-alive)
and records p50, p99 and the slowest answer. Needs wrk (scripts/ensure-nginx-wrk.sh).
Usage: .venv/bin/python bench/hit_tail.py [--rounds 3] [--seconds 6] [--connections 256]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from marketcache.bench.peers import contenders, wrk
from marketcache.emulator.process import EmulatorProcess

ENDPOINTS = ("/price", "/comprehensive_analysis")
MODES = {"GC_FREEZE=true": "true", "GC_FREEZE=false": "false"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--connections", type=int, default=256)
    args = parser.parse_args()
    runs: dict[tuple[str, str], list[wrk.WrkResult]] = {}
    with EmulatorProcess() as emulator, tempfile.TemporaryDirectory() as scripts:
        for round_no in range(args.rounds):
            order = list(MODES.items())
            if round_no % 2:
                order.reverse()
            for name, value in order:
                env = {"GC_FREEZE": value}
                with contenders.start_ours(emulator.url, env=env) as ours:
                    for endpoint in ENDPOINTS:
                        result = wrk.run(
                            ours.url,
                            ours.shape(endpoint),
                            connections=args.connections,
                            duration_s=args.seconds,
                            script_dir=Path(scripts),
                        )
                        runs.setdefault((name, endpoint), []).append(result)
                        print(
                            f"round {round_no + 1} {name} {endpoint}: {result.rps:,.0f} req/s, "
                            f"p50 {result.p50_ms} p99 {result.p99_ms} max {result.max_ms} ms",
                            flush=True,
                        )
    print(
        f"\n| setting | endpoint | req/s | p50 ms | p99 ms | max ms |  (medians of {args.rounds})"
    )
    print("|---|---|---:|---:|---:|---:|")
    for (name, endpoint), results in runs.items():
        med = statistics.median
        print(
            f"| {name} | {endpoint} | {med(r.rps for r in results):,.0f} | "
            f"{med(r.p50_ms for r in results):.1f} | {med(r.p99_ms for r in results):.1f} | "
            f"{med(r.max_ms for r in results):.0f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
