"""Throughput and latency of cache hits over HTTP: the fast path against the FastAPI route.

Starts `marketcache serve --offline` twice (FAST_PATH on and off), warms one
answer per endpoint, then drives each with `wrk` (Debian package `wrk`) on
loopback for a fixed time, and prints requests/s, p50 and p99 with the ratio.
Usage: .venv/bin/python bench/http_hits.py [--seconds 5] [--connections 32]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from marketcache.commands.service_process import ServiceProcess

BODIES = {
    "/price": {"symbol": "BTC/USDT"},
    "/comprehensive_analysis": {"symbol": "BTC/USDT", "timeframe": "15m"},
    "/volume_spike": {"symbol": "BTC/USDT", "timeframe": "15m"},
    "/cvd": {"symbol": "BTC/USDT", "timeframe": "15m"},
}

LUA = """
wrk.method = "POST"
wrk.body = '{body}'
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
"""


def drive(url: str, path: str, seconds: int, connections: int) -> dict[str, float]:
    """One wrk run; requests/s, p50/p99 in ms, errors."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA.replace("{body}", json.dumps(BODIES[path])))
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", script.name, url + path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    Path(script.name).unlink()
    match = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    assert match, out
    requests, duration_us, p50_us, p99_us, errors = map(int, match.groups())
    return {
        "rps": requests / (duration_us / 1e6),
        "p50_ms": p50_us / 1000,
        "p99_ms": p99_us / 1000,
        "errors": errors,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install wrk", file=sys.stderr)
        return 2
    # Long freshness: every request of the run is a hit, in both services.
    env = {"KLINES_LIVE_FRESH_S": "600", "TICKER_FRESH_S": "600", "REFRESH_AHEAD": "false"}
    results: dict[str, dict[str, dict[str, float]]] = {}
    for label, fast in (("fast path", "true"), ("FastAPI route", "false")):
        with ServiceProcess(["--offline"], env={**env, "FAST_PATH": fast}) as service:
            for path, body in BODIES.items():
                httpx.post(service.url + path, json=body, timeout=30).raise_for_status()
            results[label] = {
                path: drive(service.url, path, args.seconds, args.connections) for path in BODIES
            }
    print("| endpoint | fast req/s | route req/s | ratio | fast p50/p99 ms | route p50/p99 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for path in BODIES:
        fast, slow = results["fast path"][path], results["FastAPI route"][path]
        ratio = fast["rps"] / slow["rps"]
        print(
            f"| {path} | {fast['rps']:,.0f} | {slow['rps']:,.0f} | {ratio:.2f}x "
            f"| {fast['p50_ms']:.2f} / {fast['p99_ms']:.2f} "
            f"| {slow['p50_ms']:.2f} / {slow['p99_ms']:.2f} |"
        )
    errors = sum(r["errors"] for side in results.values() for r in side.values())
    print(f"\nnon-2xx or socket errors: {errors}")
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
