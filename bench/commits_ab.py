"""Our service at an earlier commit against the working tree, side by side in one run.

Both run as `marketcache serve` (default settings) on one emulator, warmed; the earlier
commit from a temporary `git worktree` (its `src` first on PYTHONPATH, the same venv).
Each round runs every cell (hot `POST /price` and `/comprehensive_analysis`, wrk at 16 and
256 connections) on both, the order alternating by round; each run is primed until it is a
hit (`matrix.measured`). Prints each run (req/s, p99, server CPU-µs per request) and the
range per cell. The worktree is removed on the way out.
Usage: .venv/bin/python bench/commits_ab.py --base REV [--rounds 3] [--seconds 6]
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from marketcache.bench.peers import contenders
from marketcache.bench.peers.matrix import measured
from marketcache.emulator.process import EmulatorProcess

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def worktree(rev: str) -> Iterator[Path]:
    """A temporary checkout of `rev`, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="commits-ab-") as parent:
        path = Path(parent) / "tree"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(path), rev],
            check=True,
        )
        try:
            yield path
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)], check=False
            )


SPANS = (("rps", ",.0f"), ("cpu_us_per_request", ".0f"), ("p99_ms", ".1f"))


def row(name: str, endpoint: str, conns: int, result: dict[str, float]) -> str:
    """One run, as it is printed."""
    return (
        f"{name:>12} {endpoint:24} c={conns:<3} {result['rps']:8,.0f} req/s "
        f"p99 {result['p99_ms']:6.2f} ms {result['cpu_us_per_request']:5.1f} CPU-µs"
    )


def span(runs: list[dict[str, float]], key: str, fmt: str) -> str:
    """The least and the most of `key` over `runs`."""
    values = [run[key] for run in runs]
    return f"{min(values):{fmt}}-{max(values):{fmt}}"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", required=True, help="the earlier commit")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=6.0)
    args = parser.parse_args()
    cells: dict[tuple[str, str, int], list[dict[str, float]]] = defaultdict(list)
    with contextlib.ExitStack() as stack:
        tree = stack.enter_context(worktree(args.base))
        script_dir = Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="commits-ab-wrk-"))
        )
        emulator = stack.enter_context(EmulatorProcess(die_with_parent=True))
        base = stack.enter_context(
            contenders.start_ours(
                emulator.url, name=args.base, env={"PYTHONPATH": str(tree / "src")}
            )
        )
        now = stack.enter_context(contenders.start_ours(emulator.url, name="working tree"))
        for round_ in range(args.rounds):
            for endpoint in contenders.ENDPOINTS:
                for conns in (16, 256):
                    for side in (base, now) if round_ % 2 == 0 else (now, base):
                        result = measured(
                            side,
                            endpoint,
                            connections=conns,
                            duration_s=args.seconds,
                            script_dir=script_dir,
                        )
                        cells[(endpoint, side.name, conns)].append(result)
                        print(row(side.name, endpoint, conns, result), flush=True)
    print("\n| cell | side | req/s | CPU-µs per request | p99 ms |\n|---|---|---:|---:|---:|")
    for (endpoint, name, conns), runs in sorted(cells.items()):
        rps, cpu, p99 = (span(runs, k, f) for k, f in SPANS)
        print(f"| {endpoint} c={conns} | {name} | {rps} | {cpu} | {p99} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
