"""Single-flight loads: one load per key in progress, and the outcome every waiter shares."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Literal

from marketcache.cache.admission import LoadRequest
from marketcache.cache.backend import BackendEntry
from marketcache.cache.lease import Lease

OutcomeKind = Literal["loaded", "backend", "remote", "stale", "error"]


class Outcome:
    """How a load ended: a value (loaded, from L2, from another replica's load, or a stale
    fallback) or an error."""

    __slots__ = (
        "error",
        "kind",
        "refresh",
        "stale_until",
        "stored_at",
        "traceback",
        "value",
        "written",
    )

    def __init__(
        self,
        kind: OutcomeKind,
        value: bytes = b"",
        stored_at: float = 0.0,
        stale_until: float = 0.0,
        error: BaseException | None = None,
    ) -> None:
        self.kind = kind
        self.value = value
        self.stored_at = stored_at
        self.stale_until = stale_until
        self.error = error  # for "error"; for "stale", the failure that made us fall back
        self.traceback: TracebackType | None = error.__traceback__ if error else None
        self.refresh = False  # start a background refresh once the flight has ended
        self.written: BackendEntry | None = None  # what to write to L2 once waiters are served

    def raise_error(self) -> None:
        """Raise the load's error (the same object for every waiter, its traceback reset)."""
        assert self.error is not None
        raise self.error.with_traceback(self.traceback)


class Flight:
    """One load in progress for a key; waiters await `future`, which never holds an exception."""

    __slots__ = (
        "ahead",
        "background",
        "demanded",
        "future",
        "key",
        "lease",
        "parent",
        "requester",
        "started_at",
        "store",
        "task",
        "waiters",
    )

    def __init__(
        self,
        key: str,
        future: asyncio.Future[Outcome],
        background: bool,
        started_at: float = 0.0,
        *,
        demanded: bool = False,
        parent: Flight | None = None,
        requester: str | None = None,
    ) -> None:
        self.key = key
        self.started_at = started_at  # clock time the load began
        self.future = future
        self.background = background  # started by a stale read or refresh-ahead, not a miss
        self.ahead = False  # started by refresh-ahead
        self.store = True  # cleared by invalidation: the result is then handed out, not kept
        self.waiters = 0
        self.task: asyncio.Task[None] | None = None
        self.lease: Lease | None = None  # held while loading, given back after the L2 write
        self.demanded = demanded  # asked for before (see admission.py); waiters add to it
        self.parent = parent  # the load this one is made for (an answer's raw series), if any
        self.requester = requester  # the client whose miss started it (None: internal)

    def request(self, *, cold: bool) -> LoadRequest:
        """This load as the admit hooks see it (`cold`: nothing of the key servable in L1)."""
        return LoadRequest(
            self.key,
            background=self.refreshing,
            ahead=self.speculative,
            in_demand=self.in_demand,
            cold=cold,
            requester=self.requester,
        )

    @property
    def refreshing(self) -> bool:
        """A refresh, or a load made for one."""
        return self.background or (self.parent is not None and self.parent.refreshing)

    @property
    def speculative(self) -> bool:
        """A refresh-ahead, or a load made for one."""
        return self.ahead or (self.parent is not None and self.parent.speculative)

    @property
    def in_demand(self) -> bool:
        """Asked for twice: see admission.py."""
        return (
            self.demanded
            or self.background
            or self.waiters >= 2
            or (self.parent is not None and self.parent.in_demand)
        )
