"""Hit rate of each eviction policy on Zipf workloads over market-like keys.

    .venv/bin/python bench/cache_eviction.py [--requests 200000] [--seed 1]

2,000 keys shaped like the service's (raw series and answers over symbols and
timeframes), value sizes by kind (a ticker is small, 500 candles are large);
the L1 bound fits 10 % or 30 % of all entries' bytes. Each request reads the
key from the store (a hit touches the policy) and stores it on a miss, as
get_or_load does. Workloads: stationary Zipf(s) for s in 0.8, 1.0, 1.2, and a
"drifting" Zipf(1.0) whose popularity ranks are reshuffled every 20k requests
(the hot symbols of the day change). Also prints each policy's cost per request.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from marketcache.cache import Store, entry_size
from marketcache.cache.policy import POLICIES

SYMBOLS = [f"{base}/USDT" for base in ("BTC", "ETH", "SOL", "BNB", "XRP", "DOGE", "ADA", "AVAX")]
TIMEFRAMES = ["1m", "5m", "15m", "1h", "4h", "1d"]
SIZE_BY_KIND = {"ticker": 300, "ohlcv": 40_000, "trades": 60_000, "answer": 3_000}


def market_keys(count: int) -> tuple[list[str], list[int]]:
    """`count` distinct keys like the service's, with a value size for each."""
    keys: list[str] = []
    sizes: list[int] = []
    bases = [f"C{i:03d}/USDT" for i in range(400)]
    for symbol in SYMBOLS + bases:
        keys.append(f"ticker:binance:{symbol}")
        sizes.append(SIZE_BY_KIND["ticker"])
        keys.append(f"trades:binance:{symbol}")
        sizes.append(SIZE_BY_KIND["trades"])
        for tf in TIMEFRAMES:
            keys.append(f"ohlcv:binance:{symbol}:{tf}")
            sizes.append(SIZE_BY_KIND["ohlcv"])
            for kind in ("analysis", "cvd", "volume_spike"):
                keys.append(f"answer:{kind}:binance:{symbol}:{tf}:100")
                sizes.append(SIZE_BY_KIND["answer"])
        if len(keys) >= count:
            break
    return keys[:count], sizes[:count]


def zipf_stream(
    n_keys: int, s: float, requests: int, rng: np.random.Generator, drift_every: int = 0
) -> np.ndarray:
    """Key indices drawn from Zipf(s) over `n_keys`, ranks shuffled (every `drift_every`)."""
    weights = 1.0 / np.arange(1, n_keys + 1) ** s
    weights /= weights.sum()
    ranks = rng.choice(n_keys, size=requests, p=weights)
    if not drift_every:
        return rng.permutation(n_keys)[ranks]
    out = np.empty(requests, dtype=np.int64)
    for start in range(0, requests, drift_every):
        perm = rng.permutation(n_keys)
        out[start : start + drift_every] = perm[ranks[start : start + drift_every]]
    return out


def replay(
    policy: str, max_bytes: int, keys: list[str], values: list[bytes], stream: np.ndarray
) -> tuple[float, float]:
    """Hit rate and nanoseconds per request of `policy` on `stream`."""
    store = Store(max_bytes, policy, max_entry_share=1.0)
    entries = store.entries
    access = store.policy.access
    hits = 0
    started = time.perf_counter_ns()
    for index in stream.tolist():
        key = keys[index]
        entry = entries.get(key)
        if entry is not None:
            access(entry)
            hits += 1
        else:
            store.put(key, values[index], 0.0, 1.0, 2.0)
    elapsed = time.perf_counter_ns() - started
    return hits / len(stream), elapsed / len(stream)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--keys", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    keys, sizes = market_keys(args.keys)
    values = [b"x" * size for size in sizes]
    total = sum(entry_size(k, v) for k, v in zip(keys, values, strict=True))
    policies = sorted(POLICIES)
    workloads = [(f"zipf {s}", s, 0) for s in (0.8, 1.0, 1.2)] + [
        ("drifting zipf 1.0", 1.0, 20_000)
    ]
    print(
        f"{len(keys)} keys, {total / 1e6:.1f} MB in all, {args.requests} requests, seed {args.seed}"
    )
    header = "| workload | bound | " + " | ".join(policies) + " | best |"
    print(header)
    print("|" + "---|" * (len(policies) + 3))
    cost: dict[str, list[float]] = {p: [] for p in policies}
    for name, s, drift in workloads:
        stream = zipf_stream(len(keys), s, args.requests, np.random.default_rng(args.seed), drift)
        for share in (0.10, 0.30):
            rates = {}
            for policy in policies:
                rate, ns = replay(policy, int(total * share), keys, values, stream)
                rates[policy] = rate
                cost[policy].append(ns)
            best = max(rates, key=lambda p: rates[p])
            cells = " | ".join(f"{rates[p] * 100:.1f} %" for p in policies)
            print(f"| {name} | {share:.0%} | {cells} | {best} |")
    print()
    print("| policy | mean ns per request (replay loop included) |")
    print("|---|---|")
    for policy in policies:
        print(f"| {policy} | {sum(cost[policy]) / len(cost[policy]):.0f} |")


if __name__ == "__main__":
    main()
