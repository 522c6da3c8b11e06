"""The issue's must-hold: 1,000 WebSocket subscribers to one price, each change reaches all
of them; one deliberately stalled subscriber is cut off and does not delay the others."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from marketcache.commands.service_process import ServiceProcess
from tests.api.wsclient import crowd, stalled_subscriber

pytestmark = pytest.mark.e2e

SUBSCRIBERS = 1000
SETTINGS = {
    "TICKER_FRESH_S": "0.5",  # the price changes about twice a second
    "KLINES_LIVE_FRESH_S": "0.5",
    "SUBSCRIBE_INTERVAL_S": "0.05",
    "SUBSCRIBE_MAX_CONNECTIONS_PER_CLIENT": str(SUBSCRIBERS + 10),
    "SUBSCRIBE_MAX_PER_CONNECTION": "20",
    "SUBSCRIBE_MAX_BACKLOG": "8",
    # WebSockets leave the HTTP count once upgraded: a thousand of them fit under 100
    "MAX_CONNECTIONS_PER_CLIENT": "100",
    "LOG_LEVEL": "warning",
}
PRICE = {"op": "subscribe", "endpoint": "price", "params": {"symbol": "BTC/USDT"}}
# big answers, so the stalled reader's buffers are full at once
BIG = [
    {
        "op": "subscribe",
        "endpoint": "cvd",
        "params": {"symbol": "BTC/USDT", "limit": 1000, "timeframe": tf},
    }
    for tf in ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h")
]
DEADLINE_S = 60.0
LATE_S = 5.0  # generous: a change reaches every subscriber within this of its fetch


@pytest.fixture(scope="module")
def service() -> Iterator[ServiceProcess]:
    with ServiceProcess(("--offline",), env=SETTINGS) as process:
        yield process


def _drain(sock: socket.socket) -> None:
    """Read what was buffered for `sock` until the server's end of it (EOF or reset)."""
    sock.settimeout(DEADLINE_S)
    with contextlib.suppress(ConnectionResetError):
        while sock.recv(1 << 16):
            pass


def _wall(fetched_at: str) -> float:
    return datetime.fromisoformat(fetched_at.replace("Z", "+00:00")).timestamp()


async def _figures(http: httpx.AsyncClient, url: str) -> dict[str, Any]:
    figures: dict[str, Any] = (await http.get(f"{url}/cache/stats")).json()["data"]["subscriptions"]
    return figures


async def test_a_thousand_subscribers_and_one_stalled(service: ServiceProcess) -> None:
    started = time.monotonic()
    ws_url = service.url.replace("http://", "ws://") + "/ws"
    stalled = stalled_subscriber(service.host, service.port, [PRICE, *BIG])
    subscribers = await crowd(ws_url, SUBSCRIBERS, PRICE)
    readers = [asyncio.ensure_future(s.read()) for s in subscribers]
    mark = time.time()  # every subscriber is in from here
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            # the stalled one is cut off while the others go on receiving
            while (await _figures(http, service.url))["slow_disconnects"] < 1:
                assert time.monotonic() - started < DEADLINE_S, "the stalled reader was never cut"
                await asyncio.sleep(0.1)
            cut_at = time.time()
            changes: list[str] = []
            while len(changes) < 4:  # changes fetched after the cut, as the first one saw them
                assert time.monotonic() - started < DEADLINE_S, "changes stopped coming"
                await asyncio.sleep(0.1)
                changes = sorted(f for f in subscribers[0].seen() if _wall(f) > cut_at)
            wanted = {f for f in subscribers[0].seen() if _wall(f) > mark}
            wanted.discard(max(wanted))  # the newest may still be on its way to some
            while any(not wanted <= s.seen() for s in subscribers):
                assert time.monotonic() - started < DEADLINE_S, "a change did not reach everyone"
                await asyncio.sleep(0.1)
            figures = await _figures(http, service.url)
        await asyncio.to_thread(_drain, stalled)  # the stalled socket was dropped, not left open
    finally:
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        await asyncio.gather(*(s.client.close() for s in subscribers), return_exceptions=True)
        stalled.close()

    assert len(wanted) >= 4
    for subscriber in subscribers:  # every change reached every one, none late
        for fetched, at in subscriber.received:
            if fetched in wanted:
                assert at - _wall(fetched) < LATE_S, (fetched, at)
    assert figures["connections"] == SUBSCRIBERS  # the stalled one is gone
    assert figures["keys"] == 1  # the stalled one's big answers are watched no more
    assert figures["slow_disconnects"] == 1
