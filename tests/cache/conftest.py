"""Fixtures for the cache tests: a manual clock, controllable loaders, L1-only or L1+L2."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from marketcache.cache import Backend, BackendEntry, Cache, Freshness, Loaded, MemoryBackend
from marketcache.clock import ManualClock
from marketcache.errors import ExchangeUnavailable

FR = Freshness(fresh=2.0, stale=10.0)


class Gate:
    """A loader that counts its calls, can be held open, and can be told to fail."""

    def __init__(self, value: bytes = b"value", *, hold: bool = False) -> None:
        self.value = value
        self.calls = 0
        self.released = asyncio.Event()
        if not hold:
            self.released.set()
        self.fail_with: BaseException | None = None
        self.freshness: Freshness | None = None  # return Loaded with this when set

    def hold(self) -> None:
        self.released.clear()

    def release(self) -> None:
        self.released.set()

    async def __call__(self) -> bytes | Loaded:
        self.calls += 1
        await self.released.wait()
        if self.fail_with is not None:
            raise self.fail_with
        value = self.value + b"#%d" % self.calls
        if self.freshness is not None:
            return Loaded(value, self.freshness)
        return value


class BrokenBackend:
    """A backend that is down: every call raises (as a Redis backend would when unreachable)."""

    def __init__(self) -> None:
        self.calls = 0

    def _fail(self) -> Any:
        self.calls += 1
        raise ConnectionError("backend down")

    async def get(self, key: str) -> Any:
        return self._fail()

    async def set(self, key: str, entry: BackendEntry, ttl: float) -> None:
        self._fail()

    async def delete(self, key: str) -> bool:
        return bool(self._fail())

    async def delete_prefix(self, prefix: str) -> int:
        return int(self._fail())

    async def clear(self) -> int:
        return int(self._fail())

    async def ttl(self, key: str) -> Any:
        return self._fail()


def upstream_down() -> ExchangeUnavailable:
    return ExchangeUnavailable("exchange down")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(params=["l1", "l1+l2"])
def backend(request: pytest.FixtureRequest, clock: ManualClock) -> Backend | None:
    """Every contract test runs on L1 alone and on L1 with an (in-memory) L2."""
    return None if request.param == "l1" else MemoryBackend(clock)


MakeCache = Callable[..., Cache]


@pytest.fixture
async def make_cache(clock: ManualClock, backend: Backend | None) -> AsyncIterator[MakeCache]:
    """Build caches on the manual clock and the parametrized backend; stopped at teardown."""
    made: list[Cache] = []

    def make(**options: Any) -> Cache:
        options.setdefault("max_bytes", 1_000_000)
        options.setdefault("refresh_ahead", False)
        options.setdefault("backend", backend)
        cache = Cache(clock=clock, **options)
        made.append(cache)
        return cache

    yield make
    for cache in made:
        await cache.stop()
