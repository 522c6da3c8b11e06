"""In-process cost of the cache's operations: a hit (peek, get_or_load), a set, a miss.

    .venv/bin/python bench/cache_hot_path.py [--n 200000] [--policy sieve]

Each figure is the best of 5 runs of `n` operations on 10,000 resident keys
(so dict and policy work are realistic), in nanoseconds per operation, with
the loop's own cost included. The goal for a hit is <= 2 µs.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable

from marketcache.cache import Cache, CacheOptions, Freshness, Store
from marketcache.clock import SystemClock

FRESH = Freshness(fresh=3600.0, stale=3600.0)
RESIDENT = 10_000
REPEATS = 5


def best_sync(run: Callable[[int], None], n: int) -> float:
    results = []
    for _ in range(REPEATS):
        started = time.perf_counter_ns()
        run(n)
        results.append((time.perf_counter_ns() - started) / n)
    return min(results)


async def best_async(run: Callable[[int], Awaitable[None]], n: int) -> float:
    results = []
    for _ in range(REPEATS):
        started = time.perf_counter_ns()
        await run(n)
        results.append((time.perf_counter_ns() - started) / n)
    return min(results)


async def measure(n: int, policy: str) -> list[tuple[str, float]]:
    cache = Cache(CacheOptions(max_bytes=512 * 1024 * 1024, eviction=policy), clock=SystemClock())  # type: ignore[arg-type]
    keys = [f"answer:cvd:binance:C{i:05d}/USDT:15m:100" for i in range(RESIDENT)]
    payload = b"x" * 2000

    async def load() -> bytes:
        return payload

    for key in keys:
        await cache.get_or_load(key, load, FRESH)
    order = [keys[(i * 7919) % RESIDENT] for i in range(n)]  # spread over resident keys
    out: list[tuple[str, float]] = []

    def peeks(count: int) -> None:
        peek = cache.peek
        for key in order[:count]:
            peek(key)

    async def gets(count: int) -> None:
        get = cache.get_or_load
        for key in order[:count]:
            await get(key, load, FRESH)

    out.append(("hit: peek()", best_sync(peeks, n)))
    out.append(("hit: await get_or_load()", await best_async(gets, n)))

    store = Store(512 * 1024 * 1024, policy)
    for key in keys:
        store.put(key, payload, 0.0, 1.0, 2.0)

    def updates(count: int) -> None:
        put = store.put
        for key in order[:count]:
            put(key, payload, 0.0, 1.0, 2.0)

    fresh_keys = [f"ohlcv:binance:N{i:07d}/USDT:1m" for i in range(n * REPEATS)]
    cursor = iter(range(0, n * REPEATS, n))

    def inserts(count: int) -> None:
        put = store.put
        start = next(cursor)
        for key in fresh_keys[start : start + count]:
            put(key, payload, 0.0, 1.0, 2.0)

    out.append(("set: Store.put, existing key", best_sync(updates, n)))
    out.append(("set: Store.put, new key", best_sync(inserts, n)))

    small = max(1, n // 10)
    miss_keys = [f"ticker:binance:M{i:07d}/USDT" for i in range(small * REPEATS)]
    miss_cursor = iter(range(0, small * REPEATS, small))

    async def misses(count: int) -> None:
        get = cache.get_or_load
        start = next(miss_cursor)
        for key in miss_keys[start : start + count]:
            await get(key, load, FRESH)

    out.append(("miss: get_or_load() with an instant loader", await best_async(misses, small)))
    await cache.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--policy", default="sieve")
    args = parser.parse_args()
    try:
        import uvloop

        runner = uvloop.run
        loop_name = "uvloop"
    except ImportError:  # pragma: no cover
        runner = asyncio.run
        loop_name = "asyncio"
    results = runner(measure(args.n, args.policy))
    print(f"policy {args.policy}, {RESIDENT} resident keys, {loop_name}, best of {REPEATS}")
    print("| operation | ns / op |")
    print("|---|---|")
    for name, ns in results:
        print(f"| {name} | {ns:.0f} |")


if __name__ == "__main__":
    main()
