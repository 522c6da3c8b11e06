"""The L1 store and its eviction policies."""

from __future__ import annotations

import pytest

from marketcache.cache import ENTRY_OVERHEAD, Store, entry_size
from marketcache.cache.policy import POLICIES, LRUPolicy, S3FIFOPolicy

ALL = sorted(POLICIES)


def put(store: Store, key: str, size: int = 100) -> None:
    store.put(key, b"x" * size, 0.0, 10.0, 20.0)


def test_entry_size_counts_key_value_and_overhead() -> None:
    small = entry_size("k", b"")
    assert entry_size("k", b"x" * 1000) == small + 1000
    assert entry_size("kk", b"") == small + 1
    assert small > ENTRY_OVERHEAD
    assert Store(1000, "sieve").size_of("k", b"x") == entry_size("k", b"x")
    assert Store(1000, "lru").size_of("k", b"x") == entry_size("k", b"x", LRUPolicy.entry_overhead)
    assert Store(1000, "s3fifo").size_of("k", b"") > Store(1000, "lru").size_of("k", b"")


@pytest.mark.parametrize("policy", ALL)
def test_bytes_stay_under_the_bound_and_match_the_entries(policy: str) -> None:
    store = Store(20_000, policy, max_entry_share=0.5)
    for i in range(500):
        put(store, f"key:{i}", size=(i * 37) % 1500)
        assert store.bytes <= store.max_bytes
        assert store.bytes == store.counted_bytes()
    assert store.evictions > 0
    assert len(store) == len(store.entries)


@pytest.mark.parametrize("policy", ALL)
def test_update_in_place_adjusts_bytes(policy: str) -> None:
    store = Store(100_000, policy)
    put(store, "a", 100)
    before = store.bytes
    put(store, "a", 300)
    assert store.bytes == before + 200
    assert len(store) == 1
    entry = store.entries["a"]
    assert (entry.stored_at, entry.read_fresh) == (0.0, False)


@pytest.mark.parametrize("policy", ALL)
def test_too_large_values_are_rejected_and_drop_the_old_one(policy: str) -> None:
    store = Store(10_000, policy, max_entry_share=0.25)
    put(store, "a", 100)
    assert store.put("a", b"x" * 3000, 0.0, 1.0, 2.0) is None
    assert "a" not in store.entries
    assert (store.bytes, store.rejected) == (0, 1)


@pytest.mark.parametrize("policy", ALL)
def test_remove_prefix_and_clear(policy: str) -> None:
    store = Store(100_000, policy)
    for key in ["a:1", "a:2", "b:1"]:
        put(store, key)
    assert store.remove_prefix("a:") == 2
    assert list(store.entries) == ["b:1"]
    assert store.bytes == store.counted_bytes()
    assert store.clear() == 1
    assert store.bytes == 0
    for i in range(50):  # still works after clear
        put(store, f"c:{i}", 2000)
    assert store.bytes <= store.max_bytes


def test_lru_evicts_the_least_recently_read() -> None:
    store = Store(
        3 * entry_size("k0", b"x" * 100, LRUPolicy.entry_overhead), "lru", max_entry_share=1.0
    )
    for key in ["k0", "k1", "k2"]:
        put(store, key)
    store.policy.access(store.entries["k0"])
    put(store, "k3")
    assert sorted(store.entries) == ["k0", "k2", "k3"]


def test_sieve_keeps_visited_entries_and_evicts_unvisited() -> None:
    store = Store(3 * entry_size("k0", b"x" * 100), "sieve", max_entry_share=1.0)
    for key in ["k0", "k1", "k2"]:
        put(store, key)
    store.policy.access(store.entries["k0"])
    put(store, "k3")  # hand passes k0 (visited: kept, bit cleared), evicts k1
    assert sorted(store.entries) == ["k0", "k2", "k3"]
    put(store, "k4")  # hand continues from where it stopped: k2
    assert sorted(store.entries) == ["k0", "k3", "k4"]
    store.remove("k3")  # removal from the middle keeps the list whole
    put(store, "k5")
    put(store, "k6")
    assert store.bytes <= store.max_bytes
    assert store.bytes == store.counted_bytes()


def test_s3fifo_sends_one_hit_wonders_out_and_returning_keys_to_main() -> None:
    size = entry_size("k00", b"x" * 100, S3FIFOPolicy.entry_overhead)
    store = Store(10 * size, "s3fifo", max_entry_share=1.0)
    for i in range(10):
        put(store, f"k{i:02d}")
    store.policy.access(store.entries["k00"])
    for i in range(10, 20):  # a scan of new keys
        put(store, f"k{i:02d}")
    assert "k00" in store.entries  # read once: promoted to main, survives the scan
    assert "k01" not in store.entries
    put(store, "k01")  # back soon after its eviction: remembered by the ghost list
    for i in range(20, 26):
        put(store, f"k{i:02d}")
    assert "k01" in store.entries
    assert store.bytes == store.counted_bytes()


def test_unknown_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown eviction policy"):
        Store(1000, "arc")
