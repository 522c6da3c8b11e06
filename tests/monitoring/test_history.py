"""The per-minute ring buffer: order, wrap-around, bounded memory."""

from __future__ import annotations

import numpy as np
import pytest

from marketcache.monitoring.histogram import BINS
from marketcache.monitoring.history import FIELDS, History, single_row


def latency(n: int) -> list[int]:
    counts = [0] * BINS
    counts[10] = n
    return counts


def fill(history: History, minutes: int, start: float = 0.0) -> None:
    for i in range(minutes):
        t = start + 60 * i
        history.append(t, t + 60, {"requests": float(i), "lookups": 2.0 * i}, latency(i))


def test_rows_come_back_oldest_first_with_their_values() -> None:
    history = History(capacity=10)
    fill(history, 4)
    rows = history.since(-1)
    assert len(rows) == 4
    assert list(rows.start) == [0, 60, 120, 180]
    assert list(rows.column("requests")) == [0, 1, 2, 3]
    assert rows.total("lookups") == 12
    assert rows.latency_total()[10] == 6
    assert rows.column("errors").sum() == 0  # fields not given are zero


def test_since_keeps_the_periods_ending_after_the_cut() -> None:
    history = History(capacity=10)
    fill(history, 5)
    assert list(history.since(150).start) == [120, 180, 240]


def test_the_oldest_rows_are_overwritten_and_memory_stays_the_same() -> None:
    history = History(capacity=7)
    size = history.nbytes
    fill(history, 30)
    assert len(history) == 7
    rows = history.since(-1)
    assert list(rows.column("requests")) == list(range(23, 30))
    assert np.all(np.diff(rows.start) > 0)
    assert history.nbytes == size


def test_a_week_of_minutes_fits_in_a_few_megabytes() -> None:
    history = History()
    assert history.capacity == 7 * 24 * 60
    assert history.nbytes < 8 * 1024 * 1024
    fill(history, history.capacity + 100)
    assert len(history) == history.capacity


def test_rows_split_join_and_pick() -> None:
    history = History(capacity=10)
    fill(history, 4)
    rows = history.since(-1)
    first, second = rows.split(1)
    assert (len(first), len(second)) == (1, 3)
    extra = single_row(240, 250, {"requests": 9.0}, latency(1))
    joined = rows.plus(extra)
    assert len(joined) == 5
    assert joined.row(-1).total("requests") == 9
    assert joined.row(2).total("requests") == 2
    assert joined.span_s() == 250


def test_unknown_field_is_refused() -> None:
    history = History(capacity=2)
    with pytest.raises(KeyError):
        history.append(0, 60, {"nonsense": 1.0}, latency(0))
    assert "requests" in FIELDS


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="capacity"):
        History(capacity=0)
