"""Time per upstream call through CcxtSource against the local emulator (loopback).

    .venv/bin/python bench/sources_upstream.py

Sequential calls, ccxt's rate limiter on (as in production), so the figures include
its spacing (Binance weight 2 → at least 20 ms between calls). Prints the median and
the 95th percentile per operation.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

from marketcache.emulator.process import EmulatorProcess
from marketcache.sources.ccxt import CcxtSource

CALLS = 40


async def timed(call: Callable[[], Awaitable[object]]) -> list[float]:
    """Milliseconds of each of `CALLS` sequential calls."""
    out = []
    for _ in range(CALLS):
        start = time.perf_counter()
        await call()
        out.append((time.perf_counter() - start) * 1000)
    return out


async def run(url: str) -> None:
    """Measure each operation and print a table."""
    source = CcxtSource(base_url=url)
    start = time.perf_counter()
    await source.load_markets()
    print(f"load_markets (315 symbols): {(time.perf_counter() - start) * 1000:.1f} ms")
    cases: dict[str, Callable[[], Awaitable[object]]] = {
        "fetch_ticker": lambda: source.fetch_ticker("BTC/USDT"),
        "fetch_ohlcv 15m x1000": lambda: source.fetch_ohlcv("BTC/USDT", "15m", 1000),
        "fetch_ohlcv 1h x100": lambda: source.fetch_ohlcv("BTC/USDT", "1h", 100),
        "fetch_trades x1000": lambda: source.fetch_trades("BTC/USDT", 1000),
        "ping": source.ping,
    }
    for name, call in cases.items():
        ms = sorted(await timed(call))
        p95 = ms[int(len(ms) * 0.95) - 1]
        print(f"{name:<24} median {statistics.median(ms):7.1f} ms   p95 {p95:7.1f} ms")
    await source.close()


def main() -> None:
    """Start an emulator, measure, stop it."""
    with EmulatorProcess(frozen=True) as emulator:
        asyncio.run(run(emulator.url))


if __name__ == "__main__":
    main()
