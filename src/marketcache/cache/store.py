"""The L1 store: entries by key, bounded by bytes measured on what it holds."""

from __future__ import annotations

import sys

from marketcache.cache.entry import NEVER, Entry
from marketcache.cache.policy import EvictionPolicy, make_policy

# Bytes an entry costs beyond its key and value objects (whose own sizes come from
# sys.getsizeof, headers included), with SIEVE: the Entry object with its size int
# and time floats, its slot in the store's dict, its items in the purge and
# refresh-ahead heaps, and the loader closure kept for refreshes (~250 B for a
# closure with a default argument, as a service builds per request). Policies
# add their own bookkeeping (`entry_overhead`). Measured by RSS growth over 100k
# entries in bench/cache_memory.py, so that the count does not undercount memory.
ENTRY_OVERHEAD = 830


def entry_size(key: str, value: bytes, policy_overhead: int = 0) -> int:
    """The bytes an entry for `key` holding `value` is counted as."""
    return sys.getsizeof(key) + sys.getsizeof(value) + ENTRY_OVERHEAD + policy_overhead


class Store:
    """Entries by key; evicts through its policy to keep `bytes <= max_bytes`.

    `entries` is exposed for the cache's hit path (a plain dict lookup); only
    the store mutates it.
    """

    def __init__(self, max_bytes: int, policy: str = "sieve", max_entry_share: float = 0.1) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be > 0")
        if not 0 < max_entry_share <= 1:
            raise ValueError("max_entry_share must be in (0, 1]")
        self.max_bytes = max_bytes
        self.max_entry_bytes = int(max_bytes * max_entry_share)
        self.policy: EvictionPolicy = make_policy(policy, max_bytes)
        self._policy_overhead = self.policy.entry_overhead
        self.entries: dict[str, Entry] = {}
        self.bytes = 0
        self.evictions = 0
        self.rejected = 0  # values too large to be stored

    def __len__(self) -> int:
        return len(self.entries)

    def value(self, key: str) -> bytes | None:
        """The value held for `key`, whatever its age: to build on, never to serve."""
        entry = self.entries.get(key)
        return None if entry is None else entry.value

    def size_of(self, key: str, value: bytes) -> int:
        """The bytes an entry for `key` holding `value` is counted as in this store."""
        return sys.getsizeof(key) + sys.getsizeof(value) + ENTRY_OVERHEAD + self._policy_overhead

    def put(
        self, key: str, value: bytes, stored_at: float, fresh_until: float, stale_until: float
    ) -> Entry | None:
        """Store `value` under `key` (in place if present); None if it was not kept.

        A value larger than the entry share of the bound is not stored, and an
        older value for the key is dropped with it (it is outdated).
        """
        size = self.size_of(key, value)
        if size > self.max_entry_bytes:
            self.rejected += 1
            self.remove(key)
            return None
        entry = self.entries.get(key)
        if entry is None:
            entry = Entry(key, value, size, stored_at, fresh_until, stale_until)
            self.entries[key] = entry
            self.policy.insert(entry)
            self.bytes += size
        else:
            old_size = entry.size
            entry.value = value
            entry.size = size
            entry.stored_at = stored_at
            entry.fresh_until = fresh_until
            entry.stale_until = stale_until
            entry.read_fresh = False
            entry.retry_at = NEVER
            self.bytes += size - old_size
            self.policy.update(entry, old_size)
        self._evict_to_bound()
        return entry if self.entries.get(key) is entry else None

    def _evict_to_bound(self) -> None:
        while self.bytes > self.max_bytes:
            victim = self.policy.evict()
            del self.entries[victim.key]
            self.bytes -= victim.size
            self.evictions += 1
            victim.loader = None

    def remove(self, key: str) -> Entry | None:
        """Drop the entry for `key`, if any, and return it."""
        entry = self.entries.pop(key, None)
        if entry is not None:
            self.policy.remove(entry)
            self.bytes -= entry.size
            entry.loader = None
        return entry

    def remove_prefix(self, prefix: str) -> int:
        """Drop every entry whose key starts with `prefix`; how many were dropped."""
        doomed = [key for key in self.entries if key.startswith(prefix)]
        for key in doomed:
            self.remove(key)
        return len(doomed)

    def clear(self) -> int:
        """Drop every entry; how many there were."""
        count = len(self.entries)
        self.policy.clear()
        for entry in self.entries.values():
            entry.loader = None
        self.entries.clear()
        self.bytes = 0
        return count

    def counted_bytes(self) -> int:
        """The byte count recomputed from the entries (for checks; O(n))."""
        return sum(entry.size for entry in self.entries.values())
