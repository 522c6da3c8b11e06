"""`marketcache serve`: run the API on uvicorn (uvloop, httptools).

`--offline` starts the built-in exchange emulator as a child process on a free
loopback port, points ccxt at it, and stops it on exit. `--no-cache` serves the
same API with every request straight to the exchange: the original service.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import uvicorn

from marketcache import procutil
from marketcache.commands.protocol import GuardedHttpTools
from marketcache.config import Settings
from marketcache.logs import configure_logging


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
        help="start the built-in emulator and use it as the exchange (OFFLINE)",
    )
    parser.add_argument("--redis-url", help="share the cache through Redis as L2 (REDIS_URL)")
    parser.add_argument("--log-format", choices=["text", "json"], help="LOG_FORMAT")


def settings_from(args: argparse.Namespace) -> Settings:
    """Environment and .env first, then whatever the command line says."""
    overrides: dict[str, Any] = {}
    for name in ("host", "port", "exchange", "exchange_url", "no_cache", "offline", "redis_url"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    if getattr(args, "log_format", None):
        overrides["log_format"] = args.log_format
    return Settings(**overrides)


@contextlib.contextmanager
def exchange_for(settings: Settings) -> Iterator[Settings]:
    """The settings to serve with: with `offline`, an emulator runs for the duration."""
    if not settings.offline:
        yield settings
        return
    from marketcache.emulator.process import EmulatorProcess

    log = logging.getLogger("marketcache")
    with EmulatorProcess(
        latency_ms=settings.emulator_latency_ms,
        jitter_ms=settings.emulator_jitter_ms,
        die_with_parent=True,  # even a SIGKILLed server leaves no emulator behind
    ) as emulator:
        log.info("offline: emulator at %s", emulator.url)
        yield settings.model_copy(update={"exchange": "binance", "exchange_url": emulator.url})


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    settings = settings_from(args)
    configure_logging(settings.log_format, settings.log_level)
    # uvicorn re-raises the SIGTERM it caught once it has shut down; as SystemExit it
    # unwinds through `exchange_for`, which stops the offline emulator.
    procutil.exit_on_sigterm()
    from marketcache.api.app import create_app

    with exchange_for(settings) as effective:
        config = uvicorn.Config(
            create_app(effective),
            host=effective.host,
            port=effective.port,
            loop="uvloop",
            http=GuardedHttpTools.configured(
                read_timeout_s=effective.http_read_timeout_s,
                max_per_client=effective.max_connections_per_client,
                max_connections=effective.max_connections,
                exempt=frozenset(effective.trusted_proxy_list),
            ),
            proxy_headers=bool(effective.trusted_proxy_list),
            forwarded_allow_ips=effective.trusted_proxy_list or None,
            backlog=4096,
            access_log=False,
            log_config=None,
            lifespan="on",
            timeout_graceful_shutdown=5,
        )
        server = uvicorn.Server(config)
        server.run()
        return 0 if server.started else 1
