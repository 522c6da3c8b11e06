"""Stale grace: past fresh + grace × fresh, a read waits briefly for the reload.

Within the grace a stale entry is served at once with one background refresh (plain
stale-while-revalidate). Past it, a read waits up to `stale_wait` for the reload and
gets the fresh value; it gets the stale one only if the exchange is slow or failing.
"""

from __future__ import annotations

import asyncio

from marketcache.cache import Cache
from marketcache.clock import ManualClock, settle
from marketcache.errors import ExchangeUnavailable

from .conftest import FR, Gate, MakeCache

GRACE = 1.0  # of the 2 s fresh window: stale reads until age 4 s are served at once
WAIT = 0.5


async def loaded_then_aged(
    make_cache: MakeCache, clock: ManualClock, age: float, **options: float
) -> tuple[Cache, Gate]:
    """A grace-mode cache holding key "k" (value#1), `age` seconds after its load."""
    options.setdefault("stale_grace", GRACE)
    options.setdefault("stale_wait", WAIT)
    cache = make_cache(**options)
    gate = Gate()
    await cache.get_or_load("k", gate, FR)
    await clock.advance(age)
    return cache, gate


async def test_within_the_grace_stale_is_served_at_once(
    make_cache: MakeCache, clock: ManualClock
) -> None:
    cache, gate = await loaded_then_aged(make_cache, clock, 3.0)
    gate.hold()
    result = await cache.get_or_load("k", gate, FR)
    assert result.status == "stale"
    await settle()
    assert gate.calls == 2  # the one background refresh
    gate.release()
    await settle()


async def test_past_the_grace_a_read_gets_the_reloaded_value(
    make_cache: MakeCache, clock: ManualClock
) -> None:
    cache, gate = await loaded_then_aged(make_cache, clock, 5.0)
    assert cache.peek("k") is None  # the hit path leaves it to get_or_load
    result = await cache.get_or_load("k", gate, FR)
    assert result.status == "miss"
    assert result.value == b"value#2"
    assert result.age == 0
    assert (await cache.get_or_load("k", gate, FR)).status == "hit"
    stats = cache.stats
    assert stats.hits + stats.stale_hits + stats.misses + stats.coalesced == stats.lookups


async def test_past_the_grace_a_slow_reload_gives_the_stale_copy_after_the_wait(
    make_cache: MakeCache, clock: ManualClock
) -> None:
    cache, gate = await loaded_then_aged(make_cache, clock, 5.0)
    gate.hold()
    reads = [asyncio.create_task(cache.get_or_load("k", gate, FR)) for _ in range(3)]
    await settle()
    assert not any(read.done() for read in reads)
    await clock.advance(WAIT)
    results = await asyncio.gather(*reads)
    assert {r.status for r in results} == {"stale"}
    assert {r.value for r in results} == {b"value#1"}
    assert gate.calls == 2  # one reload for all of them, still going
    gate.release()
    await settle()
    assert (await cache.get_or_load("k", gate, FR)).value == b"value#2"


async def test_past_the_grace_a_failing_exchange_gives_the_stale_copy_without_waiting_again(
    make_cache: MakeCache, clock: ManualClock
) -> None:
    cache, gate = await loaded_then_aged(make_cache, clock, 5.0, error_backoff=1.0)
    gate.fail_with = ExchangeUnavailable("down")
    first = await cache.get_or_load("k", gate, FR)
    assert first.status == "stale"
    assert gate.calls == 2
    again = await cache.get_or_load("k", gate, FR)  # within the error back-off: at once
    assert again.status == "stale"
    assert gate.calls == 2


async def test_once_a_reload_is_slow_later_reads_do_not_wait_for_it(
    make_cache: MakeCache, clock: ManualClock
) -> None:
    cache, gate = await loaded_then_aged(make_cache, clock, 5.0)
    gate.hold()
    first = asyncio.create_task(cache.get_or_load("k", gate, FR))
    await settle()
    await clock.advance(WAIT)
    assert (await first).status == "stale"  # it waited WAIT for the hung reload
    later = await cache.get_or_load("k", gate, FR)  # the reload is WAIT old: served at once
    assert later.status == "stale"
    assert gate.calls == 2
    gate.release()
    await settle()


async def test_a_value_made_from_older_data_keeps_that_data_s_windows(
    make_cache: MakeCache, clock: ManualClock
) -> None:
    from marketcache.cache import Freshness, Loaded

    cache = make_cache()
    fetched = clock.now() - 3.0  # e.g. an answer computed now from a 3 s old ticker

    async def load() -> Loaded:
        return Loaded(b"answer", Freshness(fresh=5.0, stale=10.0), as_of=fetched)

    first = await cache.get_or_load("a", load, FR)
    assert first.age == 3.0
    await clock.advance(1.9)
    assert (await cache.get_or_load("a", load, FR)).status == "hit"
    await clock.advance(0.2)  # 5.1 s after the data was fetched
    assert (await cache.get_or_load("a", load, FR)).status == "stale"
