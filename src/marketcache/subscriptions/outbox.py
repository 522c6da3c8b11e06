"""One connection's frames not yet sent: the newest answer per subscription, bounded.

The hub never waits on a subscriber: it drops frames into the outbox and moves on.
A subscription's answer replaces the one still waiting (conflation: a slow reader
gets the latest state, not a queue of old ones); replies and events are kept in
order. The backlog is how far the reader has fallen behind since it last took
anything: replies and events waiting plus answers superseded unsent (the answers
waiting are at most one per subscription, bounded by the subscription limit). Past
`max_backlog` the outbox is cut: it takes nothing more, and its connection is closed.
"""

from __future__ import annotations

import asyncio
from collections import deque


class Outbox:
    """Frames for one connection; `take` waits for some, `cut` says it fell too far behind."""

    def __init__(self, max_backlog: int) -> None:
        self.max_backlog = max_backlog
        self._answers: dict[str, bytes] = {}  # subscription id → its newest answer frame
        self._others: deque[bytes] = deque()  # replies and events, in order
        self._superseded = 0
        self._ready = asyncio.Event()
        self.cut = asyncio.Event()  # set once, when the backlog passed its bound
        self.conflated = 0  # answers replaced before being sent, since the start

    @property
    def backlog(self) -> int:
        """Replies and events waiting plus answers superseded since the last `take`."""
        return len(self._others) + self._superseded

    def answer(self, subscription: str, frame: bytes) -> bool:
        """Queue `frame` as the subscription's newest answer; False once cut."""
        if self.cut.is_set():
            return False
        if subscription in self._answers:
            self._superseded += 1
            self.conflated += 1
        self._answers[subscription] = frame
        return self._settle()

    def put(self, frame: bytes) -> bool:
        """Queue a reply or an event (never conflated); False once cut."""
        if self.cut.is_set():
            return False
        self._others.append(frame)
        return self._settle()

    def forget(self, subscription: str) -> None:
        """Drop the subscription's waiting answer (it was unsubscribed)."""
        self._answers.pop(subscription, None)

    async def take(self) -> list[bytes]:
        """Everything waiting (replies and events first), once there is something."""
        while not (self._answers or self._others):
            self._ready.clear()
            await self._ready.wait()
        frames = [*self._others, *self._answers.values()]
        self._others.clear()
        self._answers.clear()
        self._superseded = 0
        return frames

    def _settle(self) -> bool:
        if self.backlog > self.max_backlog:
            self.cut.set()  # nothing more is held for it
            self._answers.clear()
            self._others.clear()
            self._superseded = 0
            return False
        self._ready.set()
        return True
