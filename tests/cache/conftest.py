"""Fixtures for the cache tests: a manual clock, controllable loaders, L1-only or L1+L2.

L2 is in memory (`MemoryBackend`) or a real Redis: REDIS_URL when set (each test
under a prefix of its own, cleaned up after), else a redis-server started for
the session on a free port. The contract tests run on all three.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from marketcache.cache import (
    Backend,
    BackendEntry,
    Cache,
    CacheOptions,
    Freshness,
    Loaded,
    MemoryBackend,
)
from marketcache.cache.redis import RedisBackend
from marketcache.clock import ManualClock
from marketcache.clock import settle as settle_loop
from marketcache.errors import ExchangeUnavailable

from .redis_server import RedisServer, unique_prefix

REDIS_MODULES = {"test_contract", "test_redis"}  # the tests that also run on a real Redis
_live_redis: list[RedisBackend] = []  # the Redis backends of the running test

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

    async def incr(self, name: str, amount: int, ttl: float) -> int:
        return int(self._fail())


def upstream_down() -> ExchangeUnavailable:
    return ExchangeUnavailable("exchange down")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


async def settle() -> None:
    """Let ready tasks run and, with a real Redis, every command in progress finish."""
    await settle_loop()
    for _ in range(5000):  # a few seconds at most
        if all(b.busy == 0 for b in _live_redis):
            await settle_loop()
            if all(b.busy == 0 for b in _live_redis):
                return
        await asyncio.sleep(0.001)
    raise AssertionError("redis commands still running after 5 s")


async def backend_len(backend: object) -> int:
    """How many entries `backend` holds (MemoryBackend or RedisBackend)."""
    if isinstance(backend, RedisBackend):
        await settle()
        return await backend.count_entries()
    return len(backend)  # type: ignore[arg-type]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """L1 alone and L1 + in-memory L2 everywhere; L1 + Redis for the REDIS_MODULES too."""
    if "backend" in metafunc.fixturenames:
        kinds = ["l1", "l1+l2"]
        if metafunc.module.__name__.rsplit(".", 1)[-1] in REDIS_MODULES:
            kinds.append("l1+redis")
        metafunc.parametrize("backend", kinds, indirect=True)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """REDIS_URL, or a redis-server of our own on a free port for the session."""
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    if not RedisServer.available():
        pytest.skip("no redis-server (scripts/ensure-redis.sh installs it) and no REDIS_URL")
    server = RedisServer().start()
    try:
        yield server.url
    finally:
        server.close()


@pytest.fixture
async def make_redis(redis_url: str) -> AsyncIterator[Callable[..., RedisBackend]]:
    """Redis backends under one test-owned prefix; their keys are dropped afterwards."""
    prefix = unique_prefix()
    made: list[RedisBackend] = []

    def make(**options: Any) -> RedisBackend:
        options.setdefault("prefix", prefix)
        options.setdefault("timeout", 2.0)  # generous: a loaded machine must not degrade
        made_backend = RedisBackend(options.pop("url", redis_url), **options)
        made.append(made_backend)
        _live_redis.append(made_backend)
        return made_backend

    yield make
    for made_backend in made:
        _live_redis.remove(made_backend)
    if made:
        try:
            await made[0].drop_namespace()  # never the rest of a shared server
        finally:
            for made_backend in made:
                await made_backend.aclose()


@pytest.fixture
def backend(
    request: pytest.FixtureRequest, clock: ManualClock, make_redis: Callable[..., RedisBackend]
) -> Backend | None:
    """L1 alone, L1 with an in-memory L2, or L1 with Redis (see pytest_generate_tests)."""
    if request.param == "l1":
        return None
    if request.param == "l1+l2":
        return MemoryBackend(clock)
    return make_redis()


MakeCache = Callable[..., Cache]
INJECTED = frozenset(("clock", "backend", "admit", "on_load_error", "on_backend_error"))


def cache_with(**arguments: Any) -> Cache:
    """`Cache(CacheOptions(...), clock=..., ...)` from one set of keywords: options and
    injected objects (INJECTED) together, as the tests like to write them."""
    injected = {name: arguments.pop(name) for name in INJECTED if name in arguments}
    return Cache(CacheOptions(**arguments), **injected)


@pytest.fixture
async def make_cache(clock: ManualClock, backend: Backend | None) -> AsyncIterator[MakeCache]:
    """Build caches on the manual clock and the parametrized backend; stopped at teardown."""
    made: list[Cache] = []

    def make(**options: Any) -> Cache:
        options.setdefault("max_bytes", 1_000_000)
        options.setdefault("refresh_ahead", False)
        options.setdefault("backend", backend)
        cache = cache_with(clock=clock, **options)
        made.append(cache)
        return cache

    yield make
    for cache in made:
        await cache.stop()
