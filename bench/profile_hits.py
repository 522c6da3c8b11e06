"""Where a cache hit's time goes in our server: py-spy (and pyinstrument) under wrk load.

For POST /price and POST /comprehensive_analysis hits on `marketcache serve` (default
settings, emulator as the exchange, hot keys warmed), three phases per endpoint:
  A. wrk alone: req/s and the server's CPU time per request (psutil), no profiler attached;
  B. wrk again with `py-spy record --format raw` on the server: the share of each layer
     (src/marketcache/bench/peers/profile.py), turned into µs per request with A's figure;
  C. (with --pyinstrument) the server started under pyinstrument, the same wrk load, its
     text tree kept as a second view.
Needs py-spy and pyinstrument in .venv (`.venv/bin/pip install py-spy pyinstrument`) and wrk.
Usage: .venv/bin/python bench/profile_hits.py [--seconds 10] [--connections 16] [--pyinstrument]
Writes bench/out/profile-<time>/ (raw stacks, pyinstrument text, summary.json) and prints
a markdown table per endpoint.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

from marketcache import procutil
from marketcache.bench.peers import contenders, profile, wrk
from marketcache.bench.peers.procs import Daemon, http_ready
from marketcache.emulator.process import EmulatorProcess
from marketcache.netutil import free_port

BIN = Path(sys.executable).parent


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of the process so far."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def phase_a(
    ours: contenders.Contender, endpoint: str, seconds: float, conns: int, d: Path
) -> dict[str, Any]:
    """wrk alone: throughput, latency and CPU per request."""
    before = cpu_s(ours.pid)
    result = wrk.run(
        ours.url, ours.shape(endpoint), connections=conns, duration_s=seconds, script_dir=d
    )
    used = cpu_s(ours.pid) - before
    return {
        **result.to_dict(),
        "cpu_s": used,
        "cpu_us_per_request": 1e6 * used / max(1, result.requests),
    }


def phase_b(
    ours: contenders.Contender, endpoint: str, seconds: float, conns: int, d: Path, out: Path
) -> dict[str, Any]:
    """wrk with py-spy recording the server: samples per layer."""
    script = d / "b.lua"
    script.write_text(ours.shape(endpoint).lua())
    load = subprocess.Popen(
        [
            wrk.wrk_binary(),
            "-t1",
            f"-c{conns}",
            f"-d{seconds + 2:g}s",
            "-s",
            str(script),
            ours.url + ours.shape(endpoint).path,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.0)
        raw = out / f"pyspy{endpoint.replace('/', '-')}.txt"
        subprocess.run(
            [
                str(BIN / "py-spy"),
                "record",
                "--pid",
                str(ours.pid),
                "--duration",
                f"{seconds:g}",
                "--rate",
                "200",
                "--format",
                "raw",
                "--output",
                str(raw),
            ],
            check=True,
            capture_output=True,
        )
        load.wait(seconds + 60)
    finally:
        if load.poll() is None:
            load.kill()
            load.wait()
    counts, total, other_threads = profile.shares(
        profile.parse_collapsed(raw.read_text().splitlines())
    )
    return {
        "samples": total,
        "other_thread_samples": other_threads,
        "layers": counts,
        "raw": str(raw),
    }


def phase_c(
    emulator_url: str, endpoint: str, seconds: float, conns: int, d: Path, out: Path
) -> str:
    """The server under pyinstrument for one wrk run; the path of its text report."""
    port = free_port()
    report = out / f"pyinstrument{endpoint.replace('/', '-')}.txt"
    command = [str(BIN / "pyinstrument"), "-r", "text", "-o", str(report), "-m", "marketcache"]
    command += contenders.ours_command(port, emulator_url)[3:]
    with Daemon(
        "pyinstrument",
        command,
        ready=http_ready(f"http://127.0.0.1:{port}/health"),
        env=contenders.OURS_ENV,
        stop_signal=signal.SIGINT,
        start_timeout_s=120,
    ) as server:
        ours = contenders.Contender("marketcache", "", f"http://127.0.0.1:{port}", server.pid)
        httpx.post(
            ours.url + "/cache/warm",
            json={"symbols": [contenders.SYMBOL], "timeframes": [contenders.TIMEFRAME]},
            timeout=60,
        )
        contenders.warm(ours, lambda r: r.headers.get("x-cache") in ("hit", "stale"))
        wrk.run(ours.url, ours.shape(endpoint), connections=conns, duration_s=seconds, script_dir=d)
    return str(report)


def markdown(endpoint: str, a: dict[str, Any], b: dict[str, Any]) -> str:
    """One endpoint's table: layer, share of samples, µs per request."""
    lines = [
        f"POST {endpoint}: {a['rps']:,.0f} req/s, p50 {a['p50_ms']:.2f} ms, "
        f"p99 {a['p99_ms']:.2f} ms, "
        f"server CPU {a['cpu_us_per_request']:.1f} µs per request ({b['samples']} samples)",
        "",
        "| layer | share | µs per request |",
        "|---|---:|---:|",
    ]
    for name, n in sorted(b["layers"].items(), key=lambda kv: -kv[1]):
        share = n / b["samples"] if b["samples"] else 0.0
        lines.append(f"| {name} | {100 * share:.1f} % | {share * a['cpu_us_per_request']:.1f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--pyinstrument", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    for tool in ("py-spy", *(["pyinstrument"] if args.pyinstrument else [])):
        if shutil.which(tool, path=str(BIN)) is None:
            print(f"{tool} is missing: .venv/bin/pip install {tool}", file=sys.stderr)
            return 2
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or Path("bench/out") / f"profile-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {"command": " ".join(sys.argv), "created_at": stamp, "endpoints": {}}
    procutil.exit_on_sigterm()
    with contextlib.ExitStack() as stack:
        d = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="profile-")))
        emulator = stack.enter_context(EmulatorProcess(die_with_parent=True))
        ours = stack.enter_context(contenders.start_ours(emulator.url))
        for endpoint in contenders.ENDPOINTS:
            a = phase_a(ours, endpoint, args.seconds, args.connections, d)
            b = phase_b(ours, endpoint, args.seconds, args.connections, d, out)
            entry: dict[str, Any] = {"wrk": a, "pyspy": b}
            print(markdown(endpoint, a, b) + "\n")
            summary["endpoints"][endpoint] = entry
        if args.pyinstrument:
            for endpoint in contenders.ENDPOINTS:
                path = phase_c(emulator.url, endpoint, args.seconds, args.connections, d, out)
                summary["endpoints"][endpoint]["pyinstrument"] = path
                print(f"pyinstrument view of {endpoint}: {path}")
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"written: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
