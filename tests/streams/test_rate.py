"""Messages per second over the last full seconds."""

from __future__ import annotations

from marketcache.streams.rate import Rate


def test_the_rate_is_the_mean_of_the_last_full_seconds() -> None:
    rate = Rate(seconds=2)
    rate.add(10.1, 3)
    rate.add(10.9)
    rate.add(11.5, 2)
    assert rate.total == 6
    assert rate.per_s(11.9) == 2.0  # second 10 counted, 11 still running
    assert rate.per_s(12.0) == 3.0  # seconds 10 and 11
    assert rate.per_s(20.0) == 0.0
