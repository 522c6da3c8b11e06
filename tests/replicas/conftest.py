"""Fixtures for replica tests: real `marketcache serve` processes sharing one Redis and one
emulator. Every Redis here is a redis-server the test starts (and may kill) on a free port."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from marketcache.commands.service_process import ServiceProcess
from marketcache.emulator.process import EmulatorProcess
from tests.cache.redis_server import RedisServer, unique_prefix

StartReplicas = Callable[..., list[ServiceProcess]]


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A redis-server of this test's own (stoppable) on a free port."""
    if not RedisServer.available():
        pytest.skip("no redis-server (scripts/ensure-redis.sh installs it)")
    server = RedisServer().start()
    yield server
    server.close()


@pytest.fixture
def emulator() -> Iterator[EmulatorProcess]:
    """The exchange emulator with Binance-like latency (150 ms per request)."""
    with EmulatorProcess(latency_ms=150, die_with_parent=True) as running:
        yield running


@pytest.fixture
def start_replicas(redis_server: RedisServer, emulator: EmulatorProcess) -> Iterator[StartReplicas]:
    """Start `n` replicas (in parallel) on the shared Redis and emulator; stopped afterwards."""
    started: list[ServiceProcess] = []
    prefix = unique_prefix()

    def start(n: int, env: Mapping[str, str] | None = None) -> list[ServiceProcess]:
        settings = {
            "REDIS_URL": redis_server.url,
            "REDIS_PREFIX": prefix,
            "REDIS_RETRY_S": "0.2",
            "REDIS_RETRY_MAX_S": "1",
            "LOG_LEVEL": "warning",
            **(env or {}),
        }
        replicas = [
            ServiceProcess(["--exchange-url", emulator.url], env=settings) for _ in range(n)
        ]
        started.extend(replicas)
        with ThreadPoolExecutor(n) as pool:
            list(pool.map(lambda replica: replica.start(), replicas))
        return replicas

    yield start
    for replica in started:
        replica.stop()


def emulator_requests(emulator: EmulatorProcess, path: str = "/api/v3/klines") -> int:
    """How many requests the emulator answered on `path`."""
    stats = httpx.get(f"{emulator.url}/_emulator/stats", timeout=5).json()
    return int(stats["requests"].get(path, 0))
