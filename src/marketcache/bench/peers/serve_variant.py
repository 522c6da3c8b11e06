"""Our app (or the raw ceiling) under server settings `marketcache serve` does not expose.

For the profile and the variations of docs/benchmarks/peers.md: uvicorn's
`--limit-concurrency`, `--backlog`, `--timeout-keep-alive`, or granian instead of uvicorn.
Everything else is what `marketcache serve` does (uvloop, httptools, our logging set-up,
uvicorn's own access log off); the service's settings come from the environment as usual.

    python -m marketcache.bench.peers.serve_variant --port 8001 --exchange-url URL \\
        [--server uvicorn|granian] [--app ours|raw] [--limit-concurrency N] [--backlog N] \\
        [--timeout-keep-alive S]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from marketcache.config import Settings
from marketcache.logs import configure_logging

TARGETS = {
    "ours": "marketcache.bench.peers.serve_variant:ours_app",
    "raw": "marketcache.bench.peers.apps.raw:app",
}


def ours_app() -> Any:
    """Our app as `marketcache serve` builds it (the factory granian's worker calls)."""
    from marketcache.api.app import create_app

    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    return create_app(settings)


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The variant's options."""
    parser = argparse.ArgumentParser(prog="serve_variant", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--exchange-url", help="EXCHANGE_URL of our app")
    parser.add_argument("--server", choices=("uvicorn", "granian"), default="uvicorn")
    parser.add_argument("--app", choices=sorted(TARGETS), default="ours")
    parser.add_argument("--limit-concurrency", type=int)
    parser.add_argument("--backlog", type=int, default=2048)
    parser.add_argument("--timeout-keep-alive", type=float, default=5.0)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until interrupted."""
    args = parse(argv)
    if args.exchange_url:
        os.environ["EXCHANGE_URL"] = args.exchange_url
    if args.server == "granian":
        return _granian(args)
    return _uvicorn(args)


def _uvicorn(args: argparse.Namespace) -> int:
    import uvicorn

    if args.app == "ours":
        app: Any = ours_app()
    else:
        from marketcache.bench.peers.apps.raw import app
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_config=None,
        lifespan="on",
        timeout_graceful_shutdown=5,
        limit_concurrency=args.limit_concurrency,
        backlog=args.backlog,
        timeout_keep_alive=int(args.timeout_keep_alive),
    )
    server = uvicorn.Server(config)
    server.run()
    return 0 if server.started else 1


def _granian(args: argparse.Namespace) -> int:
    from granian import Granian  # type: ignore[import-not-found,unused-ignore]
    from granian.constants import (  # type: ignore[import-not-found,unused-ignore]
        Interfaces,
        Loops,
    )

    Granian(
        TARGETS[args.app],
        address=args.host,
        port=args.port,
        interface=Interfaces.ASGI,
        workers=1,
        loop=Loops.uvloop,
        backlog=args.backlog,
        log_access=False,
        factory=args.app == "ours",
    ).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
