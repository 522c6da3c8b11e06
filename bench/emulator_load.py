"""Load the exchange emulator with a mix of market requests; print throughput and latency.

    .venv/bin/python bench/emulator_load.py [--seconds 5] [--concurrency 16]

Starts `marketcache emulator --port 0` (frozen clock, or running with `--running`), runs a
bounded loopback load and stops it. Two passes: the first mostly generates series (cold),
the second hits caches. Besides requests/s it reports the emulator's own CPU per request
(requests per emulator CPU-second), which does not depend on what else runs on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import time

import httpx
import psutil

from marketcache.emulator.process import EmulatorProcess

SYMBOLS = ["BTCUSDT", "ETHUSDT", "BNBUSDT", "XRPUSDT", "ADAUSDT", "SOLUSDT", "DOGEUSDT", "DOTUSDT"]
INTERVALS = ["1m", "5m", "15m", "1h", "4h", "1d"]


def requests() -> itertools.cycle[tuple[str, dict[str, str]]]:
    """The request mix: klines of every symbol and interval, tickers, trades, books."""
    mix: list[tuple[str, dict[str, str]]] = []
    for symbol in SYMBOLS:
        for interval in INTERVALS:
            mix.append(("/api/v3/klines", {"symbol": symbol, "interval": interval, "limit": "500"}))
        mix.append(("/api/v3/ticker/24hr", {"symbol": symbol}))
        mix.append(("/api/v3/aggTrades", {"symbol": symbol, "limit": "500"}))
        mix.append(("/api/v3/depth", {"symbol": symbol, "limit": "100"}))
    return itertools.cycle(mix)


async def run_pass(url: str, seconds: float, concurrency: int) -> tuple[int, list[float]]:
    """Issue requests for `seconds`; return the count and latencies (ms)."""
    mix = requests()
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:

        async def worker() -> None:
            while time.perf_counter() < deadline:
                path, params = next(mix)
                start = time.perf_counter()
                answer = await client.get(path, params=params)
                answer.raise_for_status()
                latencies.append((time.perf_counter() - start) * 1000)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(latencies), latencies


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--running", action="store_true", help="a running clock, not frozen")
    args = parser.parse_args()
    async with EmulatorProcess(frozen=not args.running, weight_limit=10**9) as emulator:
        # (the emulator of before issue 15, run for the A/B in docs, has no `pid`)
        pid = emulator.pid if hasattr(emulator, "pid") else emulator._process.pid  # type: ignore[union-attr]
        server = psutil.Process(pid)
        for label in ("first pass", "second pass"):
            cpu_before = sum(server.cpu_times()[:2])
            count, lat = await run_pass(emulator.url, args.seconds, args.concurrency)
            cpu = sum(server.cpu_times()[:2]) - cpu_before
            lat.sort()
            p50 = statistics.median(lat)
            p99 = lat[int(len(lat) * 0.99) - 1]
            print(
                f"{label}: {count / args.seconds:.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms"
                f" ({count} requests, concurrency {args.concurrency}); emulator CPU"
                f" {cpu / args.seconds:.0%} of a core, {count / max(cpu, 1e-9):.0f} req/CPU-s"
            )


if __name__ == "__main__":
    asyncio.run(main())
