"""Whether the service can serve: the one status `/health` and `/cache/health` both report.

- `unhealthy` (HTTP 503): the exchange is unreachable and the cache holds
  nothing servable (no cache, an empty cache, or no market entry still within
  its stale window): every market request would fail, so traffic should go
  elsewhere.
- `degraded` (200): the exchange is unreachable or failing, but the cache still
  serves — stale copies where the fresh ones ran out.
- `healthy` (200): otherwise.

Alerts (hit rate, memory, error rate, ...) say how well the service does; they
are reported next to this status and do not change it. The cache is read, never
changed: entries are counted from the L1 store as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from marketcache.cache import Cache
from marketcache.keys import ANSWER_PREFIX, RAW_KINDS

Status = Literal["healthy", "degraded", "unhealthy"]


@dataclass(frozen=True, slots=True)
class Servable:
    """Market entries held in L1: all, those still servable, those past fresh but servable."""

    entries: int = 0
    servable: int = 0
    stale: int = 0

    def to_dict(self) -> dict[str, int]:
        """As the API shows it."""
        return {"entries": self.entries, "servable": self.servable, "stale": self.stale}


MARKET_PREFIXES = (*(f"{kind}:" for kind in RAW_KINDS), ANSWER_PREFIX)
NOT_MARKET_PREFIX = f"{ANSWER_PREFIX}markets:"  # the `/markets` answers: not one market's


def is_market_key(key: str) -> bool:
    """A raw series or an answer of one market (not the exchange's list of markets)."""
    return key.startswith(MARKET_PREFIXES) and not key.startswith(NOT_MARKET_PREFIX)


def servable_entries(cache: Cache | None, now: float) -> Servable:
    """Count the market entries of L1 by window (no await: the store cannot change meanwhile)."""
    if cache is None:
        return Servable()
    entries = servable = stale = 0
    for key, entry in cache.store.entries.items():
        if not is_market_key(key):
            continue
        entries += 1
        if entry.stale_until > now:
            servable += 1
            if entry.fresh_until <= now:
                stale += 1
    return Servable(entries, servable, stale)


@dataclass(frozen=True, slots=True)
class ServingHealth:
    """The status, why, and what it was derived from."""

    status: Status
    reasons: list[str] = field(default_factory=list)
    reachable: bool = True
    failing: bool = False
    servable: Servable | None = None  # None when it was not counted (the exchange answers)

    @property
    def http_status(self) -> int:
        """503 when unhealthy (take the replica out of rotation), else 200."""
        return 503 if self.status == "unhealthy" else 200

    def to_dict(self) -> dict[str, Any]:
        """The evidence, as `/cache/health` shows it."""
        return {
            "exchange_reachable": self.reachable,
            "exchange_failing": self.failing,
            "entries": None if self.servable is None else self.servable.to_dict(),
        }


def serving_health(
    *, reachable: bool, failing: bool, cache_enabled: bool, servable: Servable | None
) -> ServingHealth:
    """The status from the exchange's state and what the cache can still serve.

    `reachable`: the exchange answered its last ping; `failing`: most of its recent
    calls failed. `servable` is only needed when one of the two says it is down.
    """
    if reachable and not failing:
        return ServingHealth("healthy", [], reachable, failing, servable)
    reasons = ["exchange unreachable" if not reachable else "exchange failing"]
    held = servable or Servable()
    if not cache_enabled:
        reasons.append("no cache")
    elif held.servable == 0:
        reasons.append("nothing servable in the cache")
    elif held.stale > 0:
        reasons.append(f"serving {held.stale} stale entries")
    else:
        reasons.append(f"serving {held.servable} fresh entries")
    status: Status = "unhealthy" if not reachable and held.servable == 0 else "degraded"
    return ServingHealth(status, reasons, reachable, failing, servable)
