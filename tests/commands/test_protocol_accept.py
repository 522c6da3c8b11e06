"""Connections waiting in the listen queue are accepted with the next one uvloop accepts.

libuv accepts one connection per turn of the event loop; under load a turn answers
hundreds of requests, and a burst of connections waited seconds to be accepted.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import pytest

from marketcache.commands.protocol import GuardedHttpTools
from tests.commands.guarded import protocol_factory


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A bare ASGI app (never called here)."""


def guarded(listener: socket.socket | None) -> Callable[[], GuardedHttpTools]:
    """A factory of our protocol (accepting from `listener`), all sharing one server state."""
    return protocol_factory(app, listener=listener)


def listening() -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.setblocking(False)
    return listener


async def test_one_accepted_connection_accepts_all_that_wait() -> None:
    listener = listening()
    clients = [socket.create_connection(listener.getsockname()) for _ in range(6)]
    try:
        factory = guarded(listener)
        first, _ = listener.accept()  # what uvloop's own accept did
        _, protocol = await asyncio.get_running_loop().connect_accepted_socket(factory, first)
        state = protocol.server_state
        with pytest.raises(BlockingIOError):
            listener.accept()  # connection_made accepted everything that waited
        for _ in range(200):  # ... whose protocols start in tasks of their own
            if len(state.connections) == len(clients):
                break
            await asyncio.sleep(0.01)
        assert len(state.connections) == len(clients)
        for protocol in list(state.connections):
            protocol.transport.close()
    finally:
        for client in clients:
            client.close()
        listener.close()


async def test_without_a_listener_nothing_else_is_accepted() -> None:
    listener = listening()
    clients = [socket.create_connection(listener.getsockname()) for _ in range(3)]
    try:
        first, _ = listener.accept()
        _, protocol = await asyncio.get_running_loop().connect_accepted_socket(guarded(None), first)
        state = protocol.server_state
        assert len(state.connections) == 1  # connection_made has run: it accepted nothing
        waiting = [listener.accept()[0] for _ in range(2)]  # still in the queue
        for connection in waiting:
            connection.close()
        for protocol in list(state.connections):
            protocol.transport.close()
    finally:
        for client in clients:
            client.close()
        listener.close()
