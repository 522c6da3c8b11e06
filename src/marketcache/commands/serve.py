"""`marketcache serve`: run the API on uvicorn (uvloop, httptools).

`--offline` starts the built-in exchange emulator as a child process on a free
loopback port, points ccxt at it, and stops it on exit. `--fallback-offline` (what
`make run` uses) does so only when the exchange cannot be reached at start-up; plain
`serve` never falls back (production fails closed). `--no-cache` serves the same API
with every request straight to the exchange: the original service.

Bad settings stop it before anything starts: one line each on stderr, exit status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import sys
from collections.abc import Iterator
from typing import Any

import uvicorn

from marketcache import procutil
from marketcache.commands.kernel_wait import measure_tick_s
from marketcache.commands.protocol import GuardedHttpTools, GuardedWebSockets
from marketcache.config import (
    BINANCE_JITTER_MS,
    BINANCE_LATENCY_MS,
    OFFLINE_EXCHANGE,
    Settings,
    SettingsError,
    load_settings,
)
from marketcache.logs import configure_logging

log = logging.getLogger("marketcache")

# setting → its option; every option defaults to its environment variable
OPTIONS = {
    "host": "--host",
    "port": "--port",
    "exchange": "--exchange",
    "exchange_url": "--exchange-url",
    "no_cache": "--no-cache",
    "offline": "--offline",
    "offline_fallback": "--fallback-offline",
    "emulator_latency_ms": "--emulator-latency-ms",
    "emulator_jitter_ms": "--emulator-jitter-ms",
    "redis_url": "--redis-url",
    "log_format": "--log-format",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `marketcache serve`; each one defaults to its environment variable."""
    parser.add_argument("--host", help="address to listen on (HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (PORT, default 8001)")
    parser.add_argument("--exchange", help="ccxt exchange id (EXCHANGE, default binance)")
    parser.add_argument("--exchange-url", help="re-point the exchange's REST URLs (EXCHANGE_URL)")
    parser.add_argument(
        "--no-cache",
        action="store_true",
        default=None,
        help="the original service: every request goes to the exchange (NO_CACHE)",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        default=None,
        help="start the built-in Binance emulator and use it as the exchange (OFFLINE)",
    )
    parser.add_argument(
        "--fallback-offline",
        dest="offline_fallback",
        action="store_true",
        default=None,
        help="if the exchange cannot be reached at start-up, serve the built-in emulator "
        "instead (OFFLINE_FALLBACK; `make run` sets it)",
    )
    parser.add_argument(
        "--emulator-latency-ms",
        type=float,
        help="the offline emulator's added latency per request "
        f"(EMULATOR_LATENCY_MS, default {BINANCE_LATENCY_MS:g}: Binance-like)",
    )
    parser.add_argument(
        "--emulator-jitter-ms",
        type=float,
        help=f"± this much on that latency (EMULATOR_JITTER_MS, default {BINANCE_JITTER_MS:g})",
    )
    parser.add_argument("--redis-url", help="share the cache through Redis as L2 (REDIS_URL)")
    parser.add_argument("--log-format", choices=["text", "json"], help="LOG_FORMAT")


def settings_from(args: argparse.Namespace) -> Settings:
    """Environment and .env first, then whatever the command line says; `SettingsError`."""
    overrides: dict[str, Any] = {}
    for name in OPTIONS:
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    settings = load_settings(overrides, options={name: OPTIONS[name] for name in overrides})
    from marketcache.errors import InvalidParameter
    from marketcache.sources.ccxt import check_exchange_id

    try:
        check_exchange_id(settings.exchange)
    except InvalidParameter as exc:
        where = "--exchange " if "exchange" in overrides else "EXCHANGE="
        raise SettingsError([where + exc.message.removeprefix("exchange: ")]) from None
    return settings


@contextlib.contextmanager
def exchange_for(settings: Settings) -> Iterator[Settings]:
    """The settings to serve with: with `offline`, an emulator runs for the duration."""
    if not settings.offline:
        yield settings
        return
    from marketcache.emulator.process import EmulatorProcess

    with EmulatorProcess(
        latency_ms=settings.emulator_latency_ms,
        jitter_ms=settings.emulator_jitter_ms,
        die_with_parent=True,  # even a SIGKILLed server leaves no emulator behind
    ) as emulator:
        log.info(
            "offline: emulator at %s (latency %g ± %g ms)",
            emulator.url,
            settings.emulator_latency_ms,
            settings.emulator_jitter_ms,
        )
        yield settings.model_copy(
            update={"exchange": OFFLINE_EXCHANGE, "exchange_url": emulator.url}
        )


def with_fallback(settings: Settings) -> Settings:
    """`settings`, or offline ones when `offline_fallback` is set and the exchange is out."""
    if not settings.offline_fallback or settings.offline:
        return settings
    from marketcache.commands.fallback import unreachable_reason

    reason = unreachable_reason(settings)
    if reason is None:
        return settings
    log.warning(
        "%s cannot be reached at start-up (%s); serving the built-in emulator instead "
        "(--fallback-offline)",
        settings.exchange,
        reason,
    )
    log.warning(
        "*** OFFLINE FALLBACK: synthetic data from the built-in %s emulator, not the "
        'exchange; every answer says "source": "emulator"; restart to serve %s ***',
        OFFLINE_EXCHANGE,
        settings.exchange,
    )
    return settings.model_copy(update={"offline": True})


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; 2 (and one line per problem) on bad settings."""
    try:
        settings = settings_from(args)
    except SettingsError as exc:
        for line in exc.lines:
            print(f"marketcache serve: {line}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format, settings.log_level)
    # uvicorn re-raises the SIGTERM it caught once it has shut down; as SystemExit it
    # unwinds through `exchange_for`, which stops the offline emulator.
    procutil.exit_on_sigterm()
    settings = with_fallback(settings)
    from marketcache.api.app import create_app

    with exchange_for(settings) as effective:
        # What start-up built (the exchange's markets, thousands of dicts; the app) lives as
        # long as the process: frozen out of the garbage collector, whose full collections
        # otherwise walk it all: hits' p99 at 256 connections 41 ms unfrozen, 25 ms frozen
        # (GC_FREEZE; bench/hit_tail.py, docs/BENCHMARKS.md).
        app = create_app(effective, after_start=gc.freeze if effective.gc_freeze else None)
        config = uvicorn.Config(
            app,
            host=effective.host,
            port=effective.port,
            loop="uvloop",
            http=GuardedHttpTools,
            ws=GuardedWebSockets,
            ws_max_size=64 * 1024,  # a client message is a small JSON object
            proxy_headers=bool(effective.trusted_proxy_list),
            forwarded_allow_ips=effective.trusted_proxy_list or None,
            backlog=4096,
            access_log=False,
            log_config=None,
            lifespan="on",
            timeout_graceful_shutdown=5,
        )
        # We bind the listening socket, so that the protocol can accept what waits in its queue
        listener = config.bind_socket()
        listener.setblocking(False)
        config.http = GuardedHttpTools.configured(
            read_timeout_s=effective.http_read_timeout_s,
            max_per_client=effective.max_connections_per_client,
            max_connections=effective.max_connections,
            exempt=frozenset(effective.trusted_proxy_list),
            hits=app.fast_path,
            listener=listener,
            tick_s=measure_tick_s(),
        )
        server = uvicorn.Server(config)
        server.run(sockets=[listener])
        return 0 if server.started else 1
