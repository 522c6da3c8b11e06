"""Eviction policies for the L1 store: LRU, SIEVE and S3-FIFO, all over byte-sized entries.

A policy only orders entries; the store owns them and their byte count. `access`
is on the hit path and must stay a few attribute operations. `evict` picks a
victim, detaches it from the policy and returns it; the store then drops it.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Literal, Protocol

from marketcache.cache.entry import Entry

PolicyName = Literal["lru", "sieve", "s3fifo"]


class EvictionPolicy(Protocol):
    """The order in which a byte-bounded store gives entries up."""

    name: str
    entry_overhead: int  # bytes of bookkeeping per entry, added to each entry's counted size

    def insert(self, entry: Entry) -> None:
        """A new entry joined the store."""
        ...

    def access(self, entry: Entry) -> None:
        """An entry was read (hot path)."""
        ...

    def update(self, entry: Entry, old_size: int) -> None:
        """An entry's value (and size) was replaced in place."""
        ...

    def remove(self, entry: Entry) -> None:
        """An entry left the store for another reason than eviction."""
        ...

    def evict(self) -> Entry:
        """Choose the next victim, detach it and return it (the store is not empty)."""
        ...

    def clear(self) -> None:
        """Forget every entry."""
        ...


class LRUPolicy:
    """Least recently used: a read moves the entry to the young end."""

    name = "lru"
    entry_overhead = 96  # an OrderedDict node and slot

    def __init__(self, max_bytes: int) -> None:
        self._order: OrderedDict[str, Entry] = OrderedDict()

    def insert(self, entry: Entry) -> None:
        self._order[entry.key] = entry

    def access(self, entry: Entry) -> None:
        self._order.move_to_end(entry.key)

    def update(self, entry: Entry, old_size: int) -> None:
        pass

    def remove(self, entry: Entry) -> None:
        self._order.pop(entry.key, None)

    def evict(self) -> Entry:
        return self._order.popitem(last=False)[1]

    def clear(self) -> None:
        self._order.clear()


class SievePolicy:
    """SIEVE (Zhang et al., NSDI'24): a FIFO with a visited bit and a hand that sweeps it.

    A read only sets a bit (no reordering, so hits are cheap); the hand, moving
    from old to new, clears set bits and evicts the first entry found unvisited.
    """

    name = "sieve"
    entry_overhead = 0  # its links live in the Entry's slots

    def __init__(self, max_bytes: int) -> None:
        self._head: Entry | None = None  # newest
        self._tail: Entry | None = None  # oldest
        self._hand: Entry | None = None

    def insert(self, entry: Entry) -> None:
        entry.mark = 0
        entry.prev = None
        entry.next = self._head
        if self._head is not None:
            self._head.prev = entry
        self._head = entry
        if self._tail is None:
            self._tail = entry

    def access(self, entry: Entry) -> None:
        entry.mark = 1

    def update(self, entry: Entry, old_size: int) -> None:
        pass

    def remove(self, entry: Entry) -> None:
        if self._hand is entry:
            self._hand = entry.prev
        if entry.prev is not None:
            entry.prev.next = entry.next
        else:
            self._head = entry.next
        if entry.next is not None:
            entry.next.prev = entry.prev
        else:
            self._tail = entry.prev
        entry.prev = entry.next = None

    def evict(self) -> Entry:
        victim = self._hand or self._tail
        assert victim is not None, "evict from an empty policy"
        while victim.mark:
            victim.mark = 0
            victim = victim.prev or self._tail
            assert victim is not None
        self._hand = victim.prev
        self.remove(victim)
        return victim

    def clear(self) -> None:
        entry = self._head
        while entry is not None:  # unlink so the entries do not keep each other alive
            following = entry.next
            entry.prev = entry.next = None
            entry = following
        self._head = self._tail = self._hand = None


_SMALL, _MAIN = 0, 1


class S3FIFOPolicy:
    """S3-FIFO (Yang et al., SOSP'23): a small probation FIFO, a main FIFO and a ghost list.

    New entries enter the small queue (about 10 % of the bytes); one read there
    promotes them to main when they reach its tail, otherwise they leave and
    their key is remembered in the ghost list, so that a quick return goes
    straight to main. Main is a FIFO with reinsertion (a 2-bit frequency).
    """

    name = "s3fifo"
    entry_overhead = 96 + 192  # an OrderedDict node, and a ghost key (as many as main holds)

    def __init__(self, max_bytes: int, small_share: float = 0.1) -> None:
        self._small: OrderedDict[str, Entry] = OrderedDict()
        self._main: OrderedDict[str, Entry] = OrderedDict()
        self._ghost: OrderedDict[str, None] = OrderedDict()
        self._small_bytes = 0
        self._small_target = max(1, int(max_bytes * small_share))

    def insert(self, entry: Entry) -> None:
        entry.mark = 0
        if entry.key in self._ghost:  # evicted recently after one pass: it deserves main
            del self._ghost[entry.key]
            entry.segment = _MAIN
            self._main[entry.key] = entry
        else:
            entry.segment = _SMALL
            self._small[entry.key] = entry
            self._small_bytes += entry.size

    def access(self, entry: Entry) -> None:
        if entry.mark < 3:
            entry.mark += 1

    def update(self, entry: Entry, old_size: int) -> None:
        if entry.segment == _SMALL:
            self._small_bytes += entry.size - old_size

    def remove(self, entry: Entry) -> None:
        if entry.segment == _SMALL:
            if self._small.pop(entry.key, None) is not None:
                self._small_bytes -= entry.size
        else:
            self._main.pop(entry.key, None)

    def evict(self) -> Entry:
        while True:
            if self._small and (self._small_bytes > self._small_target or not self._main):
                key, entry = self._small.popitem(last=False)
                self._small_bytes -= entry.size
                if entry.mark:
                    entry.mark = 0
                    entry.segment = _MAIN
                    self._main[key] = entry
                    continue
                self._remember(key)
                return entry
            key, entry = self._main.popitem(last=False)
            if entry.mark:
                entry.mark -= 1
                self._main[key] = entry
                continue
            return entry

    def _remember(self, key: str) -> None:
        self._ghost[key] = None
        while len(self._ghost) > max(16, len(self._main)):
            self._ghost.popitem(last=False)

    def clear(self) -> None:
        self._small.clear()
        self._main.clear()
        self._ghost.clear()
        self._small_bytes = 0


POLICIES: dict[str, type[LRUPolicy] | type[SievePolicy] | type[S3FIFOPolicy]] = {
    "lru": LRUPolicy,
    "sieve": SievePolicy,
    "s3fifo": S3FIFOPolicy,
}


def make_policy(name: str, max_bytes: int) -> EvictionPolicy:
    """The policy called `name` for a store of `max_bytes`."""
    try:
        return POLICIES[name](max_bytes)
    except KeyError:
        raise ValueError(f"unknown eviction policy {name!r}; one of {sorted(POLICIES)}") from None
