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


class ProtocolFactory:
    """Makes our protocol (`protocol_class`) for each connection, all sharing one state."""

    def __init__(self, protocol_class: type[GuardedHttpTools], config: uvicorn.Config) -> None:
        self.protocol_class = protocol_class
        self.config = config
        self.state = ServerState()

    def __call__(self) -> GuardedHttpTools:
        return self.protocol_class(config=self.config, server_state=self.state, app_state={})


def protocol_factory(
    app: Any,
    *,
    listener: socket.socket | None = None,
    hits: HitFastPath | None = None,
    tick_s: float | None = None,
    base: type[GuardedHttpTools] = GuardedHttpTools,
) -> ProtocolFactory:
    """A factory of our protocol (`base`, configured) serving `app`."""
    config = uvicorn.Config(app, log_config=None, lifespan="off")
    config.load()
    protocol_class = base.configured(
        read_timeout_s=30,
        max_per_client=100,
        max_connections=100,
        exempt=frozenset(),
        hits=hits,
        listener=listener,
        tick_s=tick_s,
    )
    return ProtocolFactory(protocol_class, config)


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
