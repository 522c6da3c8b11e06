"""The outbox: the newest answer per subscription, replies in order, cut past its backlog."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketcache.subscriptions.outbox import Outbox


async def test_replies_first_then_the_newest_answer_of_each_subscription() -> None:
    box = Outbox(max_backlog=10)
    box.answer("a", b"a1")
    box.put(b"reply")
    box.answer("b", b"b1")
    box.answer("a", b"a2")
    assert await box.take() == [b"reply", b"a2", b"b1"]
    assert box.conflated == 1
    assert box.backlog == 0


async def test_take_waits_for_a_frame() -> None:
    box = Outbox(max_backlog=10)
    taking = asyncio.ensure_future(box.take())
    await asyncio.sleep(0)
    assert not taking.done()
    box.answer("a", b"x")
    assert await asyncio.wait_for(taking, 1) == [b"x"]


async def test_past_the_backlog_it_is_cut_and_takes_nothing_more() -> None:
    box = Outbox(max_backlog=3)
    box.answer("a", b"1")
    assert all(box.answer("a", f"{n}".encode()) for n in range(2, 5))  # 3 superseded: at bound
    assert not box.cut.is_set()
    assert box.answer("a", b"5") is False
    assert box.cut.is_set()
    assert box.put(b"late") is False
    assert box.backlog == 0


def test_forget_drops_a_waiting_answer() -> None:
    box = Outbox(max_backlog=3)
    box.answer("a", b"1")
    box.forget("a")
    box.answer("b", b"2")
    assert asyncio.run(box.take()) == [b"2"]


@given(st.lists(st.sampled_from("abc"), max_size=40), st.integers(1, 20))
def test_it_is_cut_exactly_when_superseded_answers_pass_the_bound(
    order: list[str], bound: int
) -> None:
    box = Outbox(max_backlog=bound)
    superseded = 0
    seen: set[str] = set()
    for name in order:
        superseded += name in seen
        seen.add(name)
        accepted = box.answer(name, name.encode())
        assert accepted == (superseded <= bound)
        if not accepted:
            break
    assert box.cut.is_set() == (superseded > bound)


@pytest.mark.parametrize("bound", [1, 5])
async def test_a_reader_that_keeps_up_is_never_cut(bound: int) -> None:
    box = Outbox(max_backlog=bound)
    for n in range(100):
        box.answer("a", str(n).encode())
        box.put(b"event")
        assert await box.take() == [b"event", str(n).encode()]
    assert not box.cut.is_set()
