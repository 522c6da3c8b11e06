"""Stopping background tasks even when a dependency swallows the cancel.

A task cancelled while a library is between two awaits of its own error
handling (redis-py reconnecting after the server went away, for one) can lose
the `CancelledError`: the library raises its own error instead, our loop counts
it as a failed tick and sleeps on. `Task.cancelling()` still says the cancel was
asked for, so loops check `stop_requested()` before they sleep, and
`stop_tasks()` cancels again whatever has not ended after a grace period.
"""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)

GRACE_S = 1.0
TRIES = 3


def stop_requested() -> bool:
    """Whether the running task has been asked to stop (even if the cancel was swallowed)."""
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no event loop running: nothing to stop
        return False
    return task is not None and task.cancelling() > 0


async def stop_tasks(*tasks: asyncio.Task[object] | None, grace_s: float = GRACE_S) -> None:
    """Cancel `tasks` and wait for them, cancelling again what outlives `grace_s`."""
    mine = [task for task in tasks if task is not None]
    pending = {task for task in mine if not task.done()}
    for _ in range(TRIES):
        if not pending:
            break
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=grace_s)
    for task in pending:
        log.warning("background task %s did not stop", task.get_name())
    for task in mine:
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.debug("background task %s had ended with %r", task.get_name(), task.exception())
