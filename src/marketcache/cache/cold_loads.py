"""Each client's budget of cold loads: loads of keys nobody had cached, started by its misses.

A client flooding distinct keys would spend the exchange's budget for everyone;
with this, each requester (see `requester.py`) gets `per_minute` cold loads a
minute (a token bucket: bursts up to `per_minute`, refilled evenly), past which
its cold misses are refused with `ClientRateLimited` (a 429 with Retry-After)
while its hits, and every other client, go on as before. Requesters are kept
least recently seen first and the oldest forgotten past `max_requesters`, so the
table stays bounded whoever asks.
"""

from __future__ import annotations

from collections import OrderedDict

from marketcache.cache.admission import LoadRequest
from marketcache.cache.bucket import TokenBucket
from marketcache.clock import Clock
from marketcache.errors import ClientRateLimited


class ColdLoadBudget:
    """`per_minute` cold loads per requester, refused past it (the cache's cold admit hook)."""

    def __init__(self, per_minute: int, clock: Clock, *, max_requesters: int = 10_000) -> None:
        if per_minute <= 0 or max_requesters <= 0:
            raise ValueError("per_minute and max_requesters must be > 0")
        self.per_minute = per_minute
        self.max_requesters = max_requesters
        self._clock = clock
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()
        self.admitted = 0
        self.refused = 0

    def admit(self, request: LoadRequest) -> Exception | None:
        """Take one of the requester's cold loads, or refuse with the seconds until the next."""
        requester = request.requester
        if requester is None:
            return None
        bucket = self._buckets.pop(requester, None)
        if bucket is None:
            bucket = TokenBucket(self.per_minute / 60.0, burst=float(self.per_minute))
        self._buckets[requester] = bucket  # most recently seen last
        if len(self._buckets) > self.max_requesters:
            self._buckets.popitem(last=False)
        if bucket.take(self._clock.now()):
            self.admitted += 1
            return None
        self.refused += 1
        return ClientRateLimited(bucket.wait_time())

    def to_dict(self) -> dict[str, int]:
        """The budget as health reports show it."""
        return {
            "per_minute": self.per_minute,
            "requesters": len(self._buckets),
            "admitted": self.admitted,
            "refused": self.refused,
        }
