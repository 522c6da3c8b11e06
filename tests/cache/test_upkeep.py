"""Background tasks: purge past the stale window, refresh-ahead within its budget, start/stop."""

from __future__ import annotations

from marketcache.cache import Freshness
from marketcache.cache.bucket import TokenBucket
from marketcache.clock import ManualClock, settle

from .conftest import FR, Gate, MakeCache


async def test_purge_drops_entries_past_their_stale_window(
    make_cache: MakeCache, clock: ManualClock
) -> None:
    cache = make_cache(purge_interval=5.0)
    await cache.start()
    for i in range(10):
        await cache.get_or_load(f"short:{i}", Gate(), FR)  # gone 12 s from now
    await cache.get_or_load("long", Gate(), Freshness(fresh=60.0, stale=60.0))
    await cache.get_or_load("closed", Gate(), Freshness(fresh=float("inf"), stale=0.0))
    await clock.advance(15.0)
    assert sorted(cache.keys()) == ["closed", "long"]
    stats = cache.stats
    assert stats.expirations == 10
    assert stats.bytes == cache.store.counted_bytes()
    state = cache.tasks()["purge"]
    assert state.running
    assert state.runs == 3
    assert state.last_run == clock.now()
    assert state.errors == 0
    await cache.stop()
    assert not cache.tasks()["purge"].running


async def test_refresh_ahead_reloads_keys_read_in_their_fresh_window(
    make_cache: MakeCache, clock: ManualClock
) -> None:
    cache = make_cache(refresh_ahead=True, refresh_at=0.85)
    await cache.start()
    hot, cold = Gate(b"hot"), Gate(b"cold")
    await cache.get_or_load("hot", hot, FR)
    await cache.get_or_load("cold", cold, FR)
    for _ in range(10):  # hot is read through each fresh window; cold never again
        await clock.advance(0.5)
        await cache.get_or_load("hot", hot, FR)
    assert hot.calls >= 3
    assert cold.calls == 1
    assert (await cache.get_or_load("hot", hot, FR)).status == "hit"
    assert cache.peek("cold").status == "stale"  # type: ignore[union-attr]
    stats = cache.stats
    assert stats.misses == 2  # hot never missed after its first load
    assert stats.stale_hits == 1
    assert stats.refresh_ahead == hot.calls - 1
    assert cache.tasks()["refresh_ahead"].runs > 0


async def test_refresh_ahead_honours_its_loads_per_second_budget(
    make_cache: MakeCache, clock: ManualClock
) -> None:
    cache = make_cache(refresh_ahead=True, refresh_loads_per_s=2.0, refresh_concurrency=100)
    await cache.start()
    gates = [Gate() for _ in range(20)]
    for i, gate in enumerate(gates):
        await cache.get_or_load(f"k{i}", gate, FR)
    await clock.advance(1.0)
    for i, gate in enumerate(gates):
        await cache.get_or_load(f"k{i}", gate, FR)
    await clock.advance(1.0)  # the fresh windows end; refreshes were due at 1.7 s
    refreshed = sum(gate.calls - 1 for gate in gates)
    assert 2 <= refreshed <= 3  # a burst of 2, then one per 0.5 s
    assert cache.stats.refresh_ahead == refreshed


async def test_refresh_ahead_honours_its_concurrency(
    make_cache: MakeCache, clock: ManualClock
) -> None:
    cache = make_cache(refresh_ahead=True, refresh_loads_per_s=100.0, refresh_concurrency=3)
    await cache.start()
    gates = [Gate() for _ in range(10)]
    for i, gate in enumerate(gates):
        await cache.get_or_load(f"k{i}", gate, FR)
        gate.hold()
    await clock.advance(1.0)
    for i, gate in enumerate(gates):
        await cache.get_or_load(f"k{i}", gate, FR)
    await clock.advance(0.9)
    assert sum(gate.calls - 1 for gate in gates) == 3
    for gate in gates:
        gate.release()
    await settle()
    assert cache.stats.in_flight == 0


async def test_refresh_ahead_can_be_paused_and_turned_off(
    make_cache: MakeCache, clock: ManualClock
) -> None:
    paused = make_cache(refresh_ahead=True, backend=None)
    off = make_cache(refresh_ahead=False, backend=None)
    for cache in (paused, off):
        await cache.start()
    paused.refresh_paused = True
    assert paused.refresh_paused
    gates = {id(paused): Gate(), id(off): Gate()}
    for _ in range(5):  # read every 0.6 s through the fresh window and past it
        for cache in (paused, off):
            await cache.get_or_load("k", gates[id(cache)], FR)
        await clock.advance(0.6)
    await settle()
    for cache in (paused, off):
        # one load, then one refresh started by the first stale read (at 2.4 s), none ahead
        assert gates[id(cache)].calls == 2
        assert cache.stats.refresh_ahead == 0
        assert cache.stats.refreshes == 1
    assert "refresh_ahead" not in off.tasks() or not off.tasks()["refresh_ahead"].running


async def test_stop_cancels_background_refreshes(make_cache: MakeCache, clock: ManualClock) -> None:
    cache = make_cache()
    await cache.start()
    gate = Gate()
    await cache.get_or_load("k", gate, FR)
    await clock.advance(3.0)
    gate.hold()
    assert (await cache.get_or_load("k", gate, FR)).status == "stale"
    await settle()
    assert cache.stats.in_flight == 1
    await cache.stop()
    assert cache.stats.in_flight == 0
    assert cache.peek("k").value == b"value#1"  # type: ignore[union-attr]
    assert not any(state.running for state in cache.tasks().values())


def test_token_bucket() -> None:
    bucket = TokenBucket(2.0)
    assert bucket.take(0.0)
    assert bucket.take(0.0)
    assert not bucket.take(0.0)
    assert bucket.wait_time() == 0.5
    assert not bucket.take(0.25)
    assert bucket.take(0.5)
    assert not bucket.take(0.5)
    assert bucket.take(100.0)
    assert bucket.take(100.0)
    assert not bucket.take(100.0)
