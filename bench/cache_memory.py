"""Memory the cache really uses against what it counts: RSS growth for 100k entries.

    .venv/bin/python bench/cache_memory.py [--entries 100000] [--sizes 100,1000,10000]

For each payload size and eviction policy, a fresh process fills a Cache (bound
large enough to hold everything, refresh-ahead on, one loader closure per key as
the service keeps) through get_or_load, then compares the store's byte count
with the growth of the process's RSS and of tracemalloc's traced memory. The
"overhead per entry" columns are (memory - payload bytes) / entries, where the
counted one includes the key: the counted overhead should match or exceed the
real one, so the bound is not exceeded in practice.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import tracemalloc

import psutil

from marketcache.cache import Cache, CacheOptions, Freshness

FRESH = Freshness(fresh=3600.0, stale=3600.0)


async def fill(entries: int, size: int, policy: str) -> Cache:
    cache = Cache(CacheOptions(max_bytes=1 << 40, eviction=policy, max_entry_share=1.0))  # type: ignore[arg-type]
    for i in range(entries):
        key = f"ohlcv:binance:C{i:06d}/USDT:15m"

        async def load(i: int = i) -> bytes:  # a closure per key, as the service keeps
            return bytes(size)

        await cache.get_or_load(key, load, FRESH)
    return cache


def child(entries: int, size: int, policy: str, traced: bool) -> dict[str, float]:
    process = psutil.Process()
    gc.collect()
    if traced:
        tracemalloc.start()
    before_rss = process.memory_info().rss
    before_traced = tracemalloc.get_traced_memory()[0] if traced else 0
    cache = asyncio.run(fill(entries, size, policy))
    gc.collect()
    rss = process.memory_info().rss - before_rss
    traced_growth = tracemalloc.get_traced_memory()[0] - before_traced if traced else 0
    payload = entries * size
    return {
        "counted": cache.stats.bytes,
        "rss": rss,
        "traced": traced_growth,
        "counted_overhead": (cache.stats.bytes - payload) / entries,
        "rss_overhead": (rss - payload) / entries,
        "traced_overhead": (traced_growth - payload) / entries,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--policies", default="sieve,lru,s3fifo")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        entries, size, policy, traced = json.loads(args.child)
        print(json.dumps(child(entries, size, policy, traced)))
        return
    print(f"{args.entries} entries per run, one fresh process per row")
    print(
        "| policy | payload | counted MB | RSS growth MB | counted / RSS "
        "| overhead/entry: counted | RSS | tracemalloc |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for policy in args.policies.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            runs = {}
            for traced in (False, True):
                spec = json.dumps([args.entries, size, policy, traced])
                out = subprocess.run(
                    [sys.executable, __file__, "--child", spec],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                runs[traced] = json.loads(out)
            plain, traced_run = runs[False], runs[True]
            print(
                f"| {policy} | {size} B | {plain['counted'] / 1e6:.1f} | {plain['rss'] / 1e6:.1f} "
                f"| {plain['counted'] / plain['rss']:.2f} | {plain['counted_overhead']:.0f} B "
                f"| {plain['rss_overhead']:.0f} B | {traced_run['traced_overhead']:.0f} B |"
            )


if __name__ == "__main__":
    main()
