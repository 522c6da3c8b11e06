"""Demand: hot after `threshold` reads within a minute, quiet after `quiet_s` without one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketcache.streams.demand import WINDOW_S, Demand

KEY = "ticker:binance:BTC/USDT"


def test_a_series_is_hot_once_read_threshold_times_within_a_minute() -> None:
    demand = Demand(threshold=3, quiet_s=30)
    demand.read(KEY, 0.0)
    demand.read(KEY, 10.0)
    assert not demand.is_hot(KEY, 10.0)
    demand.read(KEY, 20.0)
    assert demand.is_hot(KEY, 20.0)
    assert not demand.is_hot(KEY, 50.0)  # 30 s without a read: quiet, though in the minute
    assert demand.hot(20.0) == [KEY]
    assert not demand.is_hot(KEY, 61.0)  # the first read left the minute
    assert demand.rate(KEY, 61.0) == 2


def test_reads_spread_wider_than_a_minute_are_not_hot() -> None:
    demand = Demand(threshold=2, quiet_s=30)
    demand.read(KEY, 0.0)
    demand.read(KEY, WINDOW_S + 1)
    assert not demand.is_hot(KEY, WINDOW_S + 1)


def test_quiet_after_the_quiet_period_and_forgotten_later() -> None:
    demand = Demand(threshold=1, quiet_s=30)
    assert demand.is_quiet(KEY, 0.0)  # never read
    demand.read(KEY, 0.0)
    assert not demand.is_quiet(KEY, 29.9)
    assert demand.is_quiet(KEY, 30.0)
    assert demand.forget_quiet(30.0 + WINDOW_S - 1) == 0
    assert demand.forget_quiet(30.0 + WINDOW_S) == 1
    assert len(demand) == 0


def test_the_most_read_come_first_and_distinct_keys_are_bounded() -> None:
    demand = Demand(threshold=1, quiet_s=30, max_keys=2)
    for _ in range(3):
        demand.read("a", 0.0)
    demand.read("b", 0.0)
    demand.read("c", 0.0)  # a third distinct key while the first two are in use: not counted
    assert demand.hot(0.0) == ["a", "b"]


def test_a_threshold_under_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Demand(threshold=0, quiet_s=1)


@given(
    st.integers(min_value=1, max_value=20),
    st.lists(st.floats(min_value=0, max_value=300, allow_nan=False), max_size=60),
)
def test_hot_exactly_when_threshold_reads_since_the_last_quiet_gap_fall_in_the_minute(
    threshold: int, times: list[float]
) -> None:
    demand = Demand(threshold=threshold, quiet_s=30)
    ordered = sorted(times)
    for t in ordered:
        demand.read(KEY, t)
    now = ordered[-1] if ordered else 0.0
    since = 0  # reads after the last quiet gap count
    for i in range(1, len(ordered)):
        if ordered[i] - ordered[i - 1] >= 30:
            since = i
    recent = [t for t in ordered[since:] if now - t <= WINDOW_S]
    assert demand.is_hot(KEY, now) == (len(recent) >= threshold)
    assert not demand.is_hot(KEY, now + 31)  # quiet since


def test_reads_before_a_quiet_period_do_not_count_after_it() -> None:
    demand = Demand(threshold=3, quiet_s=10)
    for t in (0.0, 1.0, 2.0):
        demand.read(KEY, t)
    assert demand.is_hot(KEY, 2.0)
    demand.read(KEY, 12.0)  # after 10 s without a read
    assert not demand.is_hot(KEY, 12.0)
    demand.read(KEY, 13.0)
    demand.read(KEY, 14.0)
    assert demand.is_hot(KEY, 14.0)
