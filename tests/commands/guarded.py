"""Our HTTP protocol outside `marketcache serve`: its factory, and a loop serving it in a thread."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn
from uvicorn.server import ServerState

from marketcache.api.fastpath import HitFastPath
from marketcache.commands.protocol import GuardedHttpTools


def protocol_factory(
    app: Any,
    *,
    listener: socket.socket | None = None,
    hits: HitFastPath | None = None,
    tick_s: float | None = None,
) -> Callable[[], GuardedHttpTools]:
    """A factory of our protocol serving `app`, all its connections sharing one server state."""
    config = uvicorn.Config(app, log_config=None, lifespan="off")
    config.load()
    protocol_class = GuardedHttpTools.configured(
        read_timeout_s=30,
        max_per_client=100,
        max_connections=100,
        exempt=frozenset(),
        hits=hits,
        listener=listener,
        tick_s=tick_s,
    )
    state = ServerState()
    return lambda: protocol_class(config=config, server_state=state, app_state={})


@contextlib.contextmanager
def served_in_thread(
    factory: Callable[[], GuardedHttpTools], loop: asyncio.AbstractEventLoop
) -> Iterator[tuple[str, int]]:
    """`factory`'s protocol on a loopback port, `loop` running in a thread; the address."""
    listener = socket.create_server(("127.0.0.1", 0))
    server = loop.run_until_complete(loop.create_server(factory, sock=listener))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[:2]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()
