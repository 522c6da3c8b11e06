"""Upstream requests and client latency with 1, 2 and 3 replicas sharing Redis, same workload.

For each replica count: fresh replicas (`marketcache serve`) on one emulator with
150 ms latency and a redis-server of our own (a new key prefix per run), then
requests from CONCURRENCY clients, each to a replica picked at random (a load
balancer), over SYMBOLS markets x (/price, /comprehensive_analysis 15m), each
client pausing THINK_S between requests (so the offered rate is the same for
every replica count) for SECONDS, long enough for prices (fresh 2 s) and
candles (fresh 5 s) to be refreshed several times. The emulator's counters
give the upstream requests the workload cost.

    .venv/bin/python bench/redis_replicas.py [--seconds 15] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aiohttp
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.cache.redis_server import RedisServer, unique_prefix

from marketcache.commands.service_process import ServiceProcess
from marketcache.emulator.process import EmulatorProcess

SYMBOLS = ["BTC/USDT", "ETH/USDT", "BNB/USDT", "XRP/USDT", "SOL/USDT", "ADA/USDT"]
THINK_S = 0.02
MARKET_PATHS = ("/api/v3/klines", "/api/v3/ticker/24hr")


def upstream(emulator: EmulatorProcess) -> int:
    requests = httpx.get(f"{emulator.url}/_emulator/stats", timeout=5).json()["requests"]
    return sum(int(requests.get(path, 0)) for path in MARKET_PATHS)


async def workload(urls: list[str], seconds: float, concurrency: int) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    counter = itertools.count()
    rng = random.Random(7)
    end = time.perf_counter() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def user() -> None:
            nonlocal errors
            for i in counter:
                if time.perf_counter() >= end:
                    return
                symbol = SYMBOLS[(i // 2) % len(SYMBOLS)]
                if i % 2:
                    path, body = "/price", {"symbol": symbol}
                else:
                    path, body = "/comprehensive_analysis", {"symbol": symbol, "timeframe": "15m"}
                started = time.perf_counter()
                url = rng.choice(urls)  # the load balancer: any replica for any request
                async with session.post(url + path, json=body) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - started)
                await asyncio.sleep(THINK_S)

        await asyncio.gather(*(user() for _ in range(concurrency)))
    return latencies, errors


def run(
    replica_count: int,
    redis: RedisServer | None,
    emulator: EmulatorProcess,
    args: argparse.Namespace,
) -> dict[str, float | str]:
    env = {"REDIS_PREFIX": unique_prefix(), "LOG_LEVEL": "warning"}
    if redis is not None:
        env["REDIS_URL"] = redis.url
    replicas = [
        ServiceProcess(["--exchange-url", emulator.url], env=env) for _ in range(replica_count)
    ]
    with ThreadPoolExecutor(replica_count) as pool:
        list(pool.map(lambda replica: replica.start(), replicas))
    try:
        before = upstream(emulator)
        started = time.perf_counter()
        latencies, errors = asyncio.run(
            workload([r.url for r in replicas], args.seconds, args.concurrency)
        )
        elapsed = time.perf_counter() - started
        calls = upstream(emulator) - before
    finally:
        for replica in replicas:
            replica.stop()
    ordered = sorted(latencies)
    return {
        "replicas": f"{replica_count}" + ("" if redis is not None else " (no Redis, L1 each)"),
        "upstream": calls,
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[int(len(ordered) * 0.99)] * 1000,
        "rps": len(latencies) / elapsed,
        "seconds": elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    redis = RedisServer().start()
    try:
        with EmulatorProcess(latency_ms=150) as emulator:
            rows = [run(n, redis, emulator, args) for n in (1, 2, 3)]
            rows.append(run(3, None, emulator, args))  # the baseline: no sharing
    finally:
        redis.close()
    print(
        f"{args.seconds:g} s per run, {args.concurrency} clients ({THINK_S * 1000:g} ms think "
        f"time), {len(SYMBOLS)} symbols x (price, analysis 15m), emulator latency 150 ms"
    )
    print("| replicas | requests | upstream requests | client errors | p50 | p99 | req/s |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['replicas']} | {row['requests']} | {row['upstream']} | {row['errors']} "
            f"| {row['p50_ms']:.1f} ms | {row['p99_ms']:.1f} ms | {row['rps']:.0f} |"
        )


if __name__ == "__main__":
    main()
