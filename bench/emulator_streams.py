"""Websocket stream throughput of the exchange emulator: messages/s delivered to N subscribers.

    .venv/bin/python bench/emulator_streams.py [--seconds 10] [--subscribers 1,10,100]

Starts `marketcache emulator --port 0` (running clock), opens N combined-stream
connections, each subscribed to `trade`, `kline_1m`, `ticker`, `bookTicker` and
`depth@100ms` of the same `--symbols` (default 10), and counts what arrives for
`--seconds`. Reports messages/s in total and per subscriber, and how far behind the
emulator's clock the messages arrive (event time `E` against the clock when received).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import aiohttp
import httpx
import orjson
import psutil

from marketcache.emulator.process import EmulatorProcess

SYMBOLS = [
    "btcusdt",
    "ethusdt",
    "bnbusdt",
    "xrpusdt",
    "adausdt",
    "solusdt",
    "dogeusdt",
    "dotusdt",
    "ltcusdt",
    "linkusdt",
    "trxusdt",
    "maticusdt",
    "avaxusdt",
    "atomusdt",
]
KINDS = ["trade", "kline_1m", "ticker", "bookTicker", "depth@100ms"]


async def subscriber(
    url: str, stop: float, counts: list[int], lags: list[float], clock: tuple[int, float]
) -> None:
    start_ms, start_real = clock
    async with aiohttp.ClientSession() as session, session.ws_connect(url, max_msg_size=0) as ws:
        while time.monotonic() < stop:
            try:
                msg = await asyncio.wait_for(ws.receive(), max(0.01, stop - time.monotonic()))
            except TimeoutError:
                break
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            counts[0] += 1
            if counts[0] % 16:  # parse a sample: the client must not be what limits
                continue
            data = orjson.loads(msg.data)["data"]
            event = data.get("E") or data.get("u")
            if event and len(lags) < 200_000:
                now = start_ms + (time.monotonic() - start_real) * 1000
                lags.append(now - event)


async def run(base: str, pid: int, n: int, seconds: float, symbols: list[str]) -> None:
    names = "/".join(f"{s}@{k}" for s in symbols for k in KINDS)
    url = f"{base.replace('http', 'ws')}/stream?streams={names}"
    async with httpx.AsyncClient() as client:
        info = (await client.get(f"{base}/_emulator/info")).json()
    server = psutil.Process(pid)
    clock = (info["now"], time.monotonic())
    counts, lags = [0], []  # type: ignore[var-annotated]
    warm = time.monotonic() + 3.0  # connect everyone, then count
    stop = warm + seconds
    tasks = [asyncio.create_task(subscriber(url, stop, counts, lags, clock)) for _ in range(n)]
    await asyncio.sleep(max(0.0, warm - time.monotonic()))
    before, lags_from = counts[0], len(lags)
    cpu_before = sum(server.cpu_times()[:2])
    client_before = time.process_time()
    await asyncio.gather(*tasks)
    cpu = (sum(server.cpu_times()[:2]) - cpu_before) / seconds
    client_cpu = (time.process_time() - client_before) / seconds
    got = counts[0] - before
    window = sorted(lags[lags_from:])
    p50 = statistics.median(window) if window else float("nan")
    p99 = window[int(len(window) * 0.99) - 1] if window else float("nan")
    print(
        f"{n:>4} subscribers x {len(symbols) * len(KINDS)} streams: "
        f"{got / seconds:>8.0f} msg/s total, {got / seconds / n:>6.0f} per subscriber, "
        f"lag p50 {p50:.0f} ms p99 {p99:.0f} ms; emulator CPU {cpu:.0%} of a core "
        f"({got / seconds / max(cpu, 1e-9):.0f} msg per CPU-second), client CPU {client_cpu:.0%}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--subscribers", default="1,10,100")
    parser.add_argument("--symbols", type=int, default=10)
    args = parser.parse_args()
    async with EmulatorProcess(weight_limit=10**9) as emulator:
        for n in (int(x) for x in args.subscribers.split(",")):
            await run(emulator.url, emulator.pid, n, args.seconds, SYMBOLS[: args.symbols])


if __name__ == "__main__":
    import uvloop

    uvloop.run(main())
