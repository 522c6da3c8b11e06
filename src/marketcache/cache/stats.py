"""Cache counters, their snapshot (`CacheStats`) and the state of background tasks.

Counting rule: every `get_or_load` call, and every `peek` that returns a value,
is one lookup and exactly one of hits, stale_hits, misses or coalesced — so
`hits + stale_hits + misses + coalesced == lookups` always. A `peek` that
returns None counts nothing (its caller goes on to `get_or_load`, which counts).
In `get_or_load`, the caller that starts a load counts a miss (or a hit when L2
had the value fresh), callers that wait on someone else's load count coalesced,
whatever the load's outcome; an answer served stale (stale hit, or fallback
after a failed load) counts as a stale hit. A leader whose value came from
another replica's load (through its lease) counts coalesced.

Replica counters (a shared L2 only): `lease_waits` flights that waited for
another replica's load, `lease_takeovers` of which took the lease over after
it ended without a value, `lease_skips` background refreshes left to the
replica holding the lease, `remote_loads` values received from another
replica's load, `fanout_updates` L1 entries replaced by another replica's load,
`fanout_drops` L1 entries dropped by another replica's invalidation or clear.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


class Counters:
    """The cache's mutable counters (plain ints, bumped on the hot path)."""

    __slots__ = (
        "backend_errors",
        "backend_hits",
        "coalesced",
        "expirations",
        "fanout_drops",
        "fanout_updates",
        "hits",
        "invalidations",
        "lease_skips",
        "lease_takeovers",
        "lease_waits",
        "load_errors",
        "loads",
        "lookups",
        "misses",
        "refresh_ahead",
        "refreshes",
        "remote_loads",
        "stale_hits",
        "timeouts",
        "waiters_refused",
    )

    def __init__(self) -> None:
        self.lookups = 0
        self.hits = 0
        self.stale_hits = 0
        self.misses = 0
        self.coalesced = 0
        self.loads = 0
        self.load_errors = 0
        self.refreshes = 0
        self.refresh_ahead = 0
        self.expirations = 0
        self.invalidations = 0
        self.timeouts = 0
        self.waiters_refused = 0
        self.backend_hits = 0
        self.backend_errors = 0
        self.lease_waits = 0
        self.lease_takeovers = 0
        self.lease_skips = 0
        self.remote_loads = 0
        self.fanout_updates = 0
        self.fanout_drops = 0


@dataclass(frozen=True, slots=True)
class CacheStats:
    """A snapshot of the cache's counters and occupancy."""

    lookups: int
    hits: int  # fresh hits (L1, or L2 on an L1 miss)
    stale_hits: int  # answers served stale (in their stale window)
    misses: int  # lookups that started a load
    coalesced: int  # lookups that waited on a load someone else started
    loads: int  # loader calls (foreground and background)
    load_errors: int
    refreshes: int  # background loads (stale-triggered and refresh-ahead)
    refresh_ahead: int  # of which refresh-ahead
    evictions: int
    expirations: int  # entries dropped past their stale window
    invalidations: int  # entries dropped by invalidate / invalidate_prefix / clear
    rejected: int  # values too large to store
    timeouts: int  # waiters whose deadline passed
    waiters_refused: int  # callers refused because a key had too many waiters
    backend_hits: int  # L1 misses answered by L2
    backend_errors: int
    backend_available: bool  # an L2 is configured and its last call succeeded
    in_flight: int  # loads running now
    entries: int
    bytes: int
    max_bytes: int
    lease_waits: int = 0
    lease_takeovers: int = 0
    lease_skips: int = 0
    remote_loads: int = 0
    fanout_updates: int = 0
    fanout_drops: int = 0
    backend_shared: bool = False  # L2 coordinates replicas (leases, fan-out)

    @property
    def used_fraction(self) -> float:
        """Bytes held over the bound (0..1)."""
        return self.bytes / self.max_bytes if self.max_bytes else 0.0

    @property
    def hit_rate(self) -> float:
        """Lookups answered from the cache (fresh or stale) over all lookups (0..1)."""
        return (self.hits + self.stale_hits) / self.lookups if self.lookups else 0.0

    def to_dict(self) -> dict[str, int | float | bool]:
        """Every counter, plus used_fraction and hit_rate."""
        out: dict[str, int | float | bool] = asdict(self)
        out["used_fraction"] = self.used_fraction
        out["hit_rate"] = self.hit_rate
        return out


@dataclass(slots=True)
class TaskState:
    """How a background task has fared: runs, the last run (clock time), errors."""

    running: bool = False
    runs: int = 0
    last_run: float | None = None
    last_error: str | None = None
    errors: int = 0

    def record(self, now: float, error: BaseException | None = None) -> None:
        """Count one run ending at `now`, failed with `error` if given."""
        self.runs += 1
        self.last_run = now
        if error is not None:
            self.errors += 1
            self.last_error = f"{type(error).__name__}: {error}"
