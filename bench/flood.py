"""A distinct-key flood from one client against a second client's hot key (issue 12).

The real server over an emulator at 150 ± 50 ms with Binance's weight limit. Client A
(one address) asks for analyses of distinct symbol/timeframe pairs at concurrency 50;
client B (another address: it connects from 127.0.0.2) reads `/price` of BTC/USDT every
100 ms. For `--seconds` (60): the upstream weight per minute (the emulator's own count),
A's answers by status, B's errors and the age of the data B got (`meta.age_ms`, p50/p99).
Run without Redis and with it (`--redis-url`, or a redis-server the bench starts).

    .venv/bin/python bench/flood.py [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.cache.redis_server import RedisServer
from tests.fakes import TIMEFRAMES, real_markets

from marketcache.commands.service_process import ServiceProcess
from marketcache.emulator.process import EmulatorProcess

CONCURRENCY = 50


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


async def flood(url: str, until: float, statuses: Counter[str]) -> None:
    pairs = itertools.cycle([(m.symbol, tf) for tf in TIMEFRAMES[:8] for m in real_markets()])
    async with aiohttp.ClientSession(base_url=url) as http:

        async def worker() -> None:
            while time.monotonic() < until:
                symbol, timeframe = next(pairs)
                body = {"symbol": symbol, "timeframe": timeframe}
                try:
                    async with http.post("/comprehensive_analysis", json=body) as response:
                        document = await response.json()
                        code = "" if response.status == 200 else document["error"]["code"]
                        statuses[f"{response.status} {code}".strip()] += 1
                except aiohttp.ClientError:
                    statuses["connection error"] += 1

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


async def hot_reader(url: str, until: float, ages: list[float], errors: Counter[int]) -> None:
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with aiohttp.ClientSession(base_url=url, connector=connector) as http:
        while time.monotonic() < until:
            try:
                async with http.post("/price", json={"symbol": "BTC/USDT"}) as response:
                    document = await response.json()
                    if response.status == 200:
                        ages.append(float(document["meta"]["age_ms"]))
                    else:
                        errors[response.status] += 1
            except aiohttp.ClientError:
                errors[0] += 1
            await asyncio.sleep(0.1)


def run_side(seconds: float, redis_url: str | None) -> dict[str, Any]:
    env = {"LOG_LEVEL": "warning"}
    args = ["--redis-url", redis_url] if redis_url else []
    with (
        EmulatorProcess(latency_ms=150, jitter_ms=50, weight_limit=6000) as emulator,
        ServiceProcess(["--exchange-url", emulator.url, *args], env=env) as service,
    ):
        httpx.post(f"{service.url}/price", json={"symbol": "BTC/USDT"}, timeout=30)
        before = httpx.get(f"{emulator.url}/_emulator/stats").json()["total_weight"]
        statuses: Counter[str] = Counter()
        errors: Counter[int] = Counter()
        ages: list[float] = []
        until = time.monotonic() + seconds

        async def both() -> None:
            await asyncio.gather(
                flood(service.url, until, statuses),
                hot_reader(service.url, until, ages, errors),
            )

        asyncio.run(both())
        after = httpx.get(f"{emulator.url}/_emulator/stats").json()["total_weight"]
    return {
        "weight_per_minute": (after - before) * 60 / seconds,
        "flood_statuses": dict(statuses),
        "hot_reads": len(ages),
        "hot_errors": sum(errors.values()),
        "hot_age_p50_ms": statistics.median(ages) if ages else None,
        "hot_age_p99_ms": percentile(ages, 0.99),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--redis-url", default=None, help="default: a redis-server of its own")
    args = parser.parse_args()
    results = {"without Redis": run_side(args.seconds, None)}
    if args.redis_url:
        results["with Redis"] = run_side(args.seconds, args.redis_url)
    else:
        redis = RedisServer().start()
        try:
            results["with Redis"] = run_side(args.seconds, redis.url)
        finally:
            redis.close()
    print(f"flood at concurrency {CONCURRENCY} for {args.seconds:.0f} s (limit 6000 weight/min)")
    for side, row in results.items():
        print(
            f"{side:<14} weight/min {row['weight_per_minute']:>7.0f}  flood {row['flood_statuses']}"
            f"  hot reads {row['hot_reads']} errors {row['hot_errors']}"
            f"  age p50 {row['hot_age_p50_ms']} p99 {row['hot_age_p99_ms']} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
