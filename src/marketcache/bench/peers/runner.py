"""`marketcache bench --peers`: start every contender, run the matrix, the overload and the
slowloris probe, then print the tables and write the JSON and the PNG."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from marketcache import procutil
from marketcache.bench.peers import contenders as peers
from marketcache.bench.peers import matrix, recorded, slowloris, tools, wrk
from marketcache.bench.peers.plot import write_png
from marketcache.bench.peers.report import build_report, print_report
from marketcache.config import Settings


@dataclass(frozen=True)
class PeersSettings:
    """The resolved options of one peers run."""

    rounds: int = 3
    duration_s: float = 10.0
    connections: tuple[int, ...] = (16, 256)
    threads: int = 1
    timeout_s: float = 10.0
    overload_connections: int = 1000
    overload_duration_s: float = 30.0
    slow_headers: int = 50
    slow_body: int = 300
    slow_hold_s: float = 75.0

    def command(self) -> str:
        """The command line that reproduces this run."""
        return (
            f"marketcache bench --peers --rounds {self.rounds} --duration {self.duration_s:g} "
            f"--connections {','.join(map(str, self.connections))} --threads {self.threads} "
            f"--wrk-timeout {self.timeout_s:g} --overload-connections "
            f"{self.overload_connections} --overload-seconds {self.overload_duration_s:g} "
            f"--slow-headers {self.slow_headers} --slow-body {self.slow_body} "
            f"--slow-hold {self.slow_hold_s:g}"
        )


SMOKE: dict[str, Any] = {
    "rounds": 1,
    "duration_s": 1.0,
    "overload_connections": 256,  # the full run's 1,000 need seconds just to connect
    "overload_duration_s": 2.0,
    "slow_headers": 5,
    "slow_body": 20,
    "slow_hold_s": 2.0,
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options only `--peers` reads (`--duration`, `--smoke`, `--json`, `--png` are shared)."""
    d = PeersSettings()
    group = parser.add_argument_group("--peers (against nginx, fastapi-cache2, a raw ceiling)")
    group.add_argument(
        "--peers", action="store_true", help="our hits against nginx, fastapi-cache2, raw ASGI"
    )
    group.add_argument("--rounds", type=int, help=f"interleaved rounds ({d.rounds})")
    group.add_argument(
        "--connections", type=_int_list, help="wrk connection counts, comma-separated (16,256)"
    )
    group.add_argument("--threads", type=int, help=f"wrk threads ({d.threads})")
    group.add_argument(
        "--wrk-timeout", type=float, dest="timeout_s_wrk", help=f"wrk timeout s ({d.timeout_s:g})"
    )
    group.add_argument(
        "--overload-connections", type=int, help=f"the overload run ({d.overload_connections})"
    )
    group.add_argument(
        "--overload-seconds",
        type=float,
        dest="overload_duration_s",
        help=f"the overload run ({d.overload_duration_s:g})",
    )
    group.add_argument("--slow-headers", type=int, help=f"slowloris, headers ({d.slow_headers})")
    group.add_argument("--slow-body", type=int, help=f"slowloris, bodies ({d.slow_body})")
    group.add_argument(
        "--slow-hold", type=float, dest="slow_hold_s", help=f"slowloris hold s ({d.slow_hold_s:g})"
    )
    group.add_argument(
        "--cache-dir",
        type=Path,
        help=f"where the fastapi-cache2 venv is kept ({tools.default_cache_dir()})",
    )


def _int_list(text: str) -> tuple[int, ...]:
    values = tuple(int(part) for part in text.split(",") if part.strip())
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("connection counts are positive integers")
    return values


def settings_from(args: argparse.Namespace) -> PeersSettings:
    """Defaults, then --smoke's, then whatever was given explicitly."""
    settings = replace(PeersSettings(), **SMOKE) if args.smoke else PeersSettings()
    given = {name: getattr(args, name, None) for name in asdict(settings)}
    given["timeout_s"] = getattr(args, "timeout_s_wrk", None)
    settings = replace(settings, **{k: v for k, v in given.items() if v is not None})
    if settings.rounds < 1 or settings.duration_s <= 0 or settings.threads < 1:
        raise ValueError("rounds, duration and threads must be positive")
    if settings.threads > min(settings.connections):
        raise ValueError("wrk needs at least as many connections as threads")
    return settings


def run(args: argparse.Namespace) -> int:
    """Run the peers benchmark; 0 when every run completed (goals are reported, not enforced)."""
    try:
        settings = settings_from(args)
    except ValueError as exc:
        print(f"marketcache bench --peers: {exc}", file=sys.stderr)
        return 2
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    json_path: Path = args.json or Path("bench/out") / f"peers-{stamp}.json"
    png_path: Path = args.png or json_path.with_suffix(".png")
    cache_dir: Path = args.cache_dir or tools.default_cache_dir()
    print(f"$ {settings.command()}", file=sys.stderr)
    previous = signal.getsignal(signal.SIGTERM)
    procutil.exit_on_sigterm()  # a SIGTERM unwinds the `with` blocks: every process stopped
    try:
        tools.ensure_nginx_and_wrk()
        _ensure_redis()
        report = measure(settings, cache_dir)
    except (tools.ToolError, FileNotFoundError) as exc:
        print(f"marketcache bench --peers: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
    report["png"] = str(png_path)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    write_png(png_path, report)
    print_report(report)
    print(f"report: {json_path}\nplot:   {png_path}", file=sys.stderr)
    return 0


def _ensure_redis() -> None:
    if shutil.which("redis-server") is None:
        subprocess.run(["bash", str(tools.REPO / "scripts" / "ensure-redis.sh")], check=False)
    if shutil.which("redis-server") is None:
        raise tools.ToolError("redis-server is missing (scripts/ensure-redis.sh installs it)")


def measure(settings: PeersSettings, cache_dir: Path) -> dict[str, Any]:
    """Start everything, measure, stop everything; the report document."""
    from marketcache.emulator.process import EmulatorProcess

    service_settings = Settings()  # what our service reads too: the peers keep its freshness
    header = _header(settings, cache_dir)
    with contextlib.ExitStack() as stack:
        script_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="peers-wrk-")))
        emulator = stack.enter_context(EmulatorProcess(die_with_parent=True))
        ours = stack.enter_context(peers.start_ours(emulator.url))
        answers = peers.capture_answers(ours)
        others = stack.enter_context(
            peers.start_peers(emulator.url, answers, cache_dir, service_settings)
        )
        everyone = [ours, *(others[name] for name in peers.NAMES if name in others)]
        runs = matrix.run_matrix(
            everyone,
            endpoints=list(peers.ENDPOINTS),
            connections=settings.connections,
            rounds=settings.rounds,
            duration_s=settings.duration_s,
            script_dir=script_dir,
            timeout_s=settings.timeout_s,
            threads=settings.threads,
        )
        before = recorded.latency_buckets(ours.url, "/price")
        over = matrix.overload(
            everyone,
            endpoint="/price",
            connections=settings.overload_connections,
            duration_s=settings.overload_duration_s,
            script_dir=script_dir,
            timeout_s=settings.timeout_s,
        )
        after = recorded.latency_buckets(ours.url, "/price")
        # only the overload run asked this service for /price in between
        over[ours.name]["recorded_by_the_service"] = {
            f"p{q}_ms_at_most": recorded.quantile_bound_ms(before, after, q / 100) for q in (50, 99)
        }
        print(f"[slowloris] holding for up to {settings.slow_hold_s:g} s ...", file=sys.stderr)
        slow = asyncio.run(
            slowloris.probe(
                everyone,
                headers=settings.slow_headers,
                body=settings.slow_body,
                hold_s=settings.slow_hold_s,
            )
        )
        described = {
            c.name: {
                "description": c.description,
                "method": c.shape("/price").method,
                "answer_bytes": c.answer_bytes,
            }
            for c in everyone
        }
    header["machine"]["load_average_at_end"] = list(os.getloadavg())
    return build_report(header, described, runs, over, slow)


def _header(settings: PeersSettings, cache_dir: Path) -> dict[str, Any]:
    venv_python = tools.peer_venv(cache_dir) / "bin" / "python"
    ours = ("uvicorn", "httptools", "uvloop", "fastapi", "starlette", "prometheus-client")
    return {
        "benchmark": "marketcache bench --peers (hits against nginx, fastapi-cache2, raw ASGI)",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": settings.command(),
        "settings": {**asdict(settings), "connections": list(settings.connections)},
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_at_start": list(os.getloadavg()),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "tools": {
            "wrk": wrk.version(),
            "nginx": tools.nginx_version(),
            "ours": tools.distribution_versions(Path(sys.executable), ours),
            "fastapi-cache2 venv": tools.distribution_versions(
                venv_python, tools.PEER_DISTRIBUTIONS
            ),
        },
        "notes": {
            "load": "wrk, one thread, closed loop, keep-alive; every contender one process "
            "(nginx: one worker) on the same loopback; the exchange is the built-in emulator",
            "bytes": "every contender serves the same answer bytes (answer_bytes per endpoint); "
            "fastapi-cache2 by GET with the body's fields as query parameters",
            "medians": "each cell's req/s, p50 and p99 are medians over its rounds",
            "freshness": "nginx and fastapi-cache2 keep each answer as long as our defaults "
            "keep it fresh (TICKER_FRESH_S, KLINES_LIVE_FRESH_S)",
        },
    }
