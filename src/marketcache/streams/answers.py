"""When an answer computed from a streamed series must be computed again."""

from __future__ import annotations

from marketcache.answer import is_streamed as answer_streamed
from marketcache.cache.writes import Writes
from marketcache.models import is_streamed


def outdated(writes: Writes, raw_key: str, answer_key: str, now: float) -> bool:
    """Whether an answer, streamed or of a streamed series, is behind that series: a newer
    value came (recompute it from the cache, on this read: not on every message), or the
    series stopped being fresh before the answer did (its stream dropped: REST now)."""
    raw, answer = writes.held(raw_key), writes.held(answer_key)
    if raw is None or answer is None:
        return False
    if not (is_streamed(raw.value) or answer_streamed(answer.value)):
        return False
    return raw.stored_at > answer.stored_at or raw.fresh_until <= now < answer.fresh_until
