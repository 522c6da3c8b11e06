"""The L2 seam: replicas sharing a backend, and a backend failure degrading to L1 alone."""

from __future__ import annotations

from marketcache.cache import MISSING, BackendEntry, Cache, CacheOptions, MemoryBackend
from marketcache.clock import ManualClock, settle

from .conftest import FR, BrokenBackend, Gate

SMALL = CacheOptions(max_bytes=100_000, refresh_ahead=False)


async def test_memory_backend_expires_on_its_clock(clock: ManualClock) -> None:
    backend = MemoryBackend(clock)
    now = clock.now()
    entry = BackendEntry(b"v", now, now + 1, now + 5)
    await backend.set("a:1", entry, 5.0)
    await backend.set("a:2", entry, 5.0)
    await backend.set("b:1", entry, 0.0)  # already expired: not kept
    assert await backend.get("a:1") == entry
    assert await backend.get("b:1") is MISSING
    assert await backend.ttl("a:1") == 5.0
    await clock.advance(4.0)
    assert await backend.ttl("a:1") == 1.0
    assert await backend.delete_prefix("a:") == 2
    assert await backend.delete("a:1") is False
    await backend.set("c", entry, 5.0)
    await clock.advance(5.0)
    assert await backend.get("c") is MISSING
    assert await backend.ttl("c") is MISSING
    await backend.set("d", entry, 5.0)
    assert await backend.clear() == 1


async def test_a_replica_reads_what_another_loaded(clock: ManualClock) -> None:
    shared = MemoryBackend(clock)
    first = Cache(SMALL, clock=clock, backend=shared)
    second = Cache(SMALL, clock=clock, backend=shared)
    gate = Gate()
    loaded = await first.get_or_load("k", gate, FR)
    await settle()  # the L2 write happens behind the waiters
    await clock.advance(1.0)
    seen = await second.get_or_load("k", gate, FR)
    assert (seen.status, seen.value, seen.stored_at) == ("hit", loaded.value, loaded.stored_at)
    assert seen.age == 1.0
    assert gate.calls == 1
    assert second.stats.backend_hits == 1
    assert second.stats.loads == 0
    # the copy in the second replica's L1 keeps the original windows
    await clock.advance(1.5)
    assert second.peek("k").status == "stale"  # type: ignore[union-attr]


async def test_a_stale_l2_value_is_served_at_once_and_refreshed_behind(
    clock: ManualClock,
) -> None:
    shared = MemoryBackend(clock)
    first = Cache(SMALL, clock=clock, backend=shared)
    second = Cache(SMALL, clock=clock, backend=shared)
    gate = Gate()
    await first.get_or_load("k", gate, FR)
    await settle()
    await clock.advance(3.0)
    gate.hold()
    seen = await second.get_or_load("k", gate, FR)
    assert (seen.status, seen.value) == ("stale", b"value#1")
    await settle()
    assert gate.calls == 2
    gate.release()
    await settle()
    assert second.peek("k").value == b"value#2"  # type: ignore[union-attr]
    await second.stop()


async def test_broken_backend_degrades_to_l1_without_raising(clock: ManualClock) -> None:
    broken = BrokenBackend()
    reported: list[tuple[str, BaseException]] = []
    cache = Cache(
        CacheOptions(max_bytes=100_000, refresh_ahead=False, backend_retry=5.0),
        clock=clock,
        backend=broken,
        on_backend_error=lambda op, exc: reported.append((op, exc)),
    )
    gate = Gate()
    assert (await cache.get_or_load("k", gate, FR)).status == "miss"
    assert (await cache.get_or_load("k", gate, FR)).status == "hit"
    stats = cache.stats
    assert stats.backend_errors == 1  # then paused: not tried again within backend_retry
    assert stats.backend_available is False
    assert [op for op, _ in reported] == ["get"]
    assert isinstance(reported[0][1], ConnectionError)
    cache.invalidate("k")
    await settle()
    assert broken.calls == 1
    await clock.advance(5.0)
    assert cache.stats.backend_available is False  # down until a call succeeds
    assert (await cache.get_or_load("k", gate, FR)).status == "miss"
    assert cache.stats.backend_errors == 2
    await cache.stop()
