"""What observing a request costs: ObserveRequests around a trivial ASGI app, with and without
the per-request log line, against the bare app. Prints microseconds per request.

    .venv/bin/python bench/monitoring_overhead.py
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from types import SimpleNamespace
from typing import Any

from marketcache.api.observe import ObserveRequests
from marketcache.clock import SystemClock
from marketcache.config import Settings
from marketcache.logs import JsonFormatter
from marketcache.monitoring.monitor import Monitor
from marketcache.sources.base import UpstreamStats

N = 50_000
BODY = b'{"success":true,"data":{"last":1.0},"meta":{"cache":"hit"}}'


class _Source:
    stats = UpstreamStats()

    def normalize_symbol(self, raw: str) -> str:
        return raw


async def bare(scope: Any, receive: Any, send: Any) -> None:
    scope.setdefault("state", {})["cache_status"] = "hit"
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"x-cache", b"hit")],
        }
    )
    await send({"type": "http.response.body", "body": BODY})


async def run(app: Any, monitor: Monitor) -> float:
    holder = SimpleNamespace(state=SimpleNamespace(runtime=SimpleNamespace(monitor=monitor)))

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        return None

    started = time.perf_counter()
    for _ in range(N):
        scope = {"type": "http", "method": "POST", "path": "/price", "headers": [], "app": holder}
        await app(scope, receive, send)
    return (time.perf_counter() - started) / N * 1e6


async def main() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    monitor = Monitor(settings, SystemClock(), None, _Source())  # type: ignore[arg-type]
    access = logging.getLogger("marketcache.access")
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(JsonFormatter())
    access.addHandler(handler)
    access.propagate = False
    observed = ObserveRequests(bare)
    base = await run(bare, monitor)
    access.setLevel(logging.WARNING)
    quiet = await run(observed, monitor)
    access.setLevel(logging.INFO)
    logged = await run(observed, monitor)
    print(f"bare ASGI app:                          {base:6.2f} us/request")
    print(f"+ ObserveRequests (record, no log line): {quiet:6.2f} us/request (+{quiet - base:.2f})")
    print(
        f"+ ObserveRequests + JSON log line:       {logged:6.2f} us/request (+{logged - base:.2f})"
    )


if __name__ == "__main__":
    asyncio.run(main())
