"""A hit is recorded when its answer left: uvloop sends a turn's writes when the turn ends."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, cast

import pytest
import uvloop

from marketcache.api.fastpath import HitFastPath
from tests.commands.guarded import protocol_factory, served_in_thread

HOLD_S = 0.2


class TurnHolder:
    """A fast path whose every request is a hit; once armed, the second of a turn takes
    `HOLD_S` (the rest of a long turn)."""

    def __init__(self) -> None:
        self.armed = False
        self.calls = 0
        self.recorded: list[float] = []  # latency of each recorded hit, in order

    def wants(self, scope: dict[str, Any]) -> bool:
        return True

    def answer(self, scope: dict[str, Any], body: bytes) -> SimpleNamespace:
        self.calls += 1
        if self.armed and self.calls == 2:
            time.sleep(HOLD_S)  # nothing else runs meanwhile, nothing is sent
        return SimpleNamespace(status=200, head=b"content-length: 2\r\n", content=b"ok")

    def record(self, scope: Any, hit: Any, started: float, ended: float | None = None) -> None:
        self.recorded.append((ended if ended is not None else time.perf_counter()) - started)


async def never_called(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("every request is a hit here")


@pytest.fixture
def served() -> Iterator[tuple[TurnHolder, tuple[str, int], uvloop.Loop]]:
    hits = TurnHolder()
    loop = uvloop.new_event_loop()
    factory = protocol_factory(never_called, hits=cast(HitFastPath, hits))
    with served_in_thread(factory, loop) as address:
        yield hits, address, loop


REQUEST = b"GET /price HTTP/1.1\r\nHost: t\r\n\r\n"


def _answer(sock: socket.socket) -> bytes:
    answer = b""
    while not answer.endswith(b"\r\n\r\nok"):
        chunk = sock.recv(65536)
        assert chunk, answer
        answer += chunk
    return answer


def test_a_hit_sent_when_its_turn_ends_is_recorded_then(
    served: tuple[TurnHolder, tuple[str, int], uvloop.Loop],
) -> None:
    hits, address, loop = served
    socks = [socket.create_connection(address, timeout=30) for _ in range(2)]
    try:
        for sock in socks:  # both connections accepted and answered once
            sock.sendall(REQUEST)
            _answer(sock)
        entered, gate = threading.Event(), threading.Event()

        def hold_the_loop() -> None:
            entered.set()
            gate.wait(30)

        loop.call_soon_threadsafe(hold_the_loop)
        assert entered.wait(30)
        hits.armed, hits.calls, hits.recorded = True, 0, []
        for sock in socks:  # both read in the loop's next turn
            sock.sendall(REQUEST)
        gate.set()
        for sock in socks:
            _answer(sock)
        deadline = time.monotonic() + 30
        while len(hits.recorded) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        for sock in socks:
            sock.close()
    assert len(hits.recorded) == 2
    first, second = hits.recorded
    assert first >= HOLD_S  # answered at once, but sent only once the turn had ended
    assert second >= HOLD_S
