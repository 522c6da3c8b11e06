"""The cost of an L2 (Redis) hit against an L1 hit, in process, through Cache.get_or_load.

Starts its own redis-server on a free port (or uses REDIS_URL), loads N keys with
one replica, then reads them: the same replica hits L1; a second replica, whose
L1 is empty, hits L2 (Redis GET + decode + L1 insert). Values of 3 KB (an
answer) and 90 KB (1000 candles).

    .venv/bin/python bench/redis_hit_cost.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.cache.redis_server import RedisServer, unique_prefix

from marketcache.cache import Cache, CacheOptions, Freshness
from marketcache.cache.redis import RedisBackend

KEYS = 2000
FRESH = Freshness(fresh=600.0, stale=600.0)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


async def measure(url: str, size: int) -> dict[str, float]:
    prefix = unique_prefix()
    backends = [RedisBackend(url, prefix=prefix, timeout=1.0) for _ in range(2)]
    first, second = (
        Cache(CacheOptions(max_bytes=1 << 30, refresh_ahead=False, max_entry_share=1.0), backend=b)
        for b in backends
    )
    value = os.urandom(size)

    async def load() -> bytes:
        return value

    keys = [f"bench:{i}" for i in range(KEYS)]
    for key in keys:
        await first.get_or_load(key, load, FRESH)
    await asyncio.sleep(0.5)  # the L2 writes go behind the loads
    l1, l2 = [], []
    for key in keys:
        started = time.perf_counter()
        await first.get_or_load(key, load, FRESH)
        l1.append(time.perf_counter() - started)
    for key in keys:
        started = time.perf_counter()
        result = await second.get_or_load(key, load, FRESH)
        l2.append(time.perf_counter() - started)
        assert result.status == "hit"
    assert second.stats.backend_hits == KEYS
    assert second.stats.loads == 0
    await backends[0].drop_namespace()
    for cache in (first, second):
        await cache.stop()
    for backend in backends:
        await backend.aclose()
    us = 1e6
    return {
        "l1_p50_us": statistics.median(l1) * us,
        "l1_p99_us": percentile(l1, 0.99) * us,
        "l2_p50_us": statistics.median(l2) * us,
        "l2_p99_us": percentile(l2, 0.99) * us,
    }


async def main() -> None:
    server = None
    url = os.environ.get("REDIS_URL")
    if not url:
        server = RedisServer().start()
        url = server.url
    try:
        print(f"{KEYS} keys per size, one read each, loopback redis-server")
        print("| value | L1 hit p50 | L1 hit p99 | L2 hit p50 | L2 hit p99 | L2/L1 (p50) |")
        print("|---|---|---|---|---|---|")
        for size in (3_000, 90_000):
            r = await measure(url, size)
            print(
                f"| {size // 1000} KB | {r['l1_p50_us']:.1f} µs | {r['l1_p99_us']:.1f} µs "
                f"| {r['l2_p50_us']:.0f} µs | {r['l2_p99_us']:.0f} µs "
                f"| {r['l2_p50_us'] / r['l1_p50_us']:.0f}× |"
            )
    finally:
        if server is not None:
            server.close()


if __name__ == "__main__":
    asyncio.run(main())
