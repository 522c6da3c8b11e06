"""The shared rate budget: counted across replicas, background loads back off, then stale."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from marketcache.cache import Cache, CacheOptions, MemoryBackend
from marketcache.cache.admission import LoadRequest
from marketcache.cache.budget import RateBudget
from marketcache.clock import ManualClock, settle
from marketcache.errors import RateLimited

from .conftest import FR, BrokenBackend, Gate


class Weight:
    """An upstream weight total that tests bump by hand (as the source's stats would)."""

    def __init__(self) -> None:
        self.total = 0

    def __call__(self) -> int:
        return self.total


async def test_replicas_count_one_budget_together(clock: ManualClock) -> None:
    shared = MemoryBackend(clock)
    weights = [Weight(), Weight()]
    budgets = [
        RateBudget(100, clock=clock, weight_total=weights[0], backend=shared),
        RateBudget(100, clock=clock, weight_total=weights[1], backend=shared.peer()),
    ]
    weights[0].total += 30
    weights[1].total += 25
    for budget in budgets:
        await budget.tick()
    await budgets[0].tick()
    assert [b.spent() for b in budgets] == [55, 55]
    weights[0].total += 10  # not counted yet, but seen by the replica that spent it
    assert budgets[0].spent() == 65
    assert budgets[1].spent() == 55
    await clock.advance(60.0)  # a new minute starts from zero
    await budgets[1].tick()
    assert budgets[1].spent() == 0


def ask(*, background: bool = False, ahead: bool = False, in_demand: bool = False) -> LoadRequest:
    """A load as the cache would present it to the budget."""
    return LoadRequest("k", background, ahead, in_demand, cold=not background, requester=None)


FIRST_ASK = ask()
ASKED_TWICE = ask(in_demand=True)
REFRESH = ask(background=True, in_demand=True)  # a stale read's refresh
AHEAD = ask(background=True, ahead=True, in_demand=True)


async def test_past_pause_at_only_refreshes_of_read_keys_and_keys_asked_twice_load(
    clock: ManualClock,
) -> None:
    weight = Weight()
    pauses: list[bool] = []
    budget = RateBudget(100, clock=clock, weight_total=weight, pause_at=0.8, on_pause=pauses.append)
    assert all(budget.admit(r) is None for r in (FIRST_ASK, ASKED_TWICE, REFRESH, AHEAD))
    weight.total = 80
    await budget.tick()
    assert pauses == [True]  # refresh-ahead pauses
    assert budget.admit(REFRESH) is None  # a key clients read comes first
    assert budget.admit(ASKED_TWICE) is None
    assert isinstance(budget.admit(FIRST_ASK), RateLimited)  # nobody asked for it twice
    assert isinstance(budget.admit(AHEAD), RateLimited)  # speculative
    weight.total = 100
    for request in (REFRESH, ASKED_TWICE):
        assert isinstance(budget.admit(request), RateLimited)  # at the limit: nothing
    assert budget.refused == 4
    await clock.advance(60.0)
    await budget.tick()
    assert pauses == [True, False]
    assert budget.admit(FIRST_ASK) is None


async def test_at_the_limit_a_request_is_served_stale_or_refused(clock: ManualClock) -> None:
    weight = Weight()
    budget = RateBudget(100, clock=clock, weight_total=weight)
    cache = Cache(
        CacheOptions(max_bytes=100_000, refresh_ahead=False), clock=clock, admit=budget.admit
    )
    gate = Gate()
    await cache.get_or_load("old", gate, FR)
    weight.total = 100
    await clock.advance(3.0)  # stale, and its refresh is refused
    assert (await cache.get_or_load("old", gate, FR)).status == "stale"
    await settle()
    with pytest.raises(RateLimited) as refused:
        await cache.get_or_load("new", gate, FR)
    assert refused.value.retry_after is not None
    assert 0 < refused.value.retry_after <= 60
    assert gate.calls == 1  # nothing went upstream past the limit
    await cache.stop()


async def test_warming_waits_for_room(clock: ManualClock) -> None:
    weight = Weight()
    budget = RateBudget(100, clock=clock, weight_total=weight, interval=1.0)
    weight.total = 90
    await budget.tick()
    waiting = asyncio.create_task(budget.room())
    await clock.advance(30.0)
    assert not waiting.done()
    await clock.advance(31.0)
    await waiting  # the next minute has room


async def test_l2_down_counts_this_replica_alone(clock: ManualClock) -> None:
    weight = Weight()
    budget = RateBudget(100, clock=clock, weight_total=weight, backend=BrokenBackend())  # type: ignore[arg-type]
    weight.total = 40
    await budget.tick()
    assert (budget.spent(), budget.shared) == (40, False)
    assert budget.to_dict()["used"] == 40


async def test_the_tick_task_runs_until_stopped(clock: ManualClock) -> None:
    weight = Weight()
    budget = RateBudget(100, clock=clock, weight_total=weight, interval=1.0)
    await budget.start()
    weight.total = 85
    await clock.advance(1.0)
    assert budget.paused
    assert budget.state.runs >= 1
    await budget.stop()
    assert not budget.state.running


class SwallowingBackend(BrokenBackend):
    """Redis going away mid-call: redis-py's reconnect turns our cancel into its own error."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = asyncio.Event()

    async def incr(self, name: str, amount: int, ttl: float) -> int:
        self.entered.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.Event().wait()
        raise ConnectionError("Connection closed by server.")


async def test_a_cancel_lost_in_the_l2_call_still_stops_the_tick_task(clock: ManualClock) -> None:
    backend = SwallowingBackend()
    budget = RateBudget(100, clock=clock, weight_total=Weight(), backend=backend)  # type: ignore[arg-type]
    await budget.start()
    await backend.entered.wait()
    task = budget._task
    assert task is not None
    await budget.stop()
    assert task.done()
    assert not task.cancelled()
    assert not budget.state.running
