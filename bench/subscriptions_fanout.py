"""Fan-out of one subscribed answer to N WebSocket subscribers, against the real server.

    .venv/bin/python bench/subscriptions_fanout.py [--subscribers 1000] [--changes 40]
        [--compression both|none|deflate]

Starts `marketcache serve --offline` (emulator without added latency; a price
changes every TICKER_FRESH_S = 0.5 s, watched every SUBSCRIBE_INTERVAL_S = 0.05 s),
opens N WebSockets in this one process, all subscribed to one price, and waits for
`--changes` changed answers. Per change:

- **fan-out** — from the first subscriber's receipt to the N-th's: what one change
  costs to reach everyone (the server framing and writing N frames, this process
  reading them);
- **from the fetch** — from the answer's `meta.fetched_at` (the server's stamp of
  its raw data) to the N-th receipt: adds the refresh and up to one watch interval.

Both include this client's own work (N sockets read by one Python process), so they
bound the server's share from above. Memory: the server's RSS with one subscriber
and with N, over N. `--compression deflate` has the clients offer permessage-deflate
(what browsers and `websockets` do by default; the server then compresses each frame
per connection), `none` does not.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil

from marketcache.commands.service_process import ServiceProcess

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.api.wsclient import Subscriber, crowd

PRICE = {"op": "subscribe", "endpoint": "price", "params": {"symbol": "BTC/USDT"}}
SETTINGS = {
    "TICKER_FRESH_S": "0.5",
    "SUBSCRIBE_INTERVAL_S": "0.05",
    "SUBSCRIBE_MAX_CONNECTIONS_PER_CLIENT": "100000",
    "LOG_LEVEL": "warning",
}


def _wall(fetched_at: str) -> float:
    return datetime.fromisoformat(fetched_at.replace("Z", "+00:00")).timestamp()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(
    url: str, pid: int, count: int, changes: int, compression: str | None
) -> dict[str, Any]:
    server = psutil.Process(pid)
    options: dict[str, Any] = {"compression": compression, "max_queue": None}
    [probe] = await crowd(url, 1, PRICE, **options)
    rss_one = server.memory_info().rss
    subscribers: list[Subscriber] = [probe, *await crowd(url, count - 1, PRICE, **options)]
    rss_all = server.memory_info().rss
    readers = [asyncio.ensure_future(s.read()) for s in subscribers]
    mark = time.time()
    cpu_before = server.cpu_times()
    try:
        await _until(lambda: len({f for f in probe.seen() if _wall(f) > mark}) > changes)
        wanted = sorted(f for f in probe.seen() if _wall(f) > mark)[:changes]
        await _until(lambda: all(set(wanted) <= s.seen() for s in subscribers))
        elapsed = time.time() - mark
        cpu_after = server.cpu_times()
    finally:
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        await asyncio.gather(*(s.client.close() for s in subscribers), return_exceptions=True)
    spread: list[float] = []
    from_fetch: list[float] = []
    for fetched in wanted:
        arrivals = [at for s in subscribers for f, at in s.received if f == fetched]
        spread.append((max(arrivals) - min(arrivals)) * 1000)
        from_fetch.append((max(arrivals) - _wall(fetched)) * 1000)
    cpu_s = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
    return {
        "subscribers": count,
        "compression": compression or "none",
        "changes": len(wanted),
        "fanout_p50_ms": statistics.median(spread),
        "fanout_p99_ms": _pct(spread, 0.99),
        "from_fetch_p50_ms": statistics.median(from_fetch),
        "from_fetch_p99_ms": _pct(from_fetch, 0.99),
        "server_cpu_per_change_ms": cpu_s / len(wanted) * 1000,
        "server_cpu_share": cpu_s / elapsed,
        "rss_per_subscriber_kb": (rss_all - rss_one) / (count - 1) / 1024,
    }


async def _until(condition: Callable[[], bool], timeout_s: float = 300.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the changes did not arrive")
        await asyncio.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=40)
    parser.add_argument("--compression", choices=["both", "none", "deflate"], default="both")
    args = parser.parse_args()
    modes = ["none", "deflate"] if args.compression == "both" else [args.compression]
    rows = []
    for mode in modes:
        with ServiceProcess(("--offline",), env=SETTINGS) as service:
            url = service.url.replace("http://", "ws://") + "/ws"
            compression = None if mode == "none" else "deflate"
            rows.append(
                asyncio.run(run(url, service.pid, args.subscribers, args.changes, compression))
            )
    print(
        "| subscribers | client compression | changes | fan-out p50 / p99 (ms) "
        "| fetch → N-th p50 / p99 (ms) | server CPU per change (ms) | RSS per subscriber |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['subscribers']} | {r['compression']} | {r['changes']} "
            f"| {r['fanout_p50_ms']:.1f} / {r['fanout_p99_ms']:.1f} "
            f"| {r['from_fetch_p50_ms']:.1f} / {r['from_fetch_p99_ms']:.1f} "
            f"| {r['server_cpu_per_change_ms']:.1f} | {r['rss_per_subscriber_kb']:.1f} KiB |"
        )


if __name__ == "__main__":
    main()
