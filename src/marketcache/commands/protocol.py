"""uvicorn's httptools protocol with the guards a public service needs.

- **Read timeout**: a request must arrive whole within HTTP_READ_TIMEOUT_S of
  the connection opening (or of its first byte, on a kept-alive connection);
  a client that trickles headers or a body (slowloris) gets a 408 and is cut off.
- **Connections per client address**: past MAX_CONNECTIONS_PER_CLIENT (the
  addresses of TRUSTED_PROXIES excepted) a new connection gets a 503 with
  `Retry-After` and is closed; past MAX_CONNECTIONS in all, likewise.
- **When a request arrived**: the moment its first byte was parsed goes into the
  scope (`extensions["marketcache.received_at"]`, `time.perf_counter()`), so the
  recorded latency includes the time a request waited behind others before the
  app ran it.
- **WebSockets**: an upgraded connection leaves the HTTP guards (its read timer is
  stopped, it no longer counts per address: subscriptions count their own
  connections) for `GuardedWebSockets`, which, like every HTTP request, puts the
  connection's `abort` in the scope (`extensions["marketcache.abort"]`), so a
  subscriber too slow to take even a close frame can be dropped.
- **Event streams at shutdown**: a response that never ends (Server-Sent Events) is
  told to end (the event it put at `extensions["marketcache.stream_ending"]`), so a
  shutdown does not wait out its graceful timeout for it.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any, ClassVar

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request

from marketcache.api.observe import ABORT, RECEIVED_AT, STREAM_ENDING


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


class GuardedHttpTools(HttpToolsProtocol):
    """HttpToolsProtocol plus a read timeout, connection limits and the arrival time."""

    read_timeout_s: ClassVar[float] = 10.0
    max_per_client: ClassVar[int] = 1024
    max_connections: ClassVar[int] = 4096
    exempt: ClassVar[frozenset[str]] = frozenset()
    per_client: ClassVar[Counter[str]] = Counter()

    @classmethod
    def configured(
        cls,
        *,
        read_timeout_s: float,
        max_per_client: int,
        max_connections: int,
        exempt: frozenset[str],
    ) -> type[GuardedHttpTools]:
        """A subclass with these limits and a connection count of its own."""
        attributes: dict[str, Any] = {
            "read_timeout_s": read_timeout_s,
            "max_per_client": max_per_client,
            "max_connections": max_connections,
            "exempt": exempt,
            "per_client": Counter(),
        }
        return type("GuardedHttpTools", (cls,), attributes)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._host = self.client[0] if self.client else ""
        self._reading: asyncio.TimerHandle | None = None
        self.per_client[self._host] += 1
        exempt = self._host in self.exempt or "*" in self.exempt
        over_client = not exempt and self.per_client[self._host] > self.max_per_client
        if over_client or len(self.connections) > self.max_connections:
            self._refuse(TOO_MANY)
            return
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self._release()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        extensions: dict[str, Any] = {RECEIVED_AT: time.perf_counter(), ABORT: self.transport.abort}
        self.scope["extensions"] = extensions
        if self._reading is None:
            self._arm()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def shutdown(self) -> None:
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            extensions: dict[str, Any] = cycle.scope.get("extensions") or {}
            ending: asyncio.Event | None = extensions.get(STREAM_ENDING)
            if ending is not None:
                ending.set()
        super().shutdown()

    def handle_websocket_upgrade(self) -> None:
        self._disarm()  # the WebSocket lives as long as it is used; no read deadline
        self._release()  # counted by the subscriptions from now on
        super().handle_websocket_upgrade()

    def _release(self) -> None:
        left = self.per_client[self._host] - 1
        if left > 0:
            self.per_client[self._host] = left
        else:
            self.per_client.pop(self._host, None)

    def _arm(self) -> None:
        self._reading = self.loop.call_later(self.read_timeout_s, self._too_slow)

    def _disarm(self) -> None:
        if self._reading is not None:
            self._reading.cancel()
            self._reading = None

    def _too_slow(self) -> None:
        self._reading = None
        self._refuse(TOO_SLOW)

    def _refuse(self, response: bytes) -> None:
        if not self.transport.is_closing():
            self.transport.write(response)
            self.transport.close()


class GuardedWebSockets(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol, with the connection's `abort` in the scope."""

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)  # none when the handshake was refused
        if scope is not None:
            scope["extensions"][ABORT] = self.transport.abort
