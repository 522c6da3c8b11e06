"""The values the cache deals in: freshness, loader results, lookup results, stored entries."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

Status = Literal["hit", "stale", "miss", "coalesced"]

NEVER = -math.inf  # one shared float rather than one per entry


@dataclass(frozen=True, slots=True)
class Freshness:
    """How long a value is fresh after its load, then how long it may still be served stale."""

    fresh: float
    stale: float

    def __post_init__(self) -> None:
        if not (self.fresh >= 0 and self.stale >= 0):  # also rejects NaN
            raise ValueError(f"freshness windows must be >= 0, got {self.fresh}, {self.stale}")


@dataclass(frozen=True, slots=True)
class Loaded:
    """A loader's value together with the freshness it chose for it.

    `as_of` is when the data the value was made from was fetched (an answer computed
    now from candles fetched 3 s ago is 3 s old): its windows start there. None: now.
    """

    value: bytes
    freshness: Freshness
    as_of: float | None = None


@dataclass(frozen=True, slots=True)
class Result:
    """A value and how it was served: its status, its age and when it was loaded."""

    value: bytes
    status: Status
    age: float
    stored_at: float


Loader = Callable[[], Awaitable[bytes | Loaded]]


class Entry:
    """One value held by the L1 store, with its windows and its eviction bookkeeping.

    Entries are updated in place when their key is reloaded, so an eviction
    policy keeps its position and marks across refreshes (a refresh is not a read).
    """

    __slots__ = (
        "fresh_until",
        "freshness",
        "key",
        "loader",
        "mark",
        "next",
        "prev",
        "read_fresh",
        "retry_at",
        "segment",
        "size",
        "stale_until",
        "stored_at",
        "value",
    )

    def __init__(
        self,
        key: str,
        value: bytes,
        size: int,
        stored_at: float,
        fresh_until: float,
        stale_until: float,
    ) -> None:
        self.key = key
        self.value = value
        self.size = size
        self.stored_at = stored_at
        self.fresh_until = fresh_until
        self.stale_until = stale_until
        self.loader: Loader | None = None  # the last loader seen for the key (refreshes)
        self.freshness: Freshness | None = None  # the freshness that goes with it
        self.read_fresh = False  # read during the current fresh window (refresh-ahead)
        self.retry_at = NEVER  # no background refresh before this (after a failure)
        self.mark = 0  # policy: SIEVE's visited bit, S3-FIFO's frequency
        self.segment = 0  # policy: S3-FIFO's queue
        self.prev: Entry | None = None  # policy: SIEVE's list
        self.next: Entry | None = None

    def __repr__(self) -> str:
        return f"Entry({self.key!r}, {self.size}B, stored_at={self.stored_at})"


def windows(stored_at: float, freshness: Freshness) -> tuple[float, float]:
    """The end of the fresh window and of the stale window for a value loaded at `stored_at`."""
    fresh_until = stored_at + freshness.fresh
    return fresh_until, fresh_until + freshness.stale


_new = object.__new__
_slots = vars(Result)  # the slot descriptors
_set_value = _slots["value"].__set__
_set_status = _slots["status"].__set__
_set_age = _slots["age"].__set__
_set_stored_at = _slots["stored_at"].__set__


def make_result(value: bytes, status: Status, age: float, stored_at: float) -> Result:
    """`Result(value, status, age, stored_at)`, built for the hit path.

    A frozen dataclass's __init__ goes through object.__setattr__ once per field
    (about 0.5 µs here); setting the slots through their descriptors gives the
    same immutable object in about half the time.
    """
    result: Result = _new(Result)
    _set_value(result, value)
    _set_status(result, status)
    _set_age(result, age)
    _set_stored_at(result, stored_at)
    return result
