"""Who a load is for: the client whose request is being served, set by the API per request.

The cache never sees HTTP: the API sets `REQUESTER` (a client address, or any
opaque name) around each client request, and the cache reads it when a miss
starts a load, so a client's cold loads can be budgeted (`cold_loads.py`).
Background refreshes run without a requester, whoever's read triggered them;
warming and other internal work run without one too (`acting_for(None)`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

REQUESTER: ContextVar[str | None] = ContextVar("marketcache_requester", default=None)


def current_requester() -> str | None:
    """The client the current task serves, or None (internal work)."""
    return REQUESTER.get()


@contextmanager
def acting_for(requester: str | None) -> Iterator[None]:
    """Serve `requester` (None: nobody, e.g. warming) inside the block."""
    token = REQUESTER.set(requester)
    try:
        yield
    finally:
        REQUESTER.reset(token)
