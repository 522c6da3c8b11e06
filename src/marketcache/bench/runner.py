"""`marketcache bench`: the cached service against the uncached one, in one run.

Two emulators with the same settings (one per side, so each side's upstream counters
are its own), the uncached service (`--no-cache`) on one and the cached service on the
other, all on free loopback ports. The same workload then drives each side: by default
one side after the other (`--layout sequential`), so neither competes with the other for
the CPU; `--layout parallel` drives both at once. Prints a table, writes JSON and a PNG.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

from marketcache.bench.html import write_html
from marketcache.bench.loadgen import LoadPlan, drive
from marketcache.bench.monitor import Monitor
from marketcache.bench.plot import write_png
from marketcache.bench.report import SideRun, build_report, print_report
from marketcache.bench.workload import DEFAULT_ZIPF_S, Workload
from marketcache.config import BINANCE_JITTER_MS, BINANCE_LATENCY_MS

LAYOUT_NOTES = {
    "sequential": (
        "two emulators with identical settings, one per side; the uncached side is driven "
        "first, then the cached side, each for the full duration, so neither competes with "
        "the other for the CPU (both services and emulators stay up throughout)"
    ),
    "parallel": (
        "two emulators with identical settings, one per side; both sides are driven at the "
        "same time from one load generator, sharing the machine's cores"
    ),
}


@dataclass(frozen=True)
class BenchSettings:
    """The resolved options of one run."""

    users: int = 16
    duration_s: float = 20.0
    max_requests: int = 50_000
    think_ms: float = 100.0
    latency_ms: float = BINANCE_LATENCY_MS
    jitter_ms: float = BINANCE_JITTER_MS
    weight_limit: int = 6000
    zipf_s: float = DEFAULT_ZIPF_S
    seed: int = 1
    layout: str = "sequential"
    timeout_s: float = 30.0

    def command(self) -> str:
        """The command line that reproduces this run."""
        return (
            f"marketcache bench --users {self.users} --duration {self.duration_s:g} "
            f"--max-requests {self.max_requests} --think-ms {self.think_ms:g} "
            f"--latency-ms {self.latency_ms:g} --jitter-ms {self.jitter_ms:g} "
            f"--weight-limit {self.weight_limit} --zipf-s {self.zipf_s:g} --seed {self.seed} "
            f"--layout {self.layout}"
        )


SMOKE = {"users": 4, "duration_s": 3.0, "max_requests": 400}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `marketcache bench`; unset ones take the defaults (or --smoke's)."""
    from marketcache.bench.peers import runner as peers

    d = BenchSettings()
    parser.add_argument("--users", type=int, help=f"concurrent virtual users ({d.users})")
    parser.add_argument(
        "--duration",
        type=float,
        dest="duration_s",
        metavar="SECONDS",
        help=f"seconds per side ({d.duration_s:g})",
    )
    parser.add_argument(
        "--max-requests", type=int, help=f"cap on requests per side ({d.max_requests})"
    )
    parser.add_argument(
        "--think-ms", type=float, help=f"mean think time between a user's requests ({d.think_ms:g})"
    )
    parser.add_argument("--latency-ms", type=float, help=f"exchange latency ({d.latency_ms:g})")
    parser.add_argument(
        "--jitter-ms", type=float, help=f"exchange latency jitter ({d.jitter_ms:g})"
    )
    parser.add_argument(
        "--weight-limit", type=int, help=f"exchange request weight per minute ({d.weight_limit})"
    )
    parser.add_argument(
        "--zipf-s", type=float, help=f"Zipf exponent of the workload ({d.zipf_s:g})"
    )
    parser.add_argument("--seed", type=int, help=f"workload seed ({d.seed})")
    parser.add_argument(
        "--layout", choices=sorted(LAYOUT_NOTES), help=f"how the sides run ({d.layout})"
    )
    parser.add_argument("--timeout-s", type=float, help=f"per-request timeout ({d.timeout_s:g})")
    parser.add_argument("--json", type=Path, help="report file (bench/out/ab-<time>.json)")
    parser.add_argument("--png", type=Path, help="plot file (bench/out/ab-<time>.png)")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help=f"a tiny run: {SMOKE['users']} users, {SMOKE['duration_s']:g} s per side",
    )
    peers.add_arguments(parser)


def settings_from(args: argparse.Namespace) -> BenchSettings:
    """Defaults, then --smoke's, then whatever was given explicitly."""
    values: dict[str, Any] = asdict(BenchSettings())
    if args.smoke:
        values.update(SMOKE)
    for name in values:
        given = getattr(args, name, None)
        if given is not None:
            values[name] = given
    return BenchSettings(**values)


def run(args: argparse.Namespace) -> int:
    """Run the benchmark, print the table, write the JSON, the PNG and the HTML page."""
    if args.peers:
        from marketcache.bench.peers import runner as peers

        return peers.run(args)
    settings = settings_from(args)
    try:
        workload = Workload(zipf_s=settings.zipf_s, think_ms=settings.think_ms)
        plan = load_plan(settings)
    except ValueError as exc:
        print(f"marketcache bench: {exc}", file=sys.stderr)
        return 2
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    json_path = args.json or Path("bench/out") / f"ab-{stamp}.json"
    png_path = args.png or json_path.with_suffix(".png")
    print(f"$ {settings.command()}", file=sys.stderr)
    uncached, cached = asyncio.run(run_sides(settings, workload, plan))
    report = build_report(uncached, cached, header(settings, workload))
    report["png"] = str(png_path)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    write_png(png_path, report, {"uncached": uncached.records, "cached": cached.records})
    html_path = write_html(json_path.with_suffix(".html"), report, png_path)
    print_report(report)
    print(f"report: {json_path}\nplot:   {png_path}\npage:   {html_path}", file=sys.stderr)
    return 0


def header(settings: BenchSettings, workload: Workload) -> dict[str, Any]:
    """What the run was: command, settings, workload, layout and machine."""
    return {
        "benchmark": "marketcache bench (cached vs uncached)",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": settings.command(),
        "settings": asdict(settings),
        "layout": settings.layout,
        "layout_note": LAYOUT_NOTES[settings.layout],
        "workload": workload.describe(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "notes": {
            "latency": "latency_ok is over 2xx answers; latency_all includes errors",
            "hit_rate": "(hit + stale + coalesced) / (those + miss), from the X-Cache headers",
            "upstream": "from each side's own emulator counters over the side's run",
        },
    }


@contextlib.contextmanager
def _stack(settings: BenchSettings) -> Iterator[dict[str, tuple[Any, Any]]]:
    """Both emulators and both services, started; everything stopped on the way out."""
    from marketcache.commands.service_process import ServiceProcess
    from marketcache.emulator.process import EmulatorProcess

    env = {"EXCHANGE_WEIGHT_LIMIT": str(settings.weight_limit)}
    with contextlib.ExitStack() as stack:
        emulators = {
            name: EmulatorProcess(
                latency_ms=settings.latency_ms,
                jitter_ms=settings.jitter_ms,
                weight_limit=settings.weight_limit,
            )
            for name in ("uncached", "cached")
        }
        for emulator in emulators.values():
            stack.enter_context(emulator)
        services = {
            "uncached": ServiceProcess(
                ["--exchange-url", emulators["uncached"].url, "--no-cache"], env=env
            ),
            "cached": ServiceProcess(["--exchange-url", emulators["cached"].url], env=env),
        }
        for service in services.values():
            stack.enter_context(service)
        yield {name: (emulators[name], services[name]) for name in ("uncached", "cached")}


def load_plan(settings: BenchSettings) -> LoadPlan:
    """The load plan of each side (raises ValueError on impossible settings)."""
    return LoadPlan(
        users=settings.users,
        duration_s=settings.duration_s,
        max_requests=settings.max_requests,
        seed=settings.seed,
        timeout_s=settings.timeout_s,
    )


async def run_sides(
    settings: BenchSettings, workload: Workload, plan: LoadPlan
) -> tuple[SideRun, SideRun]:
    """Start everything, drive both sides as the layout says, stop everything."""
    with _stack(settings) as stack:
        sides = {
            name: (emulator.url, service.url, service.pid, service.args)
            for name, (emulator, service) in stack.items()
        }
        if settings.layout == "parallel":
            uncached, cached = await asyncio.gather(
                _run_side("uncached", *sides["uncached"], workload, plan),
                _run_side("cached", *sides["cached"], workload, plan),
            )
        else:
            uncached = await _run_side("uncached", *sides["uncached"], workload, plan)
            cached = await _run_side("cached", *sides["cached"], workload, plan)
    return uncached, cached


async def _run_side(
    name: str,
    emulator_url: str,
    service_url: str,
    service_pid: int,
    service_args: list[str],
    workload: Workload,
    plan: LoadPlan,
) -> SideRun:
    print(f"driving the {name} service at {service_url} ...", file=sys.stderr)
    async with httpx.AsyncClient(timeout=10.0) as client:
        before = (await client.get(f"{service_url}/cache/stats")).json()
        monitor = Monitor(emulator_url, service_pid)
        origin = time.perf_counter()
        await monitor.start(origin)
        result = await drive(service_url, workload, plan, origin=origin)
        samples = await monitor.stop()
        after = (await client.get(f"{service_url}/cache/stats")).json()
    return SideRun(name, service_args, result.records, result.elapsed_s, samples, before, after)
