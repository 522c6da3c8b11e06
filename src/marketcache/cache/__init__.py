"""The cache core: get_or_load over a byte-bounded L1 store and an optional L2 backend.

It knows nothing of markets: keys are strings, values are bytes.
"""

from marketcache.cache.backend import MISSING, Backend, BackendEntry, MemoryBackend, Missing
from marketcache.cache.cache import Cache
from marketcache.cache.entry import Freshness, Loaded, Loader, Result, Status
from marketcache.cache.options import CacheOptions
from marketcache.cache.stats import CacheStats, TaskState
from marketcache.cache.store import ENTRY_OVERHEAD, Store, entry_size
from marketcache.errors import CacheOverloaded

__all__ = [
    "ENTRY_OVERHEAD",
    "MISSING",
    "Backend",
    "BackendEntry",
    "Cache",
    "CacheOptions",
    "CacheOverloaded",
    "CacheStats",
    "Freshness",
    "Loaded",
    "Loader",
    "MemoryBackend",
    "Missing",
    "Result",
    "Status",
    "Store",
    "TaskState",
    "entry_size",
]
