"""The interleaved wrk matrix: rounds × endpoints × connections × contenders, one run each.

Within a round every contender runs each cell once, back to back, the order rotated from
one round to the next, so that drift on a shared machine spreads over every contender.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil

from marketcache.bench.peers import wrk
from marketcache.bench.peers.contenders import Contender, prime


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU seconds of `pids` and their children so far."""
    total = 0.0
    for pid in pids:
        try:
            process = psutil.Process(pid)
            family = [process, *process.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for member in family:
            try:
                times = member.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
    return total


def measured(contender: Contender, endpoint: str, **options: Any) -> dict[str, Any]:
    """One wrk run of hits (primed first) with the contender's CPU time over it: its
    summary and CPU per request."""
    prime(contender, endpoint)
    before = cpu_seconds(contender.accounted_pids)
    result = wrk.run(contender.url, contender.shape(endpoint), **options)
    used = cpu_seconds(contender.accounted_pids) - before
    per_request = 1e6 * used / result.requests if result.requests else float("nan")
    return {**result.to_dict(), "cpu_s": used, "cpu_us_per_request": per_request}


def rotated(items: Sequence[Contender], by: int) -> list[Contender]:
    """`items` turned left by `by` places."""
    if not items:
        return []
    k = by % len(items)
    return [*items[k:], *items[:k]]


def run_matrix(
    contenders: Sequence[Contender],
    *,
    endpoints: Sequence[str],
    connections: Sequence[int],
    rounds: int,
    duration_s: float,
    script_dir: Path,
    timeout_s: float = 10.0,
    threads: int = 1,
) -> list[dict[str, Any]]:
    """Every run of the matrix, in the order they ran, each wrk's summary with its cell."""
    runs: list[dict[str, Any]] = []
    total = rounds * len(endpoints) * len(connections) * len(contenders)
    for round_ in range(rounds):
        for endpoint in endpoints:
            for conns in connections:
                for contender in rotated(contenders, round_):
                    result = measured(
                        contender,
                        endpoint,
                        connections=conns,
                        duration_s=duration_s,
                        script_dir=script_dir,
                        threads=threads,
                        timeout_s=timeout_s,
                    )
                    runs.append(
                        {
                            "round": round_,
                            "endpoint": endpoint,
                            "connections": conns,
                            "contender": contender.name,
                            **result,
                        }
                    )
                    print(
                        f"[{len(runs)}/{total}] round {round_ + 1} {endpoint} c={conns} "
                        f"{contender.name}: {result['rps']:,.0f} req/s, "
                        f"p99 {result['p99_ms']:.2f} ms, "
                        f"{result['cpu_us_per_request']:.0f} CPU-µs/request"
                        + (f", {result['errors']} errors" if result["errors"] else ""),
                        file=sys.stderr,
                    )
    return runs


def overload(
    contenders: Sequence[Contender],
    *,
    endpoint: str,
    connections: int,
    duration_s: float,
    script_dir: Path,
    timeout_s: float = 10.0,
) -> dict[str, dict[str, Any]]:
    """One bounded many-connection run per contender on a hot endpoint: timeouts and p99."""
    results: dict[str, dict[str, Any]] = {}
    for contender in contenders:
        result = measured(
            contender,
            endpoint,
            connections=connections,
            duration_s=duration_s,
            script_dir=script_dir,
            timeout_s=timeout_s,
        )
        results[contender.name] = {"endpoint": endpoint, **result}
        print(
            f"[overload] {contender.name} c={connections}: {result['rps']:,.0f} req/s, "
            f"{result['timeouts']} timeouts, {result['errors']} errors, "
            f"p99 {result['p99_ms']:.1f} ms",
            file=sys.stderr,
        )
    return results
