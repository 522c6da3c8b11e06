"""Hits answered by the server's protocol (no ASGI cycle), on the real process.

They must be framed as uvicorn frames the ASGI path's answers, keep the order of
pipelined requests, honour `Connection: close` and HTTP/1.0, and be counted.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

import httpx
import orjson
import pytest

from marketcache.commands.service_process import ServiceProcess

pytestmark = pytest.mark.e2e

BODY = b'{"symbol": "BTC/USDT"}'


@pytest.fixture(scope="module")
def service() -> Iterator[ServiceProcess]:
    # a price stays a hit for the whole module: fresh 60 s
    env = {"LOG_LEVEL": "warning", "TICKER_FRESH_S": "60"}
    with ServiceProcess(("--offline",), env=env) as process:
        assert httpx.post(f"{process.url}/price", content=BODY).status_code == 200
        yield process


def post(body: bytes = BODY, *, version: bytes = b"1.1", extra: bytes = b"") -> bytes:
    """A POST /price request's bytes."""
    return (
        b"POST /price HTTP/" + version + b"\r\nHost: localhost\r\n"
        b"Content-Type: application/json\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n"
        + extra
        + b"\r\n"
        + body
    )


def exchange(service: ServiceProcess, data: bytes, answers: int) -> tuple[list[Response], bool]:
    """Send `data` at once; read `answers` responses; and whether the server then closed."""
    with socket.create_connection((service.host, service.port), timeout=30) as sock:
        sock.sendall(data)
        buffer = b""
        responses: list[Response] = []
        while len(responses) < answers:
            response, buffer = Response.parse(buffer)
            if response is None:
                chunk = sock.recv(65536)
                assert chunk, f"closed after {len(responses)} answers"
                buffer += chunk
            else:
                responses.append(response)
        sock.settimeout(0.5)
        try:
            closed = sock.recv(1) == b""
        except TimeoutError:
            closed = False
        return responses, closed


class Response:
    """One HTTP/1.1 response: status, headers (names lower-cased, in order), body."""

    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    @classmethod
    def parse(cls, buffer: bytes) -> tuple[Response | None, bytes]:
        """The first whole response in `buffer` and what follows it, or (None, buffer)."""
        head, sep, rest = buffer.partition(b"\r\n\r\n")
        if not sep:
            return None, buffer
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = [(n.lower(), v) for n, _, v in (line.partition(": ") for line in lines[1:])]
        length = int(dict(headers).get("content-length", "0"))
        if len(rest) < length:
            return None, buffer
        return cls(status, headers, rest[:length]), rest[length:]

    def names(self) -> list[str]:
        return [name for name, _ in self.headers]

    def data(self) -> object:
        return orjson.loads(self.body)["data"]


def test_a_hit_is_framed_as_the_asgi_path_frames_it(service: ServiceProcess) -> None:
    """`Expect: 100-continue` goes the ASGI way: the same status, headers and data."""
    (direct,), _ = exchange(service, post(), 1)
    (interim, through_asgi), _ = exchange(service, post(extra=b"Expect: 100-continue\r\n"), 2)
    assert interim.status == 100
    assert direct.status == through_asgi.status == 200
    assert direct.names() == through_asgi.names()
    assert dict(direct.headers)["x-cache"] == dict(through_asgi.headers)["x-cache"] == "hit"
    assert dict(direct.headers)["server"] == "uvicorn"
    assert direct.data() == through_asgi.data()


def test_pipelined_requests_are_answered_in_order(service: ServiceProcess) -> None:
    bad = b'{"symbol": "BTC/USDT", "nope": 1}'  # the full path's 422
    responses, closed = exchange(service, post() + post(bad) + post() + post(b"{"), 4)
    assert [r.status for r in responses] == [200, 422, 200, 400]
    assert [dict(r.headers).get("x-cache") for r in responses] == ["hit", None, "hit", None]
    assert b'"nope"' in responses[1].body
    assert not closed


@pytest.mark.parametrize(
    ("version", "extra"),
    [(b"1.1", b"Connection: close\r\n"), (b"1.0", b"")],
    ids=["connection-close", "http-1.0"],
)
def test_a_hit_that_ends_the_connection_says_so_and_closes(
    service: ServiceProcess, version: bytes, extra: bytes
) -> None:
    for _ in range(2):  # parsed, then known by its bytes
        (response,), closed = exchange(service, post(version=version, extra=extra), 1)
        assert response.status == 200
        assert dict(response.headers)["x-cache"] == "hit"
        assert dict(response.headers)["connection"] == "close"
        assert closed


def counted_hits(service: ServiceProcess) -> float:
    """The service's count of POST /price hits (/metrics)."""
    text = httpx.get(f"{service.url}/metrics").text
    labels = 'cache="hit",endpoint="/price",method="POST",status="200"'
    pattern = r"marketcache_requests_total\{" + labels + r"\} (\S+)"
    found = re.search(pattern, text)
    return float(found[1]) if found else 0.0


def test_every_hit_is_counted(service: ServiceProcess) -> None:
    before = counted_hits(service)
    responses, _ = exchange(service, post() * 25, 25)
    assert {r.status for r in responses} == {200}
    assert counted_hits(service) == before + 25


def test_a_request_seen_before_is_answered_and_counted_as_the_first(
    service: ServiceProcess,
) -> None:
    """The same bytes again skip the parser (commands/known_requests.py): nothing else differs."""
    body = b'{"symbol": "btc/usdt"}'  # bytes no other test sends
    (first,), _ = exchange(service, post(body), 1)
    before = counted_hits(service)
    again = [exchange(service, post(body), 1)[0][0] for _ in range(3)]
    for response in again:
        assert response.status == first.status == 200
        assert response.names() == first.names()
        assert dict(response.headers)["x-cache"] == "hit"
        assert response.data() == first.data()
    assert counted_hits(service) == before + 3
