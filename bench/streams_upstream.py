"""Upstream streams off against on: REST calls and weight, and the age of what is served.

    .venv/bin/python bench/streams_upstream.py [--duration 60] [--users 8] [--think-ms 50]

Two stacks side by side in one run, each its own emulator (Binance-like latency,
150 ± 50 ms, on a running clock) and its own cached service: one with STREAMS=false,
one with STREAMS=true (defaults otherwise: 30 reads a minute open a series' stream).
The same virtual users (the bot-like Zipf workload of `marketcache bench`:
`bench/workload.py`, same seeds) read both for `--warmup` seconds, then for
`--duration` seconds of measure. Reported per stack over the measure: REST requests
the emulator answered per minute (by path) and their weight per minute, the age of
the served data (`meta.age_ms`) at p50 / p99 / max, and the share of answers that
came from a stream. Loopback only; bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections.abc import Iterator
from typing import Any

import httpx

from marketcache.bench.workload import Workload, user_rng
from marketcache.commands.service_process import ServiceProcess
from marketcache.emulator.control import EmulatorControl
from marketcache.emulator.process import EmulatorProcess

MODES = ("off", "on")


@contextlib.contextmanager
def stacks() -> Iterator[dict[str, tuple[EmulatorProcess, ServiceProcess]]]:
    """An emulator and a service per mode, started; everything stopped on the way out."""
    with contextlib.ExitStack() as stack:
        out = {}
        for mode in MODES:
            emulator = stack.enter_context(EmulatorProcess(latency_ms=150, jitter_ms=50))
            env = {"STREAMS": "true" if mode == "on" else "false", "LOG_LEVEL": "warning"}
            service = stack.enter_context(ServiceProcess(["--exchange-url", emulator.url], env=env))
            out[mode] = (emulator, service)
        yield out


async def user(
    client: httpx.AsyncClient,
    url: str,
    workload: Workload,
    seed: int,
    index: int,
    until: float,
    measure_from: float,
    ages: list[int],
    streamed: list[bool],
) -> None:
    """One virtual user: request, think, again, until `until`; ages kept after warm-up."""
    rng = user_rng(seed, index)
    while time.monotonic() < until:
        request = workload.next_request(rng)
        answer = await client.post(url + request.path, json=request.body)
        if answer.status_code == 200 and time.monotonic() >= measure_from:
            meta = answer.json()["meta"]
            ages.append(int(meta["age_ms"]))
            streamed.append(bool(meta.get("stream")))
        await asyncio.sleep(workload.think_s(rng))


def percentile(values: list[int], share: float) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(share * len(ordered)))]) if ordered else 0.0


async def run(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    workload = Workload(think_ms=args.think_ms)
    with stacks() as running:
        start = time.monotonic()
        measure_from = start + args.warmup
        until = measure_from + args.duration
        ages: dict[str, list[int]] = {m: [] for m in MODES}
        streamed: dict[str, list[bool]] = {m: [] for m in MODES}
        before: dict[str, dict[str, Any]] = {}
        limits = httpx.Limits(max_connections=args.users * 2)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:

            async def snapshot_at_measure() -> None:
                await asyncio.sleep(args.warmup)
                for mode, (emulator, _) in running.items():
                    before[mode] = EmulatorControl(emulator.url).stats()

            tasks = [snapshot_at_measure()]
            for mode, (_, service) in running.items():
                tasks += [
                    user(
                        client,
                        service.url,
                        workload,
                        args.seed,
                        i,
                        until,
                        measure_from,
                        ages[mode],
                        streamed[mode],
                    )
                    for i in range(args.users)
                ]
            await asyncio.gather(*tasks)
        minutes = args.duration / 60
        report: dict[str, dict[str, Any]] = {}
        for mode, (emulator, service) in running.items():
            after = EmulatorControl(emulator.url).stats()
            paths = sorted(set(after["requests"]) | set(before[mode]["requests"]))
            calls = {
                p: (after["requests"].get(p, 0) - before[mode]["requests"].get(p, 0)) / minutes
                for p in paths
            }
            weight = (after["total_weight"] - before[mode]["total_weight"]) / minutes
            got = await asyncio.to_thread(httpx.get, f"{service.url}/cache/stats", timeout=5)
            streams = got.json()["data"]["streams"]
            report[mode] = {
                "answers": len(ages[mode]),
                "rest_per_min": sum(calls.values()),
                "by_path": {p: round(c, 1) for p, c in calls.items() if c},
                "weight_per_min": weight,
                "age_p50": percentile(ages[mode], 0.5),
                "age_p99": percentile(ages[mode], 0.99),
                "age_max": max(ages[mode], default=0),
                "streamed_share": sum(streamed[mode]) / max(1, len(streamed[mode])),
                "streams_open": streams.get("open", 0),
                "stream_messages_per_s": streams.get("messages_per_s", 0),
            }
        return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=20.0, help="seconds before measuring")
    parser.add_argument("--users", type=int, default=8, help="virtual users per stack")
    parser.add_argument("--think-ms", type=float, default=50.0, help="mean think time")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    report = asyncio.run(run(args))
    print(
        f"bot-like Zipf workload, {args.users} users per stack, think {args.think_ms:g} ms, "
        f"{args.warmup:g} s warm-up, {args.duration:g} s measured\n"
    )
    print(
        "| STREAMS | answers | REST requests/min | weight/min | age p50 | age p99 | "
        "age max | from a stream | streams open | stream msgs/s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for mode in MODES:
        r = report[mode]
        print(
            f"| {mode} | {r['answers']} | {r['rest_per_min']:.1f} | {r['weight_per_min']:.1f} "
            f"| {r['age_p50']:.0f} ms | {r['age_p99']:.0f} ms | {r['age_max']} ms "
            f"| {r['streamed_share']:.0%} | {r['streams_open']:g} "
            f"| {r['stream_messages_per_s']:.1f} |"
        )
    print()
    for mode in MODES:
        print(f"REST by path, STREAMS={mode}: {report[mode]['by_path']}")


if __name__ == "__main__":
    main()
