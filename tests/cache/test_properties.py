"""Property tests: random gets, loads, failures, hung loads, clock moves, invalidations."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketcache.cache import Cache, CacheOptions, Freshness, MemoryBackend, Result
from marketcache.clock import ManualClock, settle
from marketcache.errors import ExchangeUnavailable, LoadTimeout

KEYS = [f"ohlcv:binance:{s}/USDT:{tf}" for s in ("BTC", "ETH", "SOL") for tf in ("1m", "1h")]
MAX_BYTES = 12_000


@dataclass
class World:
    """What the test knows: each loaded value's freshness, and every result handed out."""

    clock: ManualClock
    cache: Cache
    freshness_of: dict[bytes, Freshness] = field(default_factory=dict)
    held: list[asyncio.Event] = field(default_factory=list)
    pending: list[asyncio.Task[Result]] = field(default_factory=list)
    served: int = 0
    loads: int = 0

    def loader(self, size: int, fails: bool, freshness: Freshness, hold: bool):  # type: ignore[no-untyped-def]
        self.loads += 1
        value = b"%d:" % self.loads + b"x" * size
        gate = asyncio.Event()
        if hold:
            self.held.append(gate)
        else:
            gate.set()

        async def load() -> bytes:
            await gate.wait()
            if fails:
                raise ExchangeUnavailable("down")
            self.freshness_of[value] = freshness
            return value

        return load

    def check(self, result: Result) -> None:
        """Nothing served from the cache past its window; what was loaded is what is served."""
        self.served += 1
        now = self.clock.now()
        assert result.age == now - result.stored_at >= 0
        freshness = self.freshness_of[result.value]
        if result.status == "hit":
            assert now < result.stored_at + freshness.fresh
        elif result.status == "stale":
            assert now < result.stored_at + freshness.fresh + freshness.stale

    def invariants(self) -> None:
        store = self.cache.store
        assert store.bytes <= MAX_BYTES
        assert store.bytes == store.counted_bytes()
        stats = self.cache.stats
        assert stats.hits + stats.stale_hits + stats.misses + stats.coalesced == stats.lookups
        now = self.clock.now()
        for entry in store.entries.values():  # held entries may be expired, never served so
            assert entry.fresh_until <= entry.stale_until
            assert entry.stored_at <= now


freshness_st = st.builds(
    Freshness,
    fresh=st.sampled_from([0.0, 0.5, 2.0, 5.0]),
    stale=st.sampled_from([0.0, 1.0, 10.0]),
)
key_st = st.sampled_from(KEYS)
op_st = st.one_of(
    st.tuples(
        st.just("get"),
        key_st,
        st.integers(0, 3000),
        st.booleans(),
        freshness_st,
        st.booleans(),
    ),
    st.tuples(st.just("peek"), key_st),
    st.tuples(st.just("advance"), st.sampled_from([0.1, 0.5, 1.0, 3.0, 11.0])),
    st.tuples(st.just("release")),
    st.tuples(st.just("invalidate"), key_st),
    st.tuples(st.just("invalidate_prefix"), st.sampled_from(["ohlcv:binance:BTC", "ohlcv:", "x"])),
    st.tuples(st.just("clear")),
)


async def play(ops: list[tuple[object, ...]], with_l2: bool) -> None:
    clock = ManualClock()
    cache = Cache(
        CacheOptions(
            max_bytes=MAX_BYTES,
            max_entry_share=0.5,
            wait_deadline=2.0,
            load_timeout=5.0,
            refresh_ahead=True,
            refresh_tick=0.5,
        ),
        clock=clock,
        backend=MemoryBackend(clock) if with_l2 else None,
    )
    world = World(clock, cache)
    await cache.start()
    for op in ops:
        kind = op[0]
        if kind == "get":
            _, key, size, fails, freshness, hold = op
            loader = world.loader(size, fails, freshness, hold)  # type: ignore[arg-type]
            task = asyncio.ensure_future(cache.get_or_load(key, loader, freshness))  # type: ignore[arg-type]
            world.pending.append(task)
        elif kind == "peek":
            result = cache.peek(op[1])  # type: ignore[arg-type]
            if result is not None:
                world.check(result)
        elif kind == "advance":
            await clock.advance(op[1])  # type: ignore[arg-type]
        elif kind == "release":
            for gate in world.held:
                gate.set()
            world.held.clear()
        elif kind == "invalidate":
            cache.invalidate(op[1])  # type: ignore[arg-type]
        elif kind == "invalidate_prefix":
            cache.invalidate_prefix(op[1])  # type: ignore[arg-type]
        else:
            cache.clear()
        await settle()
        for task in [t for t in world.pending if t.done()]:
            world.pending.remove(task)
            if task.exception() is None:
                world.check(task.result())
            else:
                assert isinstance(task.exception(), ExchangeUnavailable | LoadTimeout)
        world.invariants()
    for gate in world.held:
        gate.set()
    await clock.advance(10.0)
    await asyncio.gather(*world.pending, return_exceptions=True)
    await cache.stop()
    world.invariants()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(op_st, max_size=60), with_l2=st.booleans())
def test_cache_invariants_hold_under_random_operations(
    ops: list[tuple[object, ...]], with_l2: bool
) -> None:
    asyncio.run(play(ops, with_l2))
