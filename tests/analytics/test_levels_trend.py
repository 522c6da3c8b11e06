"""Support/resistance levels and trend direction on constructed series."""

from __future__ import annotations

import numpy as np
import pytest

from marketcache.analytics.levels import support_resistance, swing_points
from marketcache.analytics.trend import adx_strength, trend


def test_swing_points_are_strict_local_extremes() -> None:
    values = np.array([1.0, 2.0, 5.0, 2.0, 1.0, 3.0, 3.0, 1.0, 0.0, 1.0, 2.0])
    assert swing_points(values, 2, highs=True).tolist() == [2]
    assert swing_points(values, 2, highs=False).tolist() == [4, 8]
    # the flat top at 5-6 is no swing high: neither is strictly above the other
    assert swing_points(values[:4], 2, highs=True).tolist() == []


def test_levels_of_a_range_bound_market() -> None:
    # Oscillates between about 90 and 110 five times, now at 100.
    wave = 100 + 10 * np.sin(np.linspace(0, 10 * np.pi, 201))
    high, low = wave + 0.2, wave - 0.2
    times = np.arange(len(wave), dtype=np.float64) * 1000
    result = support_resistance(times, high, low, price=100.0, atr=2.0)
    support, resistance = result["support"], result["resistance"]
    assert support[0]["price"] == pytest.approx(89.8, abs=0.1)
    assert support[0]["touches"] == 5
    assert resistance[0]["price"] == pytest.approx(110.2, abs=0.1)
    assert resistance[0]["touches"] == 5
    assert all(level["price"] < 100 for level in support)
    assert all(level["price"] > 100 for level in resistance)
    assert result["tolerance"] == 2.0


def test_levels_are_sorted_nearest_first() -> None:
    high = np.array([1, 5, 1, 1, 1, 7, 1, 1, 1, 6, 1, 1], dtype=np.float64) + 100
    low = np.full(12, 90.0)
    times = np.arange(12, dtype=np.float64)
    result = support_resistance(times, high, low, price=102.0, atr=0.5, order=1)
    assert [lv["price"] for lv in result["resistance"]] == [105.0, 106.0, 107.0]
    assert result["support"] == []


@pytest.mark.parametrize(
    ("closes", "direction"),
    [
        (np.linspace(100, 120, 60), "up"),
        (np.linspace(120, 100, 60), "down"),
        (100 + np.sin(np.arange(60)), "sideways"),
    ],
)
def test_trend_direction(closes: np.ndarray, direction: str) -> None:
    assert trend(closes, atr=1.5, adx=30.0)["direction"] == direction


def test_trend_needs_history_and_atr() -> None:
    assert trend(np.linspace(1, 2, 10), atr=0.1, adx=None)["direction"] is None
    assert trend(np.linspace(1, 2, 60), atr=None, adx=None)["direction"] is None
    assert trend(np.empty(0), atr=None, adx=None)["period"] == 0


@pytest.mark.parametrize(
    ("adx", "grade"),
    [(None, None), (10.0, "weak"), (22.0, "moderate"), (25.0, "strong"), (60.0, "very_strong")],
)
def test_adx_strength(adx: float | None, grade: str | None) -> None:
    assert adx_strength(adx) == grade
