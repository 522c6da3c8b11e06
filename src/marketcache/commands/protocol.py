"""uvicorn's httptools protocol with the guards a public service needs.

- **Read timeout**: a request must arrive whole within HTTP_READ_TIMEOUT_S of
  the connection opening (or of its first byte, on a kept-alive connection);
  a client that trickles headers or a body (slowloris) gets a 408 and is cut off.
  This deadline and uvicorn's keep-alive one are checked by one sweep
  (`Deadlines`), not a timer per request.
- **Connections per client address**: past MAX_CONNECTIONS_PER_CLIENT (the
  addresses of TRUSTED_PROXIES excepted) a new connection gets a 503 with
  `Retry-After` and is closed; past MAX_CONNECTIONS in all, likewise.
- **When a request arrived**: the moment its first byte was parsed, less the time
  its bytes surely waited unread in the kernel (`kernel_wait`: the socket's
  receive buffer, or the listen queue), goes into the scope
  (`extensions["marketcache.received_at"]`, `time.perf_counter()`), so the recorded
  latency includes the time a request waited behind others before it was read and
  before the app ran it.
- **Hits without an ASGI cycle**: a request the hit fast path may answer (a market
  path, GET or a small POST) is held until it is whole; if it is a cache hit, its
  answer is written here, as uvicorn would frame it (its default headers,
  `connection: close` when the connection ends), and recorded; else its ASGI task
  starts with the body already read. That skips the task, the cycle's events and the
  ASGI messages a hit would cost (about half of what a hit cost the server). A
  connection whose writes are paused (a client not reading) goes the ASGI way, which
  waits for it. This leans on uvicorn's HttpToolsProtocol internals (`_start_asgi_task`,
  the cycle's fields, `STATUS_LINE`): tests/commands/test_protocol_hits.py holds the
  framing equal to the ASGI path's, so an upgrade that changes them fails there.
- **Requests seen before**: a request that came whole and alone in one read and was a
  hit is remembered by its bytes (`known_requests`); the same bytes on a connection at
  rest (no request begun or unanswered) skip the parser: the scope is made from what
  the first parse made of them. A known request that is no longer a hit is parsed.
- **When a hit's answer left**: uvloop holds what a transport is given until the loop's
  turn ends and then sends every connection's writes at once. Under load a turn answers
  hundreds of requests, so an answer waited up to the rest of that turn in our buffer.
  A hit is therefore recorded when its turn's writes are out (`_record_sent`, the first
  callback of the next turn), not when it was handed to the transport. (Sending each
  answer at once instead cost 20-30 % more CPU a request at 256 connections: smaller
  turns; docs/benchmarks/peers.md.)
- **Accepting**: libuv accepts one connection per turn of the event loop; under load a
  turn answers hundreds of requests, so a burst of new connections waited in the listen
  queue for seconds (at 1,000 connections some never got a turn within wrk's 10 s).
  So whenever a connection is accepted, every connection already waiting in the
  listening socket's queue is accepted too (`listener`, the socket `marketcache serve`
  binds and gives uvicorn).
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
import socket
import time
from collections import Counter
from typing import Any, ClassVar, cast

from starlette.types import Scope
from uvicorn.protocols.http.httptools_impl import (
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request

from marketcache.api.fastpath import ASKED, HitFastPath, header_lines
from marketcache.api.observe import ABORT, RECEIVED_AT, STREAM_ENDING, arrived
from marketcache.commands.kernel_wait import borrow, waited_s
from marketcache.commands.known_requests import Known, KnownRequests
from marketcache.commands.refusals import TOO_MANY, TOO_SLOW, Deadlines

Task = tuple[RequestResponseCycle, Any]  # a cycle and the ASGI app to run it


class GuardedHttpTools(HttpToolsProtocol):
    """HttpToolsProtocol plus a read timeout, connection limits and the arrival time."""

    read_timeout_s: ClassVar[float] = 10.0
    max_per_client: ClassVar[int] = 1024
    max_connections: ClassVar[int] = 4096
    exempt: ClassVar[frozenset[str]] = frozenset()
    per_client: ClassVar[Counter[str]] = Counter()
    hits: ClassVar[HitFastPath | None] = None
    deadlines: ClassVar[Deadlines] = Deadlines()
    listener: ClassVar[socket.socket | None] = None  # whose waiting connections we accept
    tick_s: ClassVar[float | None] = None  # the kernel's tick (kernel_wait); None: not asked
    # hits answered in this turn of the loop, recorded once their answers are sent
    unrecorded: ClassVar[list[tuple[Scope, Any, float]]] = []
    known: ClassVar[KnownRequests] = KnownRequests()  # requests answered as hits, by bytes
    # the server's default headers (date, server) and their header lines, last built
    _default_lines: ClassVar[tuple[object, bytes]] = (None, b"")

    @classmethod
    def configured(
        cls,
        *,
        read_timeout_s: float,
        max_per_client: int,
        max_connections: int,
        exempt: frozenset[str],
        hits: HitFastPath | None = None,
        listener: socket.socket | None = None,
        tick_s: float | None = None,
    ) -> type[GuardedHttpTools]:
        """A subclass with these limits and a connection count of its own."""
        attributes: dict[str, Any] = {
            "read_timeout_s": read_timeout_s,
            "max_per_client": max_per_client,
            "max_connections": max_connections,
            "exempt": exempt,
            "per_client": Counter(),
            "hits": hits,
            "deadlines": Deadlines(),
            "listener": listener,
            "tick_s": tick_s,
            "unrecorded": [],
            "known": KnownRequests(),
        }
        return type("GuardedHttpTools", (cls,), attributes)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._host = self.client[0] if self.client else ""
        self._read_by = 0.0  # loop time the request must be whole by (0: none pending)
        self._idle_by = 0.0  # loop time a kept-alive connection is closed by, if idle
        self._held: Task | None = None  # a request held until whole (a possible hit)
        self._abort = transport.abort  # bound once, not per request
        self._socket = borrow(transport.get_extra_info("socket")) if self.tick_s else None
        self._answered_at = 0.0  # perf_counter of the last answer (0: none yet)
        self._parsing = False  # a request has begun and is not whole yet
        self._begun = 0  # requests begun in the bytes being parsed
        self._learning = False  # the bytes being parsed may become a known request
        self._learned: Known | None = None  # what they parsed to, if a hit
        self._base_scope = {
            "type": "http",
            "asgi": {"version": self.config.asgi_version, "spec_version": "2.3"},
            "server": self.server,
            "client": self.client,
            "scheme": self.scheme,
            "root_path": self.root_path,
        }
        self.per_client[self._host] += 1
        exempt = self._host in self.exempt or "*" in self.exempt
        over_client = not exempt and self.per_client[self._host] > self.max_per_client
        if over_client or len(self.connections) > self.max_connections:
            self._refuse(TOO_MANY)
            return
        self._arm()
        if self.listener is not None:
            self._accept_waiting(self.listener)

    def _accept_waiting(self, listener: socket.socket) -> None:
        """Accept every connection waiting in the listen queue (see the module's notes)."""
        while True:
            try:
                connection, _ = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # out of descriptors, say: the server's own accept deals with it
                return
            connection.setblocking(False)
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.loop.create_task(self.loop.connect_accepted_socket(self._sibling, connection))

    def _sibling(self) -> GuardedHttpTools:
        return type(self)(
            config=self.config, server_state=self.server_state, app_state=self.app_state
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self._let_go_of_socket()
        self._disarm()
        self._release()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        cycle = self.cycle
        at_rest = (
            not self._parsing
            and (cycle is None or cycle.response_complete)
            and not self.pipeline
            and self._held is None
        )
        if at_rest:
            known = self.known.get(data)
            if known is not None and self._answer_known(known):
                return
        self._begun = 0
        self._learning = at_rest and self.hits is not None
        self._learned = None
        try:
            super().data_received(data)
        finally:
            self._learning = False
        self._remember(data)

    def _remember(self, data: bytes) -> None:
        """Keep `data` as a known request if it was one request, whole, and a hit."""
        if self._learned is not None and self._begun == 1:
            self.known.add(data, self._learned)

    def _arrival(self) -> dict[str, Any]:
        """The extensions of a request whose first byte was just read (its arrival)."""
        received_at = time.perf_counter()
        tick_s = self.tick_s
        # bytes sent after our last answer went out less than a tick ago cannot have
        # waited a tick: their kernel bound is 0, and the system call is spared
        if (
            tick_s is not None
            and self._socket is not None
            and received_at - self._answered_at >= tick_s
        ):
            received_at -= waited_s(self._socket, tick_s)
        return {RECEIVED_AT: received_at, ABORT: self._abort}

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._parsing = True
        self._begun += 1
        self.scope["extensions"] = self._arrival()
        if not self._read_by:
            self._arm()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._parsing = False
        self._disarm()
        held, self._held = self._held, None
        if held is not None and held[0] is self.cycle and not self._answer_hit(held[0]):
            super()._start_asgi_task(*held)

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        hits = self.hits
        if (
            hits is not None
            and app is self.app  # not uvicorn's own 503 past --limit-concurrency
            and not self.expect_100_continue
            and hits.wants(cast(Scope, cycle.scope))
        ):
            if cycle.more_body:  # its body is still to come: decide when it is whole
                self._held = (cycle, app)
                return
            if self._answer_hit(cycle):  # a pipelined request, already whole
                return
        super()._start_asgi_task(cycle, app)

    def _answer_hit(self, cycle: RequestResponseCycle) -> bool:
        """Write the answer of a whole request if it is a hit; whether it was."""
        assert self.hits is not None
        if self.flow.write_paused or cycle.disconnected or self.transport.is_closing():
            return False
        scope = cast(Scope, cycle.scope)
        body = bytes(cycle.body)
        hit = self.hits.answer(scope, body)
        if hit is None:
            scope["extensions"][ASKED] = True  # the ASGI way need not look it up again
            return False
        cycle.response_started = cycle.response_complete = True
        if self._learning:
            self._learned = Known.of(scope, body, cycle.keep_alive)
        self._send_hit(scope, hit, cycle.keep_alive)
        return True

    def _answer_known(self, known: Known) -> bool:
        """Answer a known request (its bytes, whole, on a connection at rest) if still a hit."""
        assert self.hits is not None
        if self.flow.write_paused or self.transport.is_closing() or self.limit_concurrency:
            return False
        self._idle_by = 0.0  # as data_received would (no keep-alive timer: see above)
        scope = known.scope(self._base_scope, self.app_state.copy(), self._arrival())
        hit = self.hits.answer(scope, known.body)
        if hit is None:  # no longer a hit: the parser takes the bytes
            return False
        self._disarm()
        self._send_hit(scope, hit, known.keep_alive)
        return True

    def _send_hit(self, scope: Scope, hit: Any, keep_alive: bool) -> None:
        """Write a hit's answer as uvicorn would frame it; record it once it is sent."""
        defaults = self.server_state.default_headers  # a new list each second (its date)
        lines = self._default_lines
        if lines[0] is not defaults:
            lines = type(self)._default_lines = (defaults, header_lines(defaults))
        end = b"\r\n" if keep_alive else b"connection: close\r\n\r\n"
        self.transport.write(
            b"".join((STATUS_LINE[hit.status], lines[1], hit.head, end, hit.content))
        )
        unrecorded = self.unrecorded
        if not unrecorded:  # the first of this turn: record them all once they are sent
            self.loop.call_soon(self._record_sent, unrecorded)
        unrecorded.append((scope, hit, arrived(scope)))
        if not keep_alive:
            self.transport.close()
        self.on_response_complete()

    def _record_sent(self, unrecorded: list[tuple[Scope, Any, float]]) -> None:
        """Record the hits of the last turn, whose answers the loop has sent by now."""
        assert self.hits is not None
        ended = time.perf_counter()
        sent = unrecorded[:]
        unrecorded.clear()
        for scope, hit, started in sent:
            self.hits.record(scope, hit, started, ended)

    def on_response_complete(self) -> None:
        # uvicorn's, except that the keep-alive wait is a deadline the sweep checks (so
        # there is no keep-alive timer to cancel: uvicorn arms it only in its own version)
        self._answered_at = time.perf_counter()
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        flow = self.flow
        if flow.read_paused:
            flow.resume_reading()
        if self.pipeline:
            self._idle_by = 0.0
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        else:
            self._idle_by = self.loop.time() + self.timeout_keep_alive
            self.deadlines.watch(self.loop, self.connections)

    def _unset_keepalive_if_required(self) -> None:
        self._idle_by = 0.0
        super()._unset_keepalive_if_required()

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
        self._let_go_of_socket()
        super().handle_websocket_upgrade()

    def _let_go_of_socket(self) -> None:
        if self._socket is not None:
            self._socket.close()  # lets go of the descriptor: the transport closes it
            self._socket = None

    def _release(self) -> None:
        left = self.per_client[self._host] - 1
        if left > 0:
            self.per_client[self._host] = left
        else:
            self.per_client.pop(self._host, None)

    def _arm(self) -> None:
        self._read_by = self.loop.time() + self.read_timeout_s
        self.deadlines.watch(self.loop, self.connections)

    def _disarm(self) -> None:
        self._read_by = 0.0

    def past_deadline(self, now: float) -> None:
        """Cut a request that came too slowly; close a connection idle too long."""
        if self._read_by and now >= self._read_by:
            self._too_slow()
        elif self._idle_by and now >= self._idle_by and not self.transport.is_closing():
            self.transport.close()

    def _too_slow(self) -> None:
        self._read_by = 0.0
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
