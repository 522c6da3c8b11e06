"""One service process against two on the same host sharing Redis, the same hits, one run.

Issue 14 asks how several processes per host, sharing Redis as L2 (and through it the
exchange's weight budget, leases and invalidations), compare with one. Each process
keeps its own port, so each one's figures (`/metrics`, `/cache/stats`) stay its own and
are scraped as a replica's; a load balancer (or here, one wrk per process) spreads the
connections. Variants, rounds interleaved, all started once on one emulator (no added
latency) and one redis-server of our own, each with default settings (request log on):
  - one process, all connections on it;
  - two processes, half of the connections on each (two wrk at once).
Reports total req/s, each process's CPU per request, the worst of the p99s, and the
requests the emulator got meanwhile (the exchange's cost: the same for one and two, as
hits never reach it). Needs wrk (scripts/ensure-nginx-wrk.sh) and redis-server.
Usage: .venv/bin/python bench/host_replicas.py [--rounds 3] [--seconds 5] [--connections 16 256]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.cache.redis_server import RedisServer, unique_prefix

from marketcache.bench.peers import contenders, wrk
from marketcache.emulator.process import EmulatorProcess

ENDPOINT = "/price"
VARIANTS = {"1 process": 1, "2 processes, Redis shared": 2}


@dataclass(frozen=True)
class Row:
    """One run of one variant."""

    rps: float
    cpu_us: float
    p99_ms: float
    upstream: int
    errors: int


def cpu_s(pid: int) -> float:
    """User and system CPU seconds of `pid` so far."""
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def exchange_requests(emulator: EmulatorProcess) -> int:
    """Requests the emulator has answered so far."""
    counts = httpx.get(f"{emulator.url}/_emulator/stats", timeout=5).json()["requests"]
    return sum(int(n) for n in counts.values())


def run_variant(
    group: list[contenders.Contender],
    connections: int,
    seconds: float,
    emulator: EmulatorProcess,
    scripts: Path,
) -> Row:
    """All of `group` driven at once, `connections` spread evenly over it."""
    for ours in group:
        contenders.prime(ours, ENDPOINT)
    before_cpu = [cpu_s(o.pid) for o in group]
    before_upstream = exchange_requests(emulator)
    with ThreadPoolExecutor(len(group)) as pool:
        results = list(
            pool.map(
                lambda ours: wrk.run(
                    ours.url,
                    ours.shape(ENDPOINT),
                    connections=connections // len(group),
                    duration_s=seconds,
                    script_dir=scripts,
                ),
                group,
            )
        )
    spent = sum(cpu_s(o.pid) - before for o, before in zip(group, before_cpu, strict=True))
    requests = sum(r.requests for r in results)
    return Row(
        rps=sum(r.rps for r in results),
        cpu_us=spent / max(requests, 1) * 1e6,
        p99_ms=max(r.p99_ms for r in results),
        upstream=exchange_requests(emulator) - before_upstream,
        errors=sum(r.errors for r in results),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, nargs="+", default=[16, 256])
    args = parser.parse_args()
    runs: dict[tuple[int, str], list[Row]] = {}
    redis = RedisServer().start()
    try:
        with (
            EmulatorProcess(latency_ms=0, jitter_ms=0) as emulator,
            tempfile.TemporaryDirectory() as scripts,
            contextlib.ExitStack() as stack,
        ):
            groups: dict[str, list[contenders.Contender]] = {}
            for name, count in VARIANTS.items():
                env = {"REDIS_URL": redis.url, "REDIS_PREFIX": unique_prefix()}
                groups[name] = [
                    stack.enter_context(contenders.start_ours(emulator.url, env=env))
                    for _ in range(count)
                ]
            for connections in args.connections:
                for round_no in range(args.rounds):
                    order = list(groups.items())
                    if round_no % 2:
                        order.reverse()
                    for name, group in order:
                        row = run_variant(group, connections, args.seconds, emulator, Path(scripts))
                        runs.setdefault((connections, name), []).append(row)
                        print(
                            f"c={connections} round {round_no + 1} {name}: {row.rps:,.0f} req/s, "
                            f"{row.cpu_us:.1f} CPU-µs/request, p99 {row.p99_ms} ms, "
                            f"{row.upstream} exchange requests, {row.errors} errors",
                            flush=True,
                        )
    finally:
        redis.close()
    med = statistics.median
    print(f"\n(medians of {args.rounds} rounds of {args.seconds:g} s, wrk one thread per process)")
    print(
        "| connections | variant | req/s | CPU µs/request | p99 ms | exchange requests | errors |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|")
    for (connections, name), rows in runs.items():
        print(
            f"| {connections} | {name} | {med(r.rps for r in rows):,.0f} | "
            f"{med(r.cpu_us for r in rows):.1f} | {med(r.p99_ms for r in rows):.2f} | "
            f"{med(r.upstream for r in rows):.0f} | {sum(r.errors for r in rows)} |"
        )
    for connections in args.connections:
        one = med(r.rps for r in runs[(connections, "1 process")])
        two = med(r.rps for r in runs[(connections, "2 processes, Redis shared")])
        print(f"{connections} connections: two processes {two / one:.2f}x one")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
