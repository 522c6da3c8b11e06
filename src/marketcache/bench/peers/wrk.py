"""wrk as the one load generator: a Lua script per request shape, a JSON summary per run."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# `done` prints one JSON line; latency is in microseconds.
_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "p999_us": %d, "mean_us": %.1f, "max_us": %d}\\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.mean, latency.max))
end
"""


@dataclass(frozen=True)
class Shape:
    """What every request of a run is: method, path (with its query) and body."""

    method: str
    path: str
    body: bytes | None = None

    def lua(self) -> str:
        """The wrk script sending this request and printing the summary."""
        lines = [f"wrk.method = {_lua_string(self.method)}"]
        if self.body is not None:
            lines.append(f"wrk.body = {_lua_string(self.body.decode())}")
            lines.append('wrk.headers["Content-Type"] = "application/json"')
        return "\n".join(lines) + "\n" + _DONE


@dataclass(frozen=True)
class WrkResult:
    """One wrk run's summary."""

    connections: int
    duration_s: float
    requests: int
    elapsed_s: float
    bytes: int
    connect_errors: int
    read_errors: int
    write_errors: int
    status_errors: int  # answers that were not 2xx or 3xx
    timeouts: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    mean_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        """Requests completed per second (including non-2xx answers)."""
        return self.requests / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def errors(self) -> int:
        """Every kind of failure wrk counts."""
        return (
            self.connect_errors
            + self.read_errors
            + self.write_errors
            + self.status_errors
            + self.timeouts
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with the derived rates."""
        return {**asdict(self), "rps": self.rps, "errors": self.errors}


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal here


def wrk_binary() -> str:
    """The wrk executable (raises if missing: see scripts/ensure-nginx-wrk.sh)."""
    found = shutil.which("wrk")
    if found is None:
        raise FileNotFoundError("wrk is missing (scripts/ensure-nginx-wrk.sh installs it)")
    return found


def version() -> str:
    """wrk's version line."""
    out = subprocess.run([wrk_binary(), "-v"], capture_output=True, text=True, check=False)
    match = re.search(r"wrk \S+", out.stdout + out.stderr)
    return match.group(0) if match else "wrk (unknown version)"


def run(
    url: str,
    shape: Shape,
    *,
    connections: int,
    duration_s: float,
    script_dir: Path,
    threads: int = 1,
    timeout_s: float = 10.0,
) -> WrkResult:
    """Drive `url + shape.path` for `duration_s` seconds with `connections` connections."""
    script = script_dir / f"wrk-{hashlib.sha1(repr(shape).encode()).hexdigest()[:12]}.lua"
    if not script.exists():
        script.write_text(shape.lua())
    command = [wrk_binary(), f"-t{threads}", f"-c{connections}", f"-d{duration_s:g}s"]
    command += [f"--timeout={timeout_s:g}s", "-s", str(script), url + shape.path]
    out = subprocess.run(
        command, capture_output=True, text=True, check=False, timeout=duration_s + 60
    )
    return parse(out.stdout, connections, duration_s, out.stderr)


def parse(stdout: str, connections: int, duration_s: float, stderr: str = "") -> WrkResult:
    """The WrkResult of wrk's output (raises ValueError without the summary line)."""
    match = re.search(r"^WRK_JSON (\{.*\})$", stdout, re.MULTILINE)
    if match is None:
        raise ValueError(f"no summary from wrk:\n{stdout}\n{stderr}")
    raw = json.loads(match.group(1))
    return WrkResult(
        connections=connections,
        duration_s=duration_s,
        requests=raw["requests"],
        elapsed_s=raw["duration_us"] / 1e6,
        bytes=raw["bytes"],
        connect_errors=raw["connect"],
        read_errors=raw["read"],
        write_errors=raw["write"],
        status_errors=raw["status"],
        timeouts=raw["timeout"],
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        p999_ms=raw["p999_us"] / 1000,
        mean_ms=raw["mean_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
    )
