"""Waiting on a future for at most some seconds of an injected clock, without cancelling it."""

from __future__ import annotations

import asyncio
from typing import Any

from marketcache.clock import Clock


async def wait_done(future: asyncio.Future[Any], clock: Clock, seconds: float) -> bool:
    """Wait for `future` at most `seconds` of `clock`; whether it is done.

    The future itself is never cancelled here: the load goes on for the others.
    """
    if future.done():
        return True
    if seconds <= 0:
        return False
    timer = asyncio.ensure_future(clock.sleep(seconds))
    try:
        await asyncio.wait((future, timer), return_when=asyncio.FIRST_COMPLETED)
    finally:
        timer.cancel()
    return future.done()
