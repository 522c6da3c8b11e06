"""The cache contract, on L1 alone and on L1 + L2: hits, stale, single-flight, deadlines, errors."""

from __future__ import annotations

import asyncio

import pytest

from marketcache.cache import CacheOverloaded, Freshness
from marketcache.clock import ManualClock
from marketcache.errors import ExchangeUnavailable, LoadTimeout

from .conftest import FR, Gate, MakeCache, backend_len, settle, upstream_down


def consistent(stats: dict[str, float | int | bool]) -> bool:
    return (
        stats["hits"] + stats["stale_hits"] + stats["misses"] + stats["coalesced"]
        == (stats["lookups"])
    )


async def test_miss_then_fresh_hit(make_cache: MakeCache, clock: ManualClock) -> None:
    cache = make_cache()
    gate = Gate()
    first = await cache.get_or_load("k", gate, FR)
    assert (first.status, first.value, first.age) == ("miss", b"value#1", 0.0)
    await clock.advance(1.5)
    second = await cache.get_or_load("k", gate, FR)
    assert (second.status, second.value) == ("hit", b"value#1")
    assert second.age == pytest.approx(1.5)
    assert second.stored_at == first.stored_at
    assert gate.calls == 1
    stats = cache.stats
    assert (stats.lookups, stats.hits, stats.misses, stats.loads) == (2, 1, 1, 1)
    assert stats.hit_rate == 0.5


async def test_hundred_callers_on_a_missing_key_share_one_load(make_cache: MakeCache) -> None:
    cache = make_cache()
    gate = Gate(hold=True)
    callers = [asyncio.create_task(cache.get_or_load("k", gate, FR)) for _ in range(100)]
    await settle()
    gate.release()
    results = await asyncio.gather(*callers)
    assert gate.calls == 1
    assert {r.value for r in results} == {b"value#1"}
    assert len({r.stored_at for r in results}) == 1
    assert sorted(r.status for r in results).count("miss") == 1
    assert sum(r.status == "coalesced" for r in results) == 99
    stats = cache.stats
    assert (stats.misses, stats.coalesced, stats.loads, stats.lookups) == (1, 99, 1, 100)


async def test_hundred_callers_on_a_failing_load_get_one_error_and_nothing_is_stored(
    make_cache: MakeCache, backend: object
) -> None:
    cache = make_cache()
    gate = Gate(hold=True)
    gate.fail_with = upstream_down()
    callers = [asyncio.create_task(cache.get_or_load("k", gate, FR)) for _ in range(100)]
    await settle()
    gate.release()
    outcomes = await asyncio.gather(*callers, return_exceptions=True)
    assert gate.calls == 1
    assert all(o is gate.fail_with for o in outcomes)
    assert len(cache) == 0
    assert cache.peek("k") is None
    if backend is not None:
        assert await backend_len(backend) == 0
    stats = cache.stats
    assert (stats.load_errors, stats.entries, stats.bytes) == (1, 0, 0)
    assert consistent(stats.to_dict())


async def test_stale_hit_starts_exactly_one_background_refresh(
    make_cache: MakeCache, clock: ManualClock
) -> None:
    cache = make_cache()
    gate = Gate()
    await cache.get_or_load("k", gate, FR)
    await clock.advance(3)  # past fresh (2 s), inside stale (10 s more)
    gate.hold()
    results = [await cache.get_or_load("k", gate, FR) for _ in range(50)]
    results += [cache.peek("k") for _ in range(10)]  # type: ignore[misc]
    assert {(r.status, r.value) for r in results if r} == {("stale", b"value#1")}
    assert all(r is not None and r.age == pytest.approx(3) for r in results)
    await settle()
    assert gate.calls == 2
    gate.release()
    await settle()
    after = await cache.get_or_load("k", gate, FR)
    assert (after.status, after.value, after.age) == ("hit", b"value#2", 0.0)
    assert gate.calls == 2
    assert cache.stats.refreshes == 1
    assert cache.stats.stale_hits == 60


async def test_deadline_passes_while_the_load_hangs(
    make_cache: MakeCache, clock: ManualClock
) -> None:
    cache = make_cache(wait_deadline=5.0)
    gate = Gate(hold=True)
    impatient = asyncio.create_task(cache.get_or_load("k", gate, FR, deadline=1.0))
    patient = asyncio.create_task(cache.get_or_load("k", gate, FR))
    await settle()
    await clock.advance(1.0)
    with pytest.raises(LoadTimeout) as caught:
        await impatient
    assert caught.value.key == "k"
    assert "'k'" not in caught.value.message  # the key goes to the log, not to clients
    assert caught.value.status == 503
    assert not patient.done()
    gate.release()
    await settle()
    assert (await patient).status == "coalesced"
    later = await cache.get_or_load("k", gate, FR)
    assert (later.status, later.value) == ("hit", b"value#1")
    assert gate.calls == 1
    assert cache.stats.timeouts == 1
    assert consistent(cache.stats.to_dict())


async def test_cancelled_waiter_leaves_the_load_running(make_cache: MakeCache) -> None:
    cache = make_cache()
    gate = Gate(hold=True)
    first = asyncio.create_task(cache.get_or_load("k", gate, FR))
    second = asyncio.create_task(cache.get_or_load("k", gate, FR))
    await settle()
    first.cancel()
    await settle()
    gate.release()
    assert (await second).value == b"value#1"
    assert cache.peek("k") is not None
    assert consistent(cache.stats.to_dict())


async def test_failed_load_serves_the_stale_entry_but_never_extends_its_window(
    make_cache: MakeCache, clock: ManualClock
) -> None:
    errors: list[tuple[str, BaseException]] = []
    cache = make_cache(error_backoff=1.0, on_load_error=lambda k, e: errors.append((k, e)))
    gate = Gate()
    loaded = await cache.get_or_load("k", gate, FR)
    gate.fail_with = upstream_down()
    # every second through the stale window, a read triggers a refresh that fails
    for _ in range(11):
        await clock.advance(1.0)
        result = await cache.get_or_load("k", gate, FR)
        await settle()
        if clock.now() < loaded.stored_at + 2.0:
            assert result.status == "hit"
        else:
            assert (result.status, result.value, result.stored_at) == (
                "stale",
                b"value#1",
                loaded.stored_at,
            )
    assert cache.stats.load_errors >= 8
    assert errors
    assert all(k == "k" and isinstance(e, ExchangeUnavailable) for k, e in errors)
    await clock.advance(1.0)  # now 12 s after the load: the stale window is over
    assert cache.peek("k") is None
    with pytest.raises(ExchangeUnavailable):
        await cache.get_or_load("k", gate, FR)
    assert len(cache) == 0


async def test_waiters_of_a_failed_refresh_get_what_is_still_servable(
    make_cache: MakeCache, clock: ManualClock, backend: object
) -> None:
    cache = make_cache()
    gate = Gate()
    await cache.get_or_load("k", gate, Freshness(fresh=1.0, stale=10.0))
    await clock.advance(2.0)
    gate.hold()
    gate.fail_with = upstream_down()
    stale = await cache.get_or_load("k", gate, FR)  # starts the background refresh
    assert stale.status == "stale"
    cache.store.remove("k")  # evicted from L1 meanwhile: the next reader waits on the refresh
    waiter = asyncio.create_task(cache.get_or_load("k", gate, FR))
    await settle()
    gate.release()
    if backend is None:  # nothing servable is left: the load's error
        with pytest.raises(ExchangeUnavailable):
            await waiter
    else:  # L2 still holds the value inside its stale window: served stale
        result = await waiter
        assert (result.status, result.value, result.stored_at) == (
            "stale",
            b"value#1",
            stale.stored_at,
        )
        assert cache.peek("k").status == "stale"  # type: ignore[union-attr]
    assert gate.calls == 2
    assert consistent(cache.stats.to_dict())


async def test_refresh_backs_off_after_a_failure(make_cache: MakeCache, clock: ManualClock) -> None:
    cache = make_cache(error_backoff=5.0)
    gate = Gate()
    await cache.get_or_load("k", gate, FR)
    gate.fail_with = upstream_down()
    await clock.advance(3.0)
    await cache.get_or_load("k", gate, FR)
    await settle()
    assert gate.calls == 2
    for _ in range(4):
        await clock.advance(1.0)
        assert (await cache.get_or_load("k", gate, FR)).status == "stale"
        await settle()
    assert gate.calls == 2  # still inside the back-off
    await clock.advance(1.0)
    await cache.get_or_load("k", gate, FR)
    await settle()
    assert gate.calls == 3


async def test_loader_may_set_its_own_freshness(make_cache: MakeCache, clock: ManualClock) -> None:
    cache = make_cache()
    gate = Gate()
    gate.freshness = Freshness(fresh=100.0, stale=0.0)
    await cache.get_or_load("k", gate, FR)
    await clock.advance(50.0)
    assert (await cache.get_or_load("k", gate, FR)).status == "hit"
    await clock.advance(50.0)
    assert cache.peek("k") is None
    assert (await cache.get_or_load("k", gate, FR)).status == "miss"


async def test_invalidate_during_a_load_does_not_resurrect_the_key(
    make_cache: MakeCache, backend: object
) -> None:
    cache = make_cache()
    gate = Gate(hold=True)
    waiter = asyncio.create_task(cache.get_or_load("ohlcv:binance:BTC/USDT:15m", gate, FR))
    await settle()
    assert cache.invalidate("ohlcv:binance:BTC/USDT:15m") is False
    gate.release()
    assert (await waiter).value == b"value#1"  # the waiter still gets what was loaded for it
    await settle()
    assert cache.peek("ohlcv:binance:BTC/USDT:15m") is None
    if backend is not None:
        assert await backend_len(backend) == 0
    again = await cache.get_or_load("ohlcv:binance:BTC/USDT:15m", gate, FR)
    assert (again.status, again.value) == ("miss", b"value#2")


async def test_clear_during_a_load_does_not_resurrect_the_key(make_cache: MakeCache) -> None:
    cache = make_cache()
    await cache.get_or_load("a", Gate(), FR)
    gate = Gate(hold=True)
    waiter = asyncio.create_task(cache.get_or_load("b", gate, FR))
    await settle()
    assert cache.clear() == 1
    gate.release()
    await waiter
    await settle()
    assert len(cache) == 0
    assert cache.stats.bytes == 0


async def test_invalidate_by_key_and_prefix(make_cache: MakeCache, backend: object) -> None:
    cache = make_cache()
    keys = [
        "ohlcv:binance:BTC/USDT:15m",
        "ohlcv:binance:BTC/USDT:1h",
        "ohlcv:binance:ETH/USDT:15m",
        "answer:cvd:binance:BTC/USDT:15m:100",
    ]
    for key in keys:
        await cache.get_or_load(key, Gate(), FR)
    assert cache.invalidate("ohlcv:binance:ETH/USDT:15m") is True
    assert cache.invalidate("ohlcv:binance:ETH/USDT:15m") is False
    assert cache.invalidate_prefix("ohlcv:binance:BTC/USDT:") == 2
    await settle()
    assert cache.keys() == ["answer:cvd:binance:BTC/USDT:15m:100"]
    if backend is not None:
        assert await backend_len(backend) == 1
    assert cache.stats.invalidations == 3
    assert cache.stats.bytes == cache.store.counted_bytes()


async def test_waiter_queue_is_bounded(make_cache: MakeCache) -> None:
    cache = make_cache(max_waiters=10)
    gate = Gate(hold=True)
    waiting = [asyncio.create_task(cache.get_or_load("k", gate, FR)) for _ in range(10)]
    await settle()
    with pytest.raises(CacheOverloaded) as caught:
        await cache.get_or_load("k", gate, FR)
    assert caught.value.retry_after == 1.0
    gate.release()
    assert len(await asyncio.gather(*waiting)) == 10
    stats = cache.stats
    assert stats.waiters_refused == 1
    assert consistent(stats.to_dict())


async def test_value_too_large_is_returned_but_not_stored(make_cache: MakeCache) -> None:
    cache = make_cache(max_bytes=100_000, max_entry_share=0.1)
    gate = Gate(value=b"x" * 20_000)
    result = await cache.get_or_load("big", gate, FR)
    assert result.status == "miss"
    assert len(result.value) > 20_000
    assert cache.peek("big") is None
    assert cache.stats.rejected == 1


async def test_loader_returning_something_else_than_bytes_is_a_load_error(
    make_cache: MakeCache,
) -> None:
    cache = make_cache()

    async def wrong() -> bytes:
        return "text"  # type: ignore[return-value]

    with pytest.raises(TypeError, match="not bytes"):
        await cache.get_or_load("k", wrong, FR)
    assert cache.stats.load_errors == 1
    assert len(cache) == 0


async def test_hung_loader_is_abandoned_after_load_timeout(
    make_cache: MakeCache, clock: ManualClock
) -> None:
    cache = make_cache(load_timeout=30.0, wait_deadline=60.0)
    gate = Gate(hold=True)
    waiter = asyncio.create_task(cache.get_or_load("k", gate, FR))
    await settle()
    await clock.advance(30.0)
    with pytest.raises(LoadTimeout):
        await waiter
    assert cache.stats.load_errors == 1
    assert cache.stats.in_flight == 0
    gate.release()
    assert (await cache.get_or_load("k", gate, FR)).status == "miss"
    assert gate.calls == 2


async def test_peek_counts_only_what_it_serves(make_cache: MakeCache, clock: ManualClock) -> None:
    cache = make_cache()
    gate = Gate()
    assert cache.peek("k") is None
    assert cache.stats.lookups == 0
    await cache.get_or_load("k", gate, FR)
    assert cache.peek("k").status == "hit"  # type: ignore[union-attr]
    await clock.advance(3.0)
    gate.hold()
    assert cache.peek("k").status == "stale"  # type: ignore[union-attr]
    assert cache.peek("k").status == "stale"  # type: ignore[union-attr]
    await settle()
    assert gate.calls == 2  # the stale peek started the one refresh
    stats = cache.stats
    assert (stats.lookups, stats.hits, stats.stale_hits, stats.misses) == (4, 1, 2, 1)
    gate.release()


async def test_stats_report_occupancy(make_cache: MakeCache) -> None:
    cache = make_cache(max_bytes=50_000)
    for i in range(5):
        await cache.get_or_load(f"k{i}", Gate(value=b"v" * 1000), FR)
    stats = cache.stats
    assert stats.entries == 5
    assert stats.bytes == cache.store.counted_bytes()
    assert 0 < stats.used_fraction == stats.bytes / 50_000 < 1
    as_dict = stats.to_dict()
    assert as_dict["entries"] == 5
    assert as_dict["used_fraction"] == stats.used_fraction


def test_results_built_on_the_hit_path_are_ordinary_frozen_results() -> None:
    import dataclasses

    from marketcache.cache import Result
    from marketcache.cache.entry import make_result

    fast = make_result(b"v", "hit", 1.5, 10.0)
    assert fast == Result(b"v", "hit", 1.5, 10.0)
    assert hash(fast) == hash(Result(b"v", "hit", 1.5, 10.0))
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.status = "miss"  # type: ignore[misc]


async def test_cache_as_async_context_manager(make_cache: MakeCache) -> None:
    async with make_cache() as cache:
        assert cache.tasks()["purge"].running
        await cache.get_or_load("k", Gate(), FR)
        assert "k" in cache
        assert len(cache) == 1
    assert not cache.tasks()["purge"].running


def test_freshness_rejects_negative_windows() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        Freshness(fresh=-1.0, stale=1.0)
    with pytest.raises(ValueError, match=">= 0"):
        Freshness(fresh=1.0, stale=float("nan"))


async def test_a_value_with_no_window_is_handed_out_but_not_kept(
    make_cache: MakeCache, backend: object
) -> None:
    cache = make_cache()
    gate = Gate()
    first = await cache.get_or_load("k", gate, Freshness(0.0, 0.0))
    assert (first.status, first.value) == ("miss", b"value#1")
    await settle()
    assert len(cache) == 0
    if backend is not None:
        assert await backend_len(backend) == 0
    assert (await cache.get_or_load("k", gate, Freshness(0.0, 0.0))).value == b"value#2"
