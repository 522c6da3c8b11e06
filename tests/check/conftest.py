"""Fixtures for the deployment-suite tests: the fake service on a free loopback port."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import pytest
import uvicorn

from marketcache.netutil import free_port
from tests.check.fake_service import FakeState, create_app


@contextmanager
def running_fake(state: FakeState) -> Iterator[str]:
    """Serve the fake service in a thread; yield its base URL; stop it afterwards."""
    port = free_port()
    config = uvicorn.Config(
        create_app(state),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fake service did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def fake_service() -> Iterator[Callable[[str], str]]:
    """Start fake services by mode; each is stopped at the end of the test."""
    with ExitStack() as stack:

        def start(mode: str = "good") -> str:
            return stack.enter_context(running_fake(FakeState(mode=mode)))

        yield start
