"""CPU time of one cache hit inside the server, without sockets: ours against the raw ceiling.

Builds our app as `marketcache serve` does (emulator as the exchange, default settings,
hot keys warmed), gives uvicorn's protocol (ours: `GuardedHttpTools` answering hits;
the ceiling: plain `HttpToolsProtocol` with the bare ASGI app of the peers bench) a
transport that only collects bytes, and feeds each the same keep-alive requests
(`--batch` of them per `data_received`, as a busy connection sees them). Reports
µs per request of the event-loop thread (`time.thread_time`), medians of interleaved
rounds, and the ratio. The socket's system calls and epoll are not in it: this is the
Python a hit costs, the part our code decides.
With --log our request log is on (text, to a file), its formatting on the loop counted.
Usage: .venv/bin/python bench/hit_protocol.py [--rounds 5] [--requests 20000] [--batch 1] [--log]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import uvicorn
import uvloop
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from marketcache.api.app import create_app
from marketcache.bench.peers.apps import payloads
from marketcache.commands.protocol import GuardedHttpTools
from marketcache.config import load_settings
from marketcache.emulator.process import EmulatorProcess
from marketcache.logs import configure_logging

BODIES = {
    "/price": b'{"symbol":"BTC/USDT"}',
    "/comprehensive_analysis": b'{"symbol":"BTC/USDT","timeframe":"15m"}',
}


def request(path: str, body: bytes) -> bytes:
    """A keep-alive POST as wrk sends it."""
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


class Transport(asyncio.Transport):
    """Collects what is written; says how many answers it has seen."""

    def __init__(self) -> None:
        super().__init__()
        self.written = 0
        self.answers = 0
        self.closing = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8001), "peername": ("127.0.0.1", 50000)}.get(
            name, default
        )

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += len(data)
        self.answers += bytes(data[:12]) == b"HTTP/1.1 200"

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.closing = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0


async def drive(protocol: Any, transport: Transport, data: bytes, batch: int, n: int) -> float:
    """Feed `n` requests (`batch` per call); CPU µs per request of this thread."""
    chunk = data * batch
    started = time.thread_time()
    for i in range(n // batch):
        target = transport.answers + batch
        protocol.data_received(chunk)
        while transport.answers < target:  # noqa: ASYNC110 (the raw app answers from a task)
            await asyncio.sleep(0)
        if i % 16 == 0:  # a turn of the loop now and then, as a server takes: timers run
            await asyncio.sleep(0)
    return (time.thread_time() - started) / n * 1e6


def connect(protocol_class: Any, config: uvicorn.Config) -> tuple[Any, Transport]:
    """A protocol of `protocol_class` on a collecting transport."""
    protocol = protocol_class(config=config, server_state=ServerState(), app_state={})
    transport = Transport()
    protocol.connection_made(transport)
    return protocol, transport


async def measure(args: argparse.Namespace) -> dict[str, float]:
    """This process's contender: µs per request for each endpoint (a child's work)."""
    if args.one == "raw":
        from marketcache.bench.peers.apps import raw

        config = uvicorn.Config(raw.app, lifespan="off", log_config=None)
        config.load()
        return await _measure(HttpToolsProtocol, config, args)
    settings = load_settings({"exchange_url": args.exchange_url})
    log_file = None
    if args.log:  # the request log at info, to a file, as `marketcache serve` logs
        log_file = (Path(args.payloads) / "ours.log").open("w")
        os.dup2(log_file.fileno(), 2)
        configure_logging("text", "info")
    app = create_app(settings)
    config = uvicorn.Config(app, lifespan="on", log_config=None, access_log=False)
    config.load()
    lifespan = config.lifespan_class(config)
    await lifespan.startup()
    try:
        ours = GuardedHttpTools.configured(
            read_timeout_s=10,
            max_per_client=1024,
            max_connections=4096,
            exempt=frozenset(),
            hits=app.fast_path,
        )
        payloads.write(Path(args.payloads), {p: await _hit(ours, config, p) for p in BODIES})
        gc.freeze()  # as `marketcache serve` does (GC_FREEZE)
        return await _measure(ours, config, args)
    finally:
        await lifespan.shutdown()


async def _hit(protocol_class: Any, config: uvicorn.Config, path: str) -> bytes:
    """Ask `path` until it is a cache hit; the hit's body."""
    protocol, transport = connect(protocol_class, config)
    seen: list[bytes] = []
    transport.write = seen.append  # type: ignore[method-assign]
    for _ in range(100):
        seen.clear()
        protocol.data_received(request(path, BODIES[path]))
        while b"\r\n\r\n" not in b"".join(seen):  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        head, _, body = b"".join(seen).partition(b"\r\n\r\n")
        if b"x-cache: hit" in head:
            return body
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{path} never became a hit")


async def _measure(
    protocol_class: Any, config: uvicorn.Config, args: argparse.Namespace
) -> dict[str, float]:
    found: dict[str, float] = {}
    for path, body in BODIES.items():
        protocol, transport = connect(protocol_class, config)
        data = request(path, body)
        await drive(protocol, transport, data, args.batch, 2000)  # warm-up
        found[path] = await drive(protocol, transport, data, args.batch, args.requests)
        protocol.connection_lost(None)
    return found


def run_child(
    one: str, exchange_url: str, payload_dir: str, args: argparse.Namespace
) -> dict[str, float]:
    """One contender's measurement, in a fresh process."""
    command = [sys.executable, __file__, "--one", one, "--exchange-url", exchange_url]
    command += ["--payloads", payload_dir, "--requests", str(args.requests)]
    command += ["--batch", str(args.batch)] + (["--log"] if args.log else [])
    env = {**os.environ, payloads.ENV: payload_dir}
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument(
        "--log", action="store_true", help="our request log on (to a file), as served"
    )
    parser.add_argument("--one", choices=("ours", "raw"), help=argparse.SUPPRESS)
    parser.add_argument("--exchange-url", help=argparse.SUPPRESS)
    parser.add_argument("--payloads", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(uvloop.run(measure(args))))
        return 0
    runs: dict[tuple[str, str], list[float]] = {}
    with EmulatorProcess() as emulator, tempfile.TemporaryDirectory() as payload_dir:
        run_child("ours", emulator.url, payload_dir, args)  # the answers the raw app serves
        for round_no in range(args.rounds):
            order = ["ours", "raw"] if round_no % 2 == 0 else ["raw", "ours"]
            for one in order:
                for path, us in run_child(one, emulator.url, payload_dir, args).items():
                    runs.setdefault((one, path), []).append(us)
    print(f"CPU µs per request (the least of {args.rounds} rounds; batch {args.batch})")
    for path in BODIES:
        ours, ceiling = min(runs[("ours", path)]), min(runs[("raw", path)])
        spread = (
            [round(x, 1) for x in runs[("ours", path)]],
            [round(x, 1) for x in runs[("raw", path)]],
        )
        ratio = ceiling / ours
        print(f"{path:26} ours {ours:6.2f}  raw {ceiling:6.2f}  ours/raw by CPU {ratio:.2f}x")
        print(f"{'':26} each round, ours and raw: {spread}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
