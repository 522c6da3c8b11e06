"""Values pushed into the cache (streams): L1 and L2 as a load's, never older over newer;
the fresh window ended on demand; named leases across replicas."""

from __future__ import annotations

from marketcache.cache import Cache, MemoryBackend
from marketcache.clock import ManualClock

from .conftest import FR, cache_with, settle


async def test_a_pushed_value_is_served_as_a_hit_and_reaches_l2(clock: ManualClock) -> None:
    backend = MemoryBackend(clock)
    cache = cache_with(clock=clock, backend=backend, max_bytes=100_000, refresh_ahead=False)
    now = clock.now()
    assert await cache.writes.put("k", b"v1", now - 0.5, FR)
    result = cache.peek("k")
    assert result is not None
    assert (result.value, result.status, result.stored_at) == (b"v1", "hit", now - 0.5)
    stored = await backend.get("k")
    assert stored is not None
    assert stored.value == b"v1"
    assert stored.fresh_until == now - 0.5 + FR.fresh


async def test_an_older_value_never_replaces_a_newer_one(clock: ManualClock) -> None:
    cache = cache_with(clock=clock, max_bytes=100_000)
    now = clock.now()
    assert await cache.writes.put("k", b"new", now, FR)
    assert not await cache.writes.put("k", b"old", now - 1, FR)
    held = cache.writes.held("k")
    assert held is not None
    assert held.value == b"new"


async def test_a_value_past_its_stale_window_is_not_stored(clock: ManualClock) -> None:
    cache = cache_with(clock=clock, max_bytes=100_000)
    assert not await cache.writes.put("k", b"v", clock.now() - FR.fresh - FR.stale - 1, FR)
    assert cache.writes.held("k") is None


async def test_a_pushed_value_keeps_the_keys_loader_so_reads_can_refresh_it(
    clock: ManualClock,
) -> None:
    cache = cache_with(clock=clock, max_bytes=100_000, refresh_ahead=False, stale_grace=None)
    calls = 0

    async def load() -> bytes:
        nonlocal calls
        calls += 1
        return b"rest"

    await cache.get_or_load("k", load, FR)
    await cache.writes.put("k", b"streamed", clock.now(), FR)
    assert (await cache.get_or_load("k", load, FR)).value == b"streamed"
    assert cache.writes.expire_fresh("k")
    stale = cache.peek("k")  # still servable, and its read starts the REST refresh
    assert stale is not None
    assert stale.status == "stale"
    await settle()
    assert calls == 2
    assert (await cache.get_or_load("k", load, FR)).value == b"rest"
    assert not cache.writes.expire_fresh("absent")


async def test_other_replicas_holding_the_key_get_the_pushed_value(clock: ManualClock) -> None:
    first = MemoryBackend(clock)
    a = cache_with(clock=clock, backend=first, max_bytes=100_000, refresh_ahead=False)
    b = cache_with(clock=clock, backend=first.peer(), max_bytes=100_000, refresh_ahead=False)
    await a.start()
    await b.start()
    try:

        async def load() -> bytes:
            return b"rest"

        await b.get_or_load("k", load, FR)
        await clock.advance(0.1)  # a message after b's load
        await a.writes.put("k", b"streamed", clock.now(), FR)
        await settle()
        held = b.writes.held("k")
        assert held is not None
        assert held.value == b"streamed"
    finally:
        await a.stop()
        await b.stop()


async def test_a_named_lease_is_one_replicas_until_released_or_lapsed(clock: ManualClock) -> None:
    first = MemoryBackend(clock)
    a, b = (
        cache_with(clock=clock, backend=backend, max_bytes=100_000)
        for backend in (first, first.peer())
    )
    token = await a.writes.claim("stream", 3.0)
    assert token is not None
    assert await b.writes.claim("stream", 3.0) is None
    assert await a.writes.renew("stream", token, 3.0)
    await a.writes.release("stream", token)
    other = await b.writes.claim("stream", 3.0)
    assert other is not None
    await clock.advance(3.5)  # b died without releasing: the lease lapses
    assert not await b.writes.renew("stream", other, 3.0)
    assert await a.writes.claim("stream", 3.0) is not None


async def test_without_a_shared_backend_this_replica_owns_every_name(clock: ManualClock) -> None:
    cache: Cache = cache_with(clock=clock, max_bytes=100_000)
    assert not cache.writes.shared
    token = await cache.writes.claim("stream", 3.0)
    assert token is not None
    assert await cache.writes.claim("stream", 3.0) is not None
    assert await cache.writes.renew("stream", token, 3.0)
    await cache.writes.release("stream", token)
