"""Hits' tail with the request log written every 20 ms, every 250 ms, to /dev/null, or off.

Our service (`marketcache serve`, default settings, emulator as the exchange, hot keys
warmed, each run primed so that it measures hits) in variants side by side, rounds
interleaved: the request log's lines written to a file every `DRAIN_EVERY_S` (the service's
20 ms, and the 250 ms it had before), the same to /dev/null (no page cache to copy into),
and the log off (LOG_LEVEL=warning). wrk, one thread, `POST /price`. The interval is set
in the child by a `python -c` wrapper around `marketcache serve`; nothing else differs.
Needs wrk (scripts/ensure-nginx-wrk.sh).
Usage: .venv/bin/python bench/log_drain.py [--rounds 3] [--seconds 4] [--connections 16 256]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from marketcache.bench.peers import contenders, wrk
from marketcache.emulator.process import EmulatorProcess
from marketcache.netutil import free_port

ENDPOINT = "/price"
# name → (request log interval, where the server's output goes, extra environment)
VARIANTS: dict[str, tuple[float, str, dict[str, str]]] = {
    "log to a file, every 20 ms (now)": (0.02, "file", {}),
    "log to a file, every 250 ms (before)": (0.25, "file", {}),
    "log to /dev/null, every 20 ms": (0.02, os.devnull, {}),
    "log off": (0.02, os.devnull, {"LOG_LEVEL": "warning"}),
}
_WRAPPER = (
    "import sys; import marketcache.access_log as a; a.DRAIN_EVERY_S = float(sys.argv[1]); "
    "from marketcache.cli import main; sys.exit(main(sys.argv[2:]))"
)


@contextlib.contextmanager
def serve(
    exchange_url: str, drain_s: float, sink: Path, env: dict[str, str]
) -> Iterator[contenders.Contender]:
    """Our service with the request log drained every `drain_s`, its output to `sink`."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve_argv = contenders.ours_command(port, exchange_url)[3:]  # after `python -m marketcache`
    argv = [sys.executable, "-c", _WRAPPER, str(drain_s), *serve_argv]
    with sink.open("ab") as out:
        process = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **contenders.OURS_ENV, **env},
        )
    try:
        deadline = time.monotonic() + 60
        while not _ready(base + "/health"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the service did not start (its output: {sink})")
            time.sleep(0.05)
        warmed = httpx.post(
            base + "/cache/warm",
            json={"symbols": [contenders.SYMBOL], "timeframes": [contenders.TIMEFRAME]},
            timeout=60,
        )
        warmed.raise_for_status()
        yield contenders.Contender("marketcache", "marketcache serve", base, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--connections", type=int, nargs="+", default=[16, 256])
    args = parser.parse_args()
    runs: dict[tuple[int, str], list[wrk.WrkResult]] = {}
    with (
        EmulatorProcess(latency_ms=0, jitter_ms=0) as emulator,
        tempfile.TemporaryDirectory() as scratch,
        contextlib.ExitStack() as servers,
    ):
        log_file = Path(scratch) / "service.log"
        started = {
            name: servers.enter_context(
                serve(emulator.url, drain_s, log_file if where == "file" else Path(where), env)
            )
            for name, (drain_s, where, env) in VARIANTS.items()
        }
        for connections in args.connections:
            for round_no in range(args.rounds):
                order = list(started.items())
                if round_no % 2:
                    order.reverse()
                for name, ours in order:
                    contenders.prime(ours, ENDPOINT)
                    result = wrk.run(
                        ours.url,
                        ours.shape(ENDPOINT),
                        connections=connections,
                        duration_s=args.seconds,
                        script_dir=Path(scratch),
                    )
                    runs.setdefault((connections, name), []).append(result)
                    print(
                        f"c={connections} round {round_no + 1} {name}: {result.rps:,.0f} req/s, "
                        f"p50 {result.p50_ms} p99 {result.p99_ms} max {result.max_ms} ms",
                        flush=True,
                    )
    med = statistics.median
    print(
        f"\n| connections | variant | req/s | p50 ms | p99 ms (rounds) |"
        f"  (medians of {args.rounds})"
    )
    print("|---:|---|---:|---:|---|")
    for (connections, name), results in runs.items():
        rounds = ", ".join(f"{r.p99_ms:.2f}" for r in results)
        p99 = med(r.p99_ms for r in results)
        print(
            f"| {connections} | {name} | {med(r.rps for r in results):,.0f} | "
            f"{med(r.p50_ms for r in results):.2f} | {p99:.2f} ({rounds}) |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
