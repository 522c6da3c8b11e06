"""What our service itself recorded for a run: its latency histogram from `/metrics`.

Read before and after a run, the difference of the cumulative buckets gives the run's own
distribution as the service measured it (from when the request reached the app), to set
beside what the load generator saw (from when the request was sent).
"""

from __future__ import annotations

import math

import httpx
from prometheus_client.parser import text_string_to_metric_families

HISTOGRAM = "marketcache_request_duration_seconds"

Buckets = dict[float, float]  # upper bound (s) -> cumulative count


def latency_buckets(url: str, endpoint: str) -> Buckets:
    """The cumulative latency buckets of `endpoint`, summed over its cache labels."""
    text = httpx.get(f"{url}/metrics", timeout=30.0).text
    buckets: Buckets = {}
    for family in text_string_to_metric_families(text):
        if family.name != HISTOGRAM:
            continue
        for sample in family.samples:
            if sample.name == f"{HISTOGRAM}_bucket" and sample.labels.get("endpoint") == endpoint:
                bound = float(sample.labels["le"])
                buckets[bound] = buckets.get(bound, 0.0) + sample.value
    return buckets


def quantile_bound_ms(before: Buckets, after: Buckets, q: float) -> float:
    """The smallest bucket bound (ms) under which a share `q` of the run's requests fell."""
    grown = {bound: after.get(bound, 0.0) - before.get(bound, 0.0) for bound in after}
    total = grown.get(math.inf, 0.0)
    if total <= 0:
        return math.nan
    for bound in sorted(grown):
        if grown[bound] >= q * total:
            return bound * 1000
    return math.inf
