"""Requests seen before skip the parser, and only where that changes nothing."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

import pytest
import uvloop

from marketcache.api.fastpath import HitFastPath
from marketcache.api.observe import RECEIVED_AT
from marketcache.commands.protocol import GuardedHttpTools
from tests.commands.guarded import protocol_factory, served_in_thread

REQUEST = b"POST /price HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}"
CLOSING = b"POST /price HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}"
SLOW = b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"


class Counting(GuardedHttpTools):
    """Our protocol, counting the requests its parser began."""

    begun = 0

    def on_message_begin(self) -> None:
        type(self).begun += 1
        super().on_message_begin()


@dataclass
class Hits:
    """A fast path: /price is a hit while `hitting`; every scope it was asked about."""

    hitting: bool = True
    scopes: list[dict[str, Any]] = field(default_factory=list)

    def wants(self, scope: dict[str, Any]) -> bool:
        return bool(scope["path"] == "/price")

    def answer(self, scope: dict[str, Any], body: bytes) -> SimpleNamespace | None:
        self.scopes.append(scope)
        if not self.hitting:
            return None
        return SimpleNamespace(status=200, head=b"content-length: 3\r\n", content=b"hit")

    def record(self, scope: Any, hit: Any, started: float, ended: float | None = None) -> None:
        pass


@dataclass
class Served:
    hits: Hits
    address: tuple[str, int]
    loop: asyncio.AbstractEventLoop
    protocol: type[Counting]
    release: asyncio.Event

    def connect(self) -> socket.socket:
        return socket.create_connection(self.address, timeout=30)


@pytest.fixture
def served() -> Iterator[Served]:
    hits = Hits()
    loop = uvloop.new_event_loop()
    release = asyncio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        """The ASGI way: /slow waits for `release`; anything else is a miss."""
        if scope["path"] == "/slow":
            await release.wait()
        body = b"slow" if scope["path"] == "/slow" else b"miss"
        length = str(len(body)).encode()
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", length)]}
        )
        await send({"type": "http.response.body", "body": body})

    factory = protocol_factory(app, hits=cast(HitFastPath, hits), base=Counting)
    protocol = cast(type[Counting], factory.protocol_class)
    with served_in_thread(factory, loop) as address:
        yield Served(hits, address, loop, protocol, release)


def read_answers(sock: socket.socket, bodies: int) -> list[bytes]:
    """The bodies of the next `bodies` answers (each ends in its 3- or 4-byte body)."""
    buffer, found = b"", []
    while len(found) < bodies:
        head, sep, rest = buffer.partition(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            ),
            None,
        )
        if sep and length is not None and len(rest) >= length:
            found.append(rest[:length])
            buffer = rest[length:]
            continue
        chunk = sock.recv(65536)
        assert chunk, f"closed after {found}"
        buffer += chunk
    return found


def poll(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.005)


def test_the_same_bytes_again_skip_the_parser_and_mean_the_same(served: Served) -> None:
    with served.connect() as first, served.connect() as second:
        first.sendall(REQUEST)
        assert read_answers(first, 1) == [b"hit"]
        assert served.protocol.begun == 1
        assert len(served.protocol.known) == 1
        first.sendall(REQUEST)
        second.sendall(REQUEST)  # another connection knows it too
        assert read_answers(first, 1) == [b"hit"]
        assert read_answers(second, 1) == [b"hit"]
        assert served.protocol.begun == 1  # neither was parsed
        parsed, *known = served.hits.scopes
        for scope in known:
            for name in ("method", "path", "query_string", "headers", "http_version", "type"):
                assert scope[name] == parsed[name]
            assert scope["extensions"][RECEIVED_AT] > parsed["extensions"][RECEIVED_AT]
        assert known[0]["client"] == parsed["client"]  # the first connection's
        assert known[1]["client"] == second.getsockname()[:2]  # the second's own


def test_two_requests_in_one_read_are_answered_in_order_and_not_kept(served: Served) -> None:
    with served.connect() as sock:
        sock.sendall(REQUEST + REQUEST)
        assert read_answers(sock, 2) == [b"hit", b"hit"]
        assert len(served.protocol.known) == 0


def test_a_request_in_pieces_is_not_kept(served: Served) -> None:
    with served.connect() as sock:
        sock.sendall(REQUEST[:20])
        poll(lambda: served.protocol.begun == 1)  # the first piece was read on its own
        sock.sendall(REQUEST[20:])
        assert read_answers(sock, 1) == [b"hit"]
        assert len(served.protocol.known) == 0


def test_a_known_request_that_is_no_longer_a_hit_goes_the_asgi_way(served: Served) -> None:
    with served.connect() as sock:
        sock.sendall(REQUEST)
        assert read_answers(sock, 1) == [b"hit"]
        served.hits.hitting = False
        sock.sendall(REQUEST)
        assert read_answers(sock, 1) == [b"miss"]
        assert served.protocol.begun == 2  # parsed again, for the ASGI way


def test_a_known_request_behind_an_unanswered_one_waits_its_turn(served: Served) -> None:
    with served.connect() as sock:
        sock.sendall(REQUEST)
        assert read_answers(sock, 1) == [b"hit"]
        sock.sendall(SLOW)
        poll(lambda: served.protocol.begun == 2)  # /slow is read, and waits
        sock.sendall(REQUEST)
        poll(lambda: served.protocol.begun == 3)  # parsed: a request is unanswered
        served.loop.call_soon_threadsafe(served.release.set)
        assert read_answers(sock, 2) == [b"slow", b"hit"]


def test_a_known_request_that_ends_its_connection_still_does(served: Served) -> None:
    for _ in range(2):  # parsed, then known
        with served.connect() as sock:
            sock.sendall(CLOSING)
            assert read_answers(sock, 1) == [b"hit"]
            assert sock.recv(1) == b""  # closed by the server
    assert served.protocol.begun == 1
    assert len(served.protocol.known) == 1
