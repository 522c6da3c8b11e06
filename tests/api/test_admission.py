"""Past MAX_IN_FLIGHT a fast 503; the recorded latency counts from the request's arrival."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from marketcache.api.observe import RECEIVED_AT
from tests.api.conftest import HarnessFactory


async def test_past_the_limit_a_fast_503_with_retry_after(make_harness: HarnessFactory) -> None:
    harness = await make_harness(max_in_flight=1)
    harness.source.gate = asyncio.Event()  # the first request holds its slot
    first = asyncio.create_task(harness.client.post("/price", json={"symbol": "BTC/USDT"}))
    for _ in range(100):
        await asyncio.sleep(0)
        if harness.source.calls["ticker"]:
            break
    refused = await harness.client.post("/price", json={"symbol": "ETH/USDT"})
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "1"
    assert refused.json()["error"]["code"] == "overloaded"
    harness.source.gate.set()
    assert (await first).status_code == 200
    again = await harness.client.post("/price", json={"symbol": "ETH/USDT"})
    assert again.status_code == 200


async def test_queue_time_is_in_the_recorded_latency(make_harness: HarnessFactory) -> None:
    harness = await make_harness()
    app = harness.client._transport.app  # type: ignore[attr-defined]
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/health",
        "raw_path": b"/health",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8001),
        "extensions": {RECEIVED_AT: time.perf_counter() - 5.0},  # arrived 5 s ago
        "app": app,
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert sent[0]["status"] == 200
    counts = app.state.runtime.monitor.recorder.take()
    assert counts.requests == 1
    p50 = counts.latency.percentile(0.5)
    assert p50 is not None
    assert p50 >= 4000.0  # histogram bins are coarse; without the arrival time it is ~0
