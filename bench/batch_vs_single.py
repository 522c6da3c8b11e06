"""A batch of 30 cold symbols (`POST /prices`) against 30 single `POST /price` requests.

Both against the real server over an emulator with Binance-like latency (150 ± 50 ms),
each on symbols the other side never asked (so every one is cold): the batch as one
request; the singles sent one after another (a bot's loop) and 30 at once. Reports each
side's wall time and the upstream requests and weight it cost (from `/cache/stats`),
and their ratios; `--rounds` repeats on fresh symbols and takes medians.

    .venv/bin/python bench/batch_vs_single.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fakes import real_markets

from marketcache.commands.service_process import ServiceProcess
from marketcache.emulator.process import EmulatorProcess

N = 30


def upstream(http: httpx.Client) -> tuple[int, int]:
    data = http.get("/cache/stats").json()["data"]["upstream"]
    return int(data["calls"]), int(data["weight"])


def measure(http: httpx.Client, symbols: list[str], how: str) -> dict[str, float]:
    calls, weight = upstream(http)
    started = time.perf_counter()
    if how == "batch":
        response = http.post("/prices", json={"symbols": symbols})
        assert response.status_code == 200
        assert response.json()["meta"]["answered"] == N
    elif how == "sequential":
        for symbol in symbols:
            assert http.post("/price", json={"symbol": symbol}).status_code == 200
    else:
        with concurrent.futures.ThreadPoolExecutor(N) as pool:
            codes = list(pool.map(lambda s: http.post("/price", json={"symbol": s}), symbols))
        assert all(r.status_code == 200 for r in codes)
    elapsed = time.perf_counter() - started
    after_calls, after_weight = upstream(http)
    return {"ms": elapsed * 1000, "calls": after_calls - calls, "weight": after_weight - weight}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    markets = [m.symbol for m in real_markets()]
    ways = ("batch", "sequential", "concurrent")
    results: dict[str, list[dict[str, float]]] = {w: [] for w in ways}
    env = {"REFRESH_AHEAD": "false", "LOG_LEVEL": "warning"}
    with (
        EmulatorProcess(latency_ms=150, jitter_ms=50) as emulator,
        ServiceProcess(["--exchange-url", emulator.url], env=env) as service,
        httpx.Client(base_url=service.url, timeout=60) as http,
    ):
        offset = 0
        for _ in range(args.rounds):
            for way in ways:
                symbols = markets[offset : offset + N]
                offset += N
                results[way].append(measure(http, symbols, way))
    summary: dict[str, dict[str, Any]] = {
        way: {k: statistics.median(r[k] for r in runs) for k in ("ms", "calls", "weight")}
        for way, runs in results.items()
    }
    print(f"{N} cold symbols, emulator at 150 ± 50 ms, medians of {args.rounds} rounds")
    print(f"{'':<12}{'wall ms':>10}{'requests':>10}{'weight':>8}")
    for way, row in summary.items():
        print(f"{way:<12}{row['ms']:>10.0f}{row['calls']:>10.0f}{row['weight']:>8.0f}")
    batch = summary["batch"]
    for way in ("sequential", "concurrent"):
        row = summary[way]
        print(
            f"batch vs {way}: {row['ms'] / batch['ms']:.1f}x faster, "
            f"{row['calls'] / batch['calls']:.0f}x fewer requests, "
            f"{row['weight'] / batch['weight']:.2f}x the weight"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
