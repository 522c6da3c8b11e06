"""The server's guards on the real process: read timeout, connection caps, queue time."""

from __future__ import annotations

import os
import re
import signal
import socket
import time
from collections.abc import Iterator

import httpx
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


def _price_request() -> bytes:
    body = b'{"symbol": "BTC/USDT"}'
    head = "POST /price HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
    return f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body


def _answer(sock: socket.socket) -> bytes:
    """One whole answer (headers and a body of its content-length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(b":")[
            1
        ]
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head


def test_time_unread_in_the_kernel_is_in_every_latency_figure() -> None:
    """Requests sent while the server is stopped wait unread; all three figures hold that."""
    held_s, held = 0.3, 5  # five, so that they are the top 1 % of up to 500 requests
    env = {"LOG_LEVEL": "info", "LOG_FORMAT": "text"}
    with ServiceProcess(("--offline",), env=env) as served:
        socks = [_connect(served) for _ in range(held)]
        try:
            for sock in socks:
                sock.sendall(_price_request())
                assert _answer(sock).startswith(b"HTTP/1.1 200")  # the next ones are hits
            os.kill(served.pid, signal.SIGSTOP)
            try:
                sent = time.monotonic()
                for sock in socks:
                    sock.sendall(_price_request())  # into the kernel's buffer, unread
                while time.monotonic() - sent < held_s:  # the server stays stopped this long
                    time.sleep(0.01)
            finally:
                os.kill(served.pid, signal.SIGCONT)
            for sock in socks:
                assert _answer(sock).startswith(b"HTTP/1.1 200")
        finally:
            for sock in socks:
                sock.close()
        summary = httpx.get(served.url + "/cache/performance").json()["data"]["summary"]
        metrics = httpx.get(served.url + "/metrics").text
        deadline = time.monotonic() + 30  # the request log is written off the request path
        logged: list[float] = []
        while time.monotonic() < deadline and len(logged) < 2 * held:
            logged = [
                float(ms) for ms in re.findall(r"POST /price 200 \S+ ([0-9.]+)ms", served.log())
            ]
            time.sleep(0.05)
    least_ms = (held_s - 0.05) * 1000  # less a kernel tick (at most 10 ms) and then some
    assert len(logged) == 2 * held, logged
    assert min(logged[held:]) >= least_ms, logged  # the requests held unread
    sums = re.findall(
        r'request_duration_seconds_sum\{cache="\w+",endpoint="/price"\} (\S+)', metrics
    )
    assert sum(float(s) for s in sums) * 1000 >= held * least_ms, sums
    assert summary["p99_ms"] >= least_ms, summary
