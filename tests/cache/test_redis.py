"""Redis as L2: the stored format, namespaces, errors translated, down/slow/restarted Redis."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import pytest

from marketcache.cache import MISSING, BackendEntry, Cache, CacheOptions
from marketcache.cache.redis import FORMAT, RedisBackend, decode_entry, encode_entry
from marketcache.clock import SystemClock
from marketcache.errors import BackendUnavailable

from .conftest import FR, Gate
from .redis_server import RedisServer


def test_entries_round_trip_and_other_formats_are_not_read() -> None:
    entry = BackendEntry(b"\x00bytes\xff", 1.5, 3.25, 10.0)
    blob = encode_entry(entry)
    assert decode_entry(blob) == entry
    assert decode_entry(bytes([FORMAT + 1]) + blob[1:]) is None  # another format version
    assert decode_entry(b"") is None


async def test_values_carry_their_windows_and_expire_with_the_stale_window(
    make_redis: Callable[..., RedisBackend],
) -> None:
    backend = make_redis()
    entry = BackendEntry(b"v", 100.0, 102.0, 112.0)
    await backend.set("ohlcv:binance:BTC/USDT:1m", entry, 1.0)
    assert await backend.get("ohlcv:binance:BTC/USDT:1m") == entry
    ttl = await backend.ttl("ohlcv:binance:BTC/USDT:1m")
    assert isinstance(ttl, float)
    assert 0 < ttl <= 1.0
    deadline = asyncio.get_running_loop().time() + 30
    while await backend.get("ohlcv:binance:BTC/USDT:1m") is not MISSING:  # Redis expires it
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.05)


async def test_prefixes_keep_deployments_apart(
    make_redis: Callable[..., RedisBackend],
) -> None:
    ours, theirs = make_redis(), make_redis(prefix=make_redis().namespace.split(":")[0] + "-x")
    entry = BackendEntry(b"v", 1.0, 2.0, 3.0)
    await ours.set("a*[1]", entry, 30)  # glob characters in keys are literal
    await ours.set("a2", entry, 30)
    await theirs.set("a*[1]", entry, 30)
    assert await ours.delete_prefix("a*[") == 1
    assert await ours.get("a2") == entry
    assert await theirs.get("a*[1]") == entry
    assert await ours.clear() == 1
    assert await theirs.count_entries() == 1
    await theirs.drop_namespace()


async def test_a_slow_redis_is_a_backend_error_within_the_timeout(
    own_redis: RedisServer, make_redis: Callable[..., RedisBackend]
) -> None:
    backend = make_redis(url=own_redis.url, timeout=0.05)
    admin = make_redis(url=own_redis.url)
    await backend.set("k", BackendEntry(b"v", 1.0, 2.0, 3.0), 30)
    await admin._client.execute_command("CLIENT", "PAUSE", "2000", "ALL")
    started = asyncio.get_running_loop().time()
    with pytest.raises(BackendUnavailable):
        await backend.get("k")
    assert asyncio.get_running_loop().time() - started < 1.0  # not the pause's 2 s
    assert await _answered(backend, "k")  # answers again once unpaused


async def _answered(backend: RedisBackend, key: str, within_s: float = 30.0) -> bool:
    """Whether `key` is read back before `within_s` (each try fails fast while paused)."""
    deadline = asyncio.get_running_loop().time() + within_s
    while asyncio.get_running_loop().time() < deadline:
        with contextlib.suppress(BackendUnavailable):
            if await backend.get(key) != MISSING:
                return True
        await asyncio.sleep(0.05)
    return False


@pytest.fixture
async def own_redis() -> AsyncIterator[RedisServer]:
    """A redis-server this test may pause, kill and restart (never the shared one)."""
    if not RedisServer.available():
        pytest.skip("no redis-server binary")
    server = RedisServer().start()
    yield server
    server.close()


async def test_redis_down_degrades_to_l1_and_l2_resumes_when_it_returns(
    own_redis: RedisServer, make_redis: Callable[..., RedisBackend]
) -> None:
    clock = SystemClock()
    backend = make_redis(url=own_redis.url, timeout=0.2, reconnect_max=0.2)
    reported: list[str] = []
    cache = Cache(
        CacheOptions(
            max_bytes=100_000, refresh_ahead=False, backend_retry=0.1, backend_retry_max=0.2
        ),
        clock=clock,
        backend=backend,
        on_backend_error=lambda op, exc: reported.append(op),
    )
    await cache.start()
    try:
        await wait_for(lambda: cache.backend_state()["channel"] is True)
        gate = Gate()
        assert (await cache.get_or_load("before", gate, FR)).status == "miss"
        await wait_for(lambda: backend.busy == 0)
        assert await backend.count_entries() == 1

        own_redis.stop()
        await wait_for(lambda: not cache.stats.backend_available)  # seen by the subscriber
        assert cache.backend_state()["state"] in ("down", "retrying")
        for i in range(5):  # loads go on with L1 alone, no error reaches the caller
            assert (await cache.get_or_load(f"during:{i}", gate, FR)).status == "miss"
        assert (await cache.get_or_load("before", gate, FR)).status == "hit"
        assert reported

        own_redis.start()  # restarted, empty
        await wait_for(lambda: cache.stats.backend_available)
        assert (await cache.get_or_load("after", gate, FR)).status == "miss"
        await wait_for(lambda: backend.busy == 0)
        await wait_for_async(lambda: backend.count_entries(), 1)
        assert cache.backend_state()["state"] == "up"
    finally:
        await cache.stop()


async def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Poll `condition` in real time (the subscriber reconnects on its own schedule)."""
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never held")


async def wait_for_async(probe: Callable[[], object], expected: object) -> None:
    """Poll an async probe until it returns `expected`."""
    for _ in range(1000):
        if await probe() == expected:  # type: ignore[misc]
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never got {expected!r}")
