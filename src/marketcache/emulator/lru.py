"""A small least-recently-used map for generated series, bounded by total weight."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRU(Generic[K, V]):
    """Keeps values whose summed `weigh(value)` stays within `capacity` (default: count)."""

    def __init__(self, capacity: int, weigh: Callable[[V], int] | None = None) -> None:
        self.capacity = capacity
        self._weigh = weigh or (lambda _value: 1)
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self.weight = 0

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        """The cached value for `key`, built by `make()` on a miss."""
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
            return found[0]
        value = make()
        weight = max(1, self._weigh(value))
        self._items[key] = (value, weight)
        self.weight += weight
        while self.weight > self.capacity and len(self._items) > 1:
            _, (_, dropped) = self._items.popitem(last=False)
            self.weight -= dropped
        return value

    def __contains__(self, key: K) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)
