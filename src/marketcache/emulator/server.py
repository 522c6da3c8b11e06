"""`marketcache emulator`: the Binance-compatible exchange emulator on loopback."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from marketcache.emulator.clock import EmulatorClock, parse_clock_start
from marketcache.emulator.control_routes import add_control_routes
from marketcache.emulator.faults import Faults
from marketcache.emulator.market import Market
from marketcache.emulator.middleware import STATE_KEY, EmulatorState, emulator_middleware
from marketcache.emulator.routes import MARKET_KEY, WEIGHT_LIMIT_KEY, add_market_routes
from marketcache.emulator.weights import WeightMeter
from marketcache.emulator.ws import StreamOptions, add_stream_routes

DEFAULT_WEIGHT_LIMIT = 6000


@dataclass(frozen=True)
class EmulatorOptions:
    """How to run the emulator (the command's options)."""

    weight_limit: int = DEFAULT_WEIGHT_LIMIT
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    clock_start_ms: int | None = None
    frozen: bool = False
    seed: int = 0
    ws_ping_interval_s: float = 20.0
    ws_max_lifetime_s: float = 24 * 3600.0
    ws_tick_ms: float = 50.0


def create_app(
    options: EmulatorOptions | None = None, wall_clock: Callable[[], float] = time.time
) -> web.Application:
    """The emulator as an aiohttp application (`wall_clock` times the weight minute)."""
    opts = options or EmulatorOptions()
    app = web.Application(middlewares=[emulator_middleware])
    clock = EmulatorClock(opts.clock_start_ms, frozen=opts.frozen)
    app[MARKET_KEY] = Market(clock, seed=opts.seed)
    app[WEIGHT_LIMIT_KEY] = opts.weight_limit
    app[STATE_KEY] = EmulatorState(
        meter=WeightMeter(opts.weight_limit, wall_clock),
        faults=Faults(opts.latency_ms, opts.jitter_ms, seed=opts.seed),
    )
    add_market_routes(app)
    add_control_routes(app)
    streams = StreamOptions(
        tick_s=opts.ws_tick_ms / 1000.0,
        ping_interval_s=opts.ws_ping_interval_s,
        max_lifetime_s=opts.ws_max_lifetime_s,
    )
    add_stream_routes(app, streams, app[STATE_KEY].faults)
    return app


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `marketcache emulator`."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=9001, help="port (0 = any free port)")
    parser.add_argument(
        "--weight-limit",
        type=int,
        default=DEFAULT_WEIGHT_LIMIT,
        help="request weight allowed per minute before HTTP 429",
    )
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay of every answer")
    parser.add_argument("--jitter-ms", type=float, default=0.0, help="random +/- delay")
    parser.add_argument(
        "--clock-start",
        default=None,
        help="the emulated time at start: ISO time or ms since the epoch",
    )
    parser.add_argument(
        "--frozen",
        action="store_true",
        help="the clock does not move (except via /_emulator/clock)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the synthetic market, faults and jitter"
    )
    parser.add_argument(
        "--ws-ping-interval", type=float, default=20.0, help="seconds between server pings"
    )
    parser.add_argument(
        "--ws-max-lifetime",
        type=float,
        default=24 * 3600.0,
        help="seconds before a websocket connection is closed (Binance: 24 h)",
    )
    parser.add_argument(
        "--ws-tick-ms", type=float, default=50.0, help="how often streams look at the clock"
    )


def options_from_args(args: argparse.Namespace) -> EmulatorOptions:
    """The parsed command line as options."""
    start = parse_clock_start(args.clock_start) if args.clock_start else None
    return EmulatorOptions(
        weight_limit=args.weight_limit,
        latency_ms=args.latency_ms,
        jitter_ms=args.jitter_ms,
        clock_start_ms=start,
        frozen=args.frozen,
        seed=args.seed,
        ws_ping_interval_s=args.ws_ping_interval,
        ws_max_lifetime_s=args.ws_max_lifetime,
        ws_tick_ms=args.ws_tick_ms,
    )


async def serve(host: str, port: int, options: EmulatorOptions) -> None:
    """Run until SIGINT/SIGTERM, announcing the bound URL on stdout."""
    runner = web.AppRunner(create_app(options), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0]
    print(f"emulator listening on http://{host}:{bound[1]}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def _run_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run on uvloop when it is installed (it is, with uvicorn's extras), else asyncio."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop ships with the service's dependencies
        asyncio.run(main)
    else:
        uvloop.run(main)


def run(args: argparse.Namespace) -> int:
    """Entry point of `marketcache emulator`."""
    try:
        options = options_from_args(args)
    except ValueError as exc:
        print(f"marketcache emulator: bad --clock-start: {exc}", file=sys.stderr)
        return 2
    try:
        _run_loop(serve(args.host, args.port, options))
    except OSError as exc:
        print(
            f"marketcache emulator: cannot listen on {args.host}:{args.port}: {exc}",
            file=sys.stderr,
        )
        return 1
    return 0
