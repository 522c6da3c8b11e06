"""In-process API fixtures: the real app over a fake exchange and a manual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from marketcache.api.app import create_app
from marketcache.clock import ManualClock
from marketcache.config import Settings
from marketcache.monitoring import memory
from marketcache.monitoring.memory import MB
from tests.fakes import FakeSource


@dataclass
class Harness:
    """A running app, its HTTP client, its fake exchange and its clock."""

    client: httpx.AsyncClient
    source: FakeSource
    clock: ManualClock
    settings: Settings
    app: FastAPI

    def forget_ping(self) -> None:
        """Make the next health check ping the exchange again (it caches its answer 10 s)."""
        self.app.state.runtime.reachability.reachable = None


HarnessFactory = Callable[..., Awaitable[Harness]]


@pytest.fixture
async def make_harness() -> AsyncIterator[HarnessFactory]:
    """Build an app with settings overrides; everything is torn down after the test."""
    stack: list[Any] = []

    async def make(*, client_host: str = "127.0.0.1", **overrides: Any) -> Harness:
        clock = ManualClock(start=1_764_000_000.0)
        settings = Settings(_env_file=None, **overrides)  # type: ignore[call-arg]
        source = FakeSource(clock)
        app = create_app(settings, source_factory=lambda _s: source, clock=clock)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        stack.append(lifespan)
        transport = httpx.ASGITransport(app=app, client=(client_host, 40000))
        client = httpx.AsyncClient(transport=transport, base_url="http://localhost:8001")
        stack.append(client)
        return Harness(client, source, clock, settings, app)

    yield make
    for item in reversed(stack):
        await item.__aexit__(None, None, None)


@pytest.fixture
async def harness(
    make_harness: HarnessFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Harness:
    """The cached service with default settings, in a roomy container (64 GiB).

    Its memory figures are this test process's, which the suite grows to hundreds of MB:
    against the default 512 MB limit they would say nothing about the service. The
    memory tests set their own limit (tests/api/test_monitoring_alerts.py).
    """
    (tmp_path / "memory.max").write_text(f"{64 * 1024 * MB}\n")
    monkeypatch.setattr(memory, "CGROUP_ROOT", tmp_path)
    return await make_harness()
