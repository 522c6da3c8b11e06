"""HTTP caching of market answers read by GET: Cache-Control, Age, ETag, 304.

An answer is fresh exactly as long as its raw data (`Stamps`), so:
- `Cache-Control: max-age` is what is left of the fresh window in whole seconds,
  rounded down, less one: caches (nginx among them) count time in whole seconds
  and may keep a copy up to a second past its max-age, so this is the largest
  figure no such cache can overstay. `stale-while-revalidate` the share of the stale window the
  service itself serves at once (`CACHE_STALE_GRACE`), `stale-if-error` the whole
  stale window. A cache that also subtracts `Age` only expires sooner: no cache
  in front can serve an answer past its freshness.
- `Age`: seconds since the data left the exchange.
- `ETag`: the version of the data (when its raw data was fetched): an answer
  computed from the same raw data is the same `data`, whichever replica made it.
  `meta` (how this response was served) is not part of what it validates.
"""

from __future__ import annotations

from collections.abc import Iterable

from marketcache.answer import Answer


def etag(answer: Answer) -> str:
    """The strong validator of the answer's data."""
    return f'"{round(answer.stamps.fetched_at * 1_000_000):x}"'


def headers(answer: Answer, now: float, grace: float | None) -> dict[str, str]:
    """`Cache-Control`, `Age` and `ETag` for a GET of `answer` at `now`."""
    stamps = answer.stamps
    fresh_for = stamps.fresh_until - stamps.fetched_at
    stale_for = max(0.0, stamps.stale_until - stamps.fresh_until)
    revalidate = stale_for if grace is None else min(stale_for, grace * fresh_for)
    max_age = max(0, int(stamps.fresh_until - now) - 1)
    return {
        "Cache-Control": (
            f"max-age={max_age}, stale-while-revalidate={int(revalidate)}, "
            f"stale-if-error={int(stale_for)}"
        ),
        "Age": str(max(0, int(now - stamps.fetched_at))),
        "ETag": etag(answer),
    }


def matches(if_none_match: str | None, tag: str) -> bool:
    """Whether an `If-None-Match` header names `tag` (or `*`); weak comparison."""
    if not if_none_match:
        return False
    return any(candidate in ("*", tag) for candidate in _tags(if_none_match))


def _tags(header: str) -> Iterable[str]:
    for part in header.split(","):
        part = part.strip()
        yield part[2:] if part.startswith("W/") else part
