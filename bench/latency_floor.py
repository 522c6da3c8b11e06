"""How low wrk's p99 can go on this host: the floors under our hits' latency (issue 14).

Issue 14 asks for a hit p99 of 1 ms at 16 connections and 15 ms at 256, measured with wrk
(one thread, closed loop) on the same two cores as the server. This puts beside our
service, in interleaved rounds, the same answer bytes served by
  - nginx `return 200` (C, no cache, no upstream): the floor of the host and of wrk itself;
  - a bare uvloop protocol in Python that answers each read with the framed bytes (no
    HTTP parse, no app): the floor of any Python server on uvloop;
so a p99 can be read against what nothing written in Python, and then nothing at all,
does better here. CPU per request is each server's own (psutil, children included).
wrk sends one request at a time per connection, so one read is one request for the bare
protocol (it is a floor, not a server). Needs wrk and nginx (scripts/ensure-nginx-wrk.sh).
Usage: .venv/bin/python bench/latency_floor.py [--rounds 3] [--seconds 6]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from marketcache.bench.peers import contenders, wrk
from marketcache.bench.peers.procs import Daemon, tcp_ready
from marketcache.bench.peers.tools import nginx_binary
from marketcache.emulator.process import EmulatorProcess
from marketcache.netutil import free_port

ENDPOINTS = ("/price", "/comprehensive_analysis")
CONNECTIONS = (16, 256)

_NGINX = """\
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/tmp;
  server {{
    listen 127.0.0.1:{port};
{locations}
  }}
}}
"""


@dataclass(frozen=True)
class Server:
    """One contender: where it listens and the process whose CPU it spends."""

    name: str
    url: str
    pid: int


def _nginx_text(body: bytes) -> str:
    text = body.decode()
    if "$" in text:  # nginx would read it as a variable
        raise ValueError("an answer holds '$': nginx `return` cannot carry it verbatim")
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


@contextlib.contextmanager
def nginx_return(answers: dict[str, bytes]) -> Iterator[Server]:
    """nginx answering each path with its bytes from the config (`return 200`)."""
    binary = nginx_binary()
    if binary is None:
        raise FileNotFoundError("nginx is missing (scripts/ensure-nginx-wrk.sh installs it)")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="floor-nginx-") as prefix:
        (Path(prefix) / "tmp").mkdir()
        locations = "\n".join(
            f"    location = {path} {{ default_type application/json;"
            f" add_header X-Cache hit; return 200 {_nginx_text(body)}; }}"
            for path, body in answers.items()
        )
        conf = Path(prefix) / "nginx.conf"
        conf.write_text(_NGINX.format(prefix=prefix, port=port, locations=locations))
        command = [binary, "-p", prefix, "-c", str(conf), "-e", f"{prefix}/error.log"]
        with Daemon("nginx-return", command, ready=tcp_ready(port)) as daemon:
            yield Server("nginx return 200", f"http://127.0.0.1:{port}", daemon.pid)


@contextlib.contextmanager
def bare_protocol(answers: dict[str, bytes], directory: Path) -> Iterator[Server]:
    """This script's own `--serve-bare`: a uvloop protocol writing framed bytes per read."""
    port = free_port()
    files = []
    for index, (path, body) in enumerate(answers.items()):
        file = directory / f"answer-{index}.bin"
        file.write_bytes(body)
        files += [path, str(file)]
    command = [sys.executable, __file__, "--serve-bare", str(port), *files]
    with Daemon("bare-protocol", command, ready=tcp_ready(port)) as daemon:
        yield Server("bare uvloop protocol", f"http://127.0.0.1:{port}", daemon.pid)


def serve_bare(port: int, pairs: list[str]) -> None:
    """Answer every read on a connection with the framed answer of the path it names."""
    import uvloop

    framed = {}
    for path, file in zip(pairs[::2], pairs[1::2], strict=True):
        body = Path(file).read_bytes()
        head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-cache: hit\r\n"
        framed[path.encode()] = head.encode() + b"content-length: %d\r\n\r\n" % len(body) + body
    default = next(iter(framed.values()))

    class Bare(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport: asyncio.Transport = transport  # type: ignore[assignment]

        def data_received(self, data: bytes) -> None:
            path = data[data.find(b" ") + 1 : data.find(b" HTTP/")]
            self.transport.write(framed.get(path, default))

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(
            Bare, "127.0.0.1", port, backlog=4096
        )
        await server.serve_forever()

    uvloop.run(main())


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of `pid` and its children so far."""
    process = psutil.Process(pid)
    total = 0.0
    for each in (process, *process.children(recursive=True)):
        with contextlib.suppress(psutil.NoSuchProcess):
            times = each.cpu_times()
            total += times.user + times.system
    return total


Cells = dict[tuple[str, str, int], list[tuple[wrk.WrkResult, float]]]


def measure(
    servers: list[Server], ours: contenders.Contender, rounds: int, seconds: float, scratch: Path
) -> Cells:
    """Every (server, endpoint, connections) cell, rounds interleaved: (wrk's result, CPU
    seconds per request) each."""
    cells: Cells = {}
    for _ in range(rounds):
        for endpoint in ENDPOINTS:
            for connections in CONNECTIONS:
                for server in servers:
                    if server.name == "marketcache":
                        contenders.prime(ours, endpoint)
                    before = cpu_s(server.pid)
                    run = wrk.run(
                        server.url,
                        ours.shape(endpoint),
                        connections=connections,
                        duration_s=seconds,
                        script_dir=scratch,
                    )
                    if run.errors:
                        raise RuntimeError(f"{server.name} {endpoint}: {run}")
                    spent = (cpu_s(server.pid) - before) / run.requests
                    cells.setdefault((server.name, endpoint, connections), []).append((run, spent))
    return cells


def table(cells: Cells) -> str:
    """The medians of each cell, as markdown (each round's p99 too)."""
    rows = [
        "| endpoint | connections | server | req/s | CPU µs/request | p50 ms | p99 ms (rounds) |",
        "|---|---:|---|---:|---:|---:|---|",
    ]
    for (name, endpoint, connections), measured in cells.items():
        runs = [run for run, _ in measured]
        p99s = ", ".join(f"{run.p99_ms:.2f}" for run in runs)
        rows.append(
            f"| {endpoint} | {connections} | {name}"
            f" | {statistics.median(run.rps for run in runs):,.0f}"
            f" | {statistics.median(spent for _, spent in measured) * 1e6:.1f}"
            f" | {statistics.median(run.p50_ms for run in runs):.2f}"
            f" | {statistics.median(run.p99_ms for run in runs):.2f} ({p99s}) |"
        )
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--serve-bare", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(int(args.serve_bare[0]), args.serve_bare[1:])
        return 0
    with (
        EmulatorProcess() as emulator,
        tempfile.TemporaryDirectory() as scratch,
        contenders.start_ours(emulator.url) as ours,
    ):
        answers = {
            endpoint: httpx.post(ours.url + endpoint, content=ours.shape(endpoint).body).content
            for endpoint in ENDPOINTS
        }
        with nginx_return(answers) as floor, bare_protocol(answers, Path(scratch)) as bare:
            servers = [Server("marketcache", ours.url, ours.pid), bare, floor]
            cells = measure(servers, ours, args.rounds, args.seconds, Path(scratch))
    print(table(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
