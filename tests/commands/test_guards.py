"""The server's guards on the real process: read timeout, connection caps, queue time."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from marketcache.commands.service_process import ServiceProcess

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def guarded() -> Iterator[ServiceProcess]:
    env = {"HTTP_READ_TIMEOUT_S": "1", "MAX_CONNECTIONS_PER_CLIENT": "8", "LOG_LEVEL": "warning"}
    with ServiceProcess(("--offline",), env=env) as process:
        yield process


def _connect(service: ServiceProcess) -> socket.socket:
    sock = socket.create_connection((service.host, service.port), timeout=30)
    return sock


def _read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (bounded by the socket's timeout)."""
    chunks = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


@pytest.mark.parametrize(
    "partial",
    [
        b"POST /price HTTP/1.1\r\nHost: localhost\r\nX-Slow: ",  # headers never end
        b"POST /price HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"symbol": ',  # the body never ends
        b"",  # nothing at all
    ],
    ids=["headers", "body", "silent"],
)
def test_a_slow_client_is_cut_off(guarded: ServiceProcess, partial: bytes) -> None:
    with _connect(guarded) as sock:
        sock.sendall(partial)
        answer = _read_until_closed(sock)  # the server closes: recv returns b""
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b'"request_timeout"' in answer


def test_connections_per_client_are_capped(guarded: ServiceProcess) -> None:
    held = [_connect(guarded) for _ in range(8)]
    try:
        for sock in held:  # a whole request each, so the read timeout does not end them
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        with _connect(guarded) as extra:
            answer = _read_until_closed(extra)
        assert answer.startswith(b"HTTP/1.1 503"), answer
        assert b"retry-after: 1" in answer.lower()
        assert b'"too_many_connections"' in answer
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 30  # the count goes down as they close
    while time.monotonic() < deadline:
        with _connect(guarded) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            if _read_until_closed(sock).startswith(b"HTTP/1.1 200"):
                return
        time.sleep(0.05)
    raise AssertionError("connections were not released")


def test_an_idle_kept_alive_connection_is_closed(guarded: ServiceProcess) -> None:
    """uvicorn's keep-alive timeout (5 s) still holds: the sweep closes the idle connection."""
    with _connect(guarded) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        started = time.monotonic()
        answer = _read_until_closed(sock)  # an answer, then the close
        idle_s = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 200"), answer
    assert b"connection: close" not in answer.lower()
    assert idle_s >= 4.0, idle_s  # not before the keep-alive timeout
