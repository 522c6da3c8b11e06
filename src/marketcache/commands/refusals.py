"""What the guarded protocol says to a connection it refuses, and when it checks deadlines.

- `TOO_SLOW` (408) and `TOO_MANY` (503), whole responses that end the connection, each
  with `Retry-After`.
- `Deadlines`: one sweep for every connection's read and keep-alive deadlines.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson


def _response(status: int, reason: str, code: str, message: str) -> bytes:
    body = orjson.dumps({"success": False, "error": {"code": code, "message": message}})
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nretry-after: 1\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


TOO_SLOW = _response(408, "Request Timeout", "request_timeout", "the request came too slowly")
TOO_MANY = _response(
    503, "Service Unavailable", "too_many_connections", "too many connections; retry shortly"
)


class Deadlines:
    """One timer for the read and keep-alive deadlines of every connection.

    A timer per request (armed when it begins, cancelled when it is whole, and
    uvicorn's keep-alive timer after each answer) cost about 5 µs a request at 256
    connections; a deadline is a float, and a sweep every `SWEEP_S` acts on those
    past. So a deadline holds within `SWEEP_S`.
    """

    SWEEP_S = 0.25

    def __init__(self) -> None:
        self.handle: asyncio.TimerHandle | None = None

    def watch(self, loop: asyncio.AbstractEventLoop, connections: set[Any]) -> None:
        """Make sure a sweep is coming (the protocols call this as they set deadlines)."""
        if self.handle is None:
            self.handle = loop.call_later(self.SWEEP_S, self._sweep, loop, connections)

    def _sweep(self, loop: asyncio.AbstractEventLoop, connections: set[Any]) -> None:
        self.handle = None
        now = loop.time()
        for connection in list(connections):
            past_deadline = getattr(connection, "past_deadline", None)  # HTTP, not WebSocket
            if past_deadline is not None:
                past_deadline(now)
        if connections:
            self.watch(loop, connections)
