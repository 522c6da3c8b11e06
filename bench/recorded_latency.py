"""The latency the service records against the latency its client measures (issue 14).

For each connection count, a fresh `marketcache serve` (default settings, the emulator as
the exchange, the hot key warmed) is driven with wrk (one thread, keep-alive, hot
`POST /price`); then its own `/cache/performance` summary (every request it answered:
the warm-up's few and wrk's) is set beside wrk's p50 and p99. Both count the time a
request waited unread in the kernel and the time its answer waited in the loop's
write buffer only if the service sees them. Needs wrk (scripts/ensure-nginx-wrk.sh).
Usage: .venv/bin/python bench/recorded_latency.py [--connections 16,256,1000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import httpx

from marketcache.bench.peers import contenders, wrk
from marketcache.emulator.process import EmulatorProcess


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", default="16,256,1000")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    print("| connections | req/s | wrk p50 | recorded p50 | wrk p99 | recorded p99 |")
    print("|---:|---:|---:|---:|---:|---:|")
    with EmulatorProcess() as emulator, tempfile.TemporaryDirectory() as scripts:
        for connections in (int(c) for c in args.connections.split(",")):
            with contenders.start_ours(emulator.url) as ours:
                run = wrk.run(
                    ours.url,
                    ours.shape("/price"),
                    connections=connections,
                    duration_s=args.seconds,
                    script_dir=Path(scripts),
                )
                performance = httpx.get(ours.url + "/cache/performance", timeout=30).json()
            summary = performance["data"]["summary"]
            print(
                f"| {connections} | {run.rps:,.0f} | {run.p50_ms:.2f} ms | {summary['p50_ms']} ms"
                f" | {run.p99_ms:.2f} ms | {summary['p99_ms']} ms |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
