"""Replicas sharing an L2: one load per key across them (leases), fan-out of loads and drops.

Run on in-memory peers (a manual clock: lease expiry is exact) and on a real
Redis (the same behaviour through pub/sub and SET NX PX).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from marketcache.cache import MISSING, Cache, CacheOptions, MemoryBackend
from marketcache.cache.backend import SharedBackend
from marketcache.cache.redis import RedisBackend
from marketcache.clock import ManualClock, SystemClock
from marketcache.errors import LoadTimeout

from .conftest import FR, Gate, cache_with, settle

Replicas = Callable[..., list[Cache]]


@pytest.fixture(params=["memory", "redis"])
async def replicas(
    request: pytest.FixtureRequest,
    clock: ManualClock,
    make_redis: Callable[..., RedisBackend],
) -> AsyncIterator[Replicas]:
    """Caches sharing one L2 as separate replicas would; started, stopped at teardown."""
    made: list[Cache] = []
    first = MemoryBackend(clock)

    def backend() -> SharedBackend:
        if request.param == "memory":
            return first if not made else first.peer()
        return make_redis()

    async def make_all(count: int = 3, **options: Any) -> list[Cache]:
        options.setdefault("max_bytes", 1_000_000)
        options.setdefault("refresh_ahead", False)
        options.setdefault("lease_ttl", 3.0)
        for _ in range(count):
            cache = cache_with(clock=clock, backend=backend(), **options)
            made.append(cache)
            await cache.start()
        await until(lambda: all(c.backend_state()["channel"] for c in made))
        return list(made)

    yield make_all  # type: ignore[misc]
    for cache in made:
        await cache.stop()


async def until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """Wait (real time, for pub/sub) until `condition` holds."""
    for _ in range(int(seconds / 0.002)):
        await settle()
        if condition():
            return
        await asyncio.sleep(0.002)
    raise AssertionError("condition never held")


async def test_thirty_cold_callers_over_three_replicas_make_one_load(replicas: Replicas) -> None:
    caches = await replicas(3)
    gate = Gate(hold=True)
    callers = [asyncio.create_task(caches[i % 3].get_or_load("k", gate, FR)) for i in range(30)]
    await until(lambda: sum(c.stats.lease_waits for c in caches) == 2)
    gate.release()
    results = await asyncio.gather(*callers)
    assert gate.calls == 1
    assert {r.value for r in results} == {b"value#1"}
    assert [r.status for r in results].count("miss") == 1
    assert sum(c.stats.remote_loads for c in caches) == 2
    assert sum(c.stats.loads for c in caches) == 1


async def test_a_fresh_load_replaces_the_stale_copies_of_the_others(
    replicas: Replicas, clock: ManualClock
) -> None:
    caches = await replicas(3)
    gate = Gate()
    for cache in caches:
        await cache.get_or_load("k", gate, FR)
    assert gate.calls == 1  # two replicas read it from L2
    await clock.advance(3.0)  # stale everywhere
    gate.hold()
    stale = await caches[0].get_or_load("k", gate, FR)  # starts the one refresh
    assert stale.status == "stale"
    await until(lambda: gate.calls == 2)
    # the others' stale reads leave the refresh to the lease holder
    assert (await caches[1].get_or_load("k", gate, FR)).status == "stale"
    await until(lambda: caches[1].stats.lease_skips == 1)
    gate.release()
    await until(lambda: all(c.peek("k").value == b"value#2" for c in caches))  # type: ignore[union-attr]
    assert gate.calls == 2
    assert caches[2].stats.fanout_updates == 1


async def test_invalidation_and_clear_reach_every_replica(replicas: Replicas) -> None:
    caches = await replicas(3)
    for cache in caches:
        for key in ("a:1", "a:2", "b:1"):
            await cache.get_or_load(key, Gate(), FR)
    caches[0].invalidate("a:1")
    await until(lambda: all("a:1" not in c for c in caches))
    caches[1].invalidate_prefix("a:")
    await until(lambda: all(c.keys() == ["b:1"] for c in caches))
    caches[2].clear()
    await until(lambda: all(len(c) == 0 for c in caches))
    assert caches[0].stats.fanout_drops == 2  # a:2 and b:1; a:1 it dropped itself


async def test_a_dead_lease_holder_is_taken_over_after_its_lease_expires(
    clock: ManualClock,
) -> None:
    """The holder's lease is taken by hand (a replica that died mid-load never releases it)."""
    shared = MemoryBackend(clock)
    cache = Cache(
        CacheOptions(max_bytes=100_000, lease_ttl=3.0), clock=clock, backend=shared.peer()
    )
    await cache.start()
    token = await shared.acquire("k", 3.0)
    assert token is not None
    gate = Gate()
    impatient = asyncio.create_task(cache.get_or_load("k", gate, FR, deadline=1.0))
    patient = asyncio.create_task(cache.get_or_load("k", gate, FR, deadline=10.0))
    await settle()
    assert gate.calls == 0
    await clock.advance(1.0)
    with pytest.raises(LoadTimeout):
        await impatient  # its own deadline, as for a local load
    await clock.advance(2.1)  # the dead holder's lease has expired: take over
    result = await patient
    assert (result.status, result.value, gate.calls) == ("coalesced", b"value#1", 1)
    stats = cache.stats
    assert (stats.lease_waits, stats.lease_takeovers, stats.timeouts) == (1, 1, 1)
    await cache.stop()


async def test_a_failed_load_elsewhere_wakes_the_waiters_to_load_themselves(
    replicas: Replicas,
) -> None:
    first, second = await replicas(2)
    failing = Gate(hold=True)
    failing.fail_with = ConnectionError("exchange down")
    leader = asyncio.create_task(first.get_or_load("k", failing, FR))
    await until(lambda: failing.calls == 1)
    working = Gate()
    follower = asyncio.create_task(second.get_or_load("k", working, FR))
    await until(lambda: second.stats.lease_waits == 1)
    failing.release()
    with pytest.raises(ConnectionError):
        await leader
    assert (await follower).value == b"value#1"  # woken by the release, not the expiry
    assert working.calls == 1
    assert second.stats.lease_takeovers == 1


async def test_a_redis_lease_expires_by_itself(make_redis: Callable[..., RedisBackend]) -> None:
    backend = make_redis()
    token = await backend.acquire("k", 1.0)
    assert token is not None
    assert await backend.acquire("k", 5.0) is None
    assert await backend.release("k", "someone-else") is False
    remaining = await backend.lease_ttl("k")
    assert isinstance(remaining, float)
    assert 0 < remaining <= 1.0
    clock = SystemClock()
    deadline = clock.now() + 30
    while await backend.lease_ttl("k") is not MISSING:  # Redis lets it lapse
        assert clock.now() < deadline
        await clock.sleep(0.05)
    assert await backend.extend("k", token, 5.0) is False  # expired: not ours any more
    again = await backend.acquire("k", 5.0)
    assert again is not None
    assert again != token
    assert await backend.extend("k", again, 5.0) is True
    assert await backend.release("k", again) is True
