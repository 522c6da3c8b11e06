"""A request's recorded arrival includes the time its bytes waited unread in the kernel."""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from marketcache.api.observe import arrived
from marketcache.commands.kernel_wait import measure_tick_s
from tests.commands.guarded import protocol_factory, served_in_thread

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="TCP_INFO is Linux's")


class BlockingApp:
    """Records each request's arrival; `/block` holds the event loop until released."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.blocking = threading.Event()
        self.release = threading.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.arrivals[scope["path"]] = arrived(scope)
        if scope["path"] == "/block":
            self.blocking.set()
            self.release.wait(30)  # the loop reads nothing meanwhile
        headers = [(b"content-length", b"2")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
def served() -> Iterator[tuple[BlockingApp, tuple[str, int], float]]:
    """`BlockingApp` behind our protocol, on a loop in a thread of its own."""
    tick_s = measure_tick_s()
    assert tick_s is not None
    app = BlockingApp()
    factory = protocol_factory(app, tick_s=tick_s)
    try:
        with served_in_thread(factory, asyncio.new_event_loop()) as address:
            yield app, address, tick_s
    finally:
        app.release.set()


def _ask(sock: socket.socket, path: str) -> None:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())


def _answered(sock: socket.socket) -> bytes:
    answer = b""
    while not answer.endswith(b"\r\n\r\nok"):  # the head and the body, in one read or two
        chunk = sock.recv(65536)
        assert chunk, answer
        answer += chunk
    assert answer.startswith(b"HTTP/1.1 200"), answer
    return answer


def test_the_wait_behind_a_busy_loop_is_in_the_arrival(
    served: tuple[BlockingApp, tuple[str, int], float],
) -> None:
    app, address, tick_s = served
    with (
        socket.create_connection(address, timeout=30) as a,
        socket.create_connection(address, timeout=30) as b,
    ):
        _ask(b, "/first")
        _answered(b)
        _ask(a, "/block")
        assert app.blocking.wait(30)
        sent = time.perf_counter()
        _ask(b, "/waited")  # read only once the loop is free again
        time.sleep(0.1)  # how long the loop stays busy
        app.release.set()
        _answered(a)
        _answered(b)
    recorded = app.arrivals["/waited"]
    assert recorded >= sent - 0.001  # not before it was sent
    assert recorded <= sent + 2 * tick_s + 0.005  # not when it was read, 0.1 s later
