"""Stopping background tasks: a cancel a dependency swallows still stops them."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from marketcache.tasks import stop_requested, stop_tasks


async def _swallows_once(seen: list[bool]) -> None:
    """Like redis-py reconnecting: the first cancel becomes an error of its own."""
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        seen.append(stop_requested())
    await asyncio.Event().wait()  # the loop goes on to its next sleep


async def test_a_task_that_swallowed_the_cancel_is_cancelled_again() -> None:
    seen: list[bool] = []
    task = asyncio.create_task(_swallows_once(seen))
    await asyncio.sleep(0)
    await stop_tasks(task, grace_s=0.01)
    assert task.cancelled()
    assert seen == [True]  # and it could tell that it was asked to stop


async def test_a_task_that_never_stops_is_left_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    released = asyncio.Event()

    async def stubborn() -> None:
        while not released.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await released.wait()

    task = asyncio.create_task(stubborn(), name="stubborn")
    await asyncio.sleep(0)
    with caplog.at_level(logging.WARNING, logger="marketcache.tasks"):
        await stop_tasks(task, grace_s=0.01)
    assert not task.done()
    assert "background task stubborn did not stop" in caplog.text
    released.set()
    await task


async def test_ended_and_missing_tasks_are_fine_and_failures_are_retrieved() -> None:
    async def fails() -> None:
        raise RuntimeError("boom")

    failed = asyncio.create_task(fails())
    await asyncio.sleep(0)
    await stop_tasks(None, failed)
    assert isinstance(failed.exception(), RuntimeError)


def test_outside_a_task_nothing_was_requested() -> None:
    assert stop_requested() is False
