"""Admission: what a load that is about to go upstream looks like to the hooks that may refuse it.

A load is *in demand* ("asked for twice") when any of these holds:
- it is a refresh: of a key held in L1 that clients read (a stale read, or a read
  in its fresh window for refresh-ahead), or a reload of an entry past its grace
  that a client reads again;
- more than one caller waits on it when it is admitted (coalesced callers);
- the same key missed before within `demand_window` seconds (`Demand` keeps the
  last miss of up to `demand_keys` keys);
- it is made on behalf of a load in demand (a raw series loaded for an answer).
Otherwise it is a key's first ask: one caller, and no miss of it in the window.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LoadRequest:
    """A load about to call its loader, as an admit hook sees it."""

    key: str
    background: bool  # a refresh (stale-triggered or refresh-ahead), or made for one
    ahead: bool  # a refresh-ahead (speculative: the key was read, but is not stale yet)
    in_demand: bool  # asked for twice (see the module's docstring)
    cold: bool  # nothing servable of the key in L1 (a client waits for it)
    requester: str | None  # the client whose miss started it (None: internal or background)


AdmitHook = Callable[[LoadRequest], Exception | None]
"""Asked before a loader call: an error refuses the load (e.g. the exchange's rate budget
is spent); the load then ends as if the loader had raised it, without calling it."""


class Demand:
    """The last miss of each recently missed key, oldest forgotten first."""

    def __init__(self, window: float, capacity: int) -> None:
        if window < 0 or capacity < 0:
            raise ValueError("window and capacity must be >= 0")
        self.window = window
        self.capacity = capacity
        self._last_miss: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._last_miss)

    def missed(self, key: str, now: float) -> bool:
        """Note a miss of `key` at `now`; whether it also missed within the window before."""
        last = self._last_miss.pop(key, None)
        if self.capacity:
            self._last_miss[key] = now
            while len(self._last_miss) > self.capacity:
                self._last_miss.popitem(last=False)
        return last is not None and now - last <= self.window

    def clear(self) -> None:
        """Forget every miss."""
        self._last_miss.clear()
