"""Volume spikes on constructed series with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from marketcache.analytics.volume import volume_spike

from .conftest import MINUTE_MS, make_candles
from .jsonready import dumps_strict


def steady_then(last_volume: float, last_taker_buy: float, before: int = 20):
    volume = [90.0, 110.0] * (before // 2) + [last_volume]
    taker = [v / 2 for v in volume[:-1]] + [last_taker_buy]
    return make_candles(np.linspace(100, 101, len(volume)), volume, taker)


def test_known_spike_is_found_with_its_statistics() -> None:
    result = volume_spike(steady_then(250.0, 200.0))
    assert result["mean"] == pytest.approx(100.0)
    assert result["std"] == pytest.approx(10.0)
    assert result["ratio"] == pytest.approx(2.5)
    assert result["z_score"] == pytest.approx(15.0)
    assert result["is_spike"] is True
    assert result["direction"] == "buy"
    assert result["buy_share"] == pytest.approx(0.8)
    assert result["direction_source"] == "taker"
    assert result["time"] == 20 * MINUTE_MS
    assert result["rule"].startswith("is_spike when volume / mean")
    assert result["note"] is None
    assert [s["time"] for s in result["recent_spikes"]] == [20 * MINUTE_MS]
    assert result["recent_spikes"][0]["ratio"] == pytest.approx(2.5)
    dumps_strict(result)


@pytest.mark.parametrize(
    ("last_volume", "expected"), [(200.0, True), (199.99, False), (100.0, False)]
)
def test_rule_is_ratio_at_least_threshold(last_volume: float, expected: bool) -> None:
    result = volume_spike(steady_then(last_volume, last_volume / 2), threshold=2.0)
    assert result["is_spike"] is expected
    assert result["direction"] == "neutral"


def test_sell_direction_from_taker_share() -> None:
    result = volume_spike(steady_then(300.0, 90.0))
    assert result["direction"] == "sell"
    assert result["buy_share"] == pytest.approx(0.3)


def test_without_taker_data_direction_comes_from_the_candle_body() -> None:
    volume = [100.0] * 20 + [400.0]
    closes = [100.0] * 20 + [95.0]
    candles = make_candles(closes, volume, [np.nan] * 21)
    result = volume_spike(candles)
    assert result["is_spike"] is True
    assert result["direction"] == "sell"
    assert result["buy_share"] is None
    assert result["direction_source"] == "candle"
    assert result["z_score"] is None  # a constant lookback has no spread
    dumps_strict(result)


def test_too_few_candles_gives_null_stats_and_a_note() -> None:
    candles = make_candles([100.0] * 20, [100.0] * 19 + [1000.0])
    result = volume_spike(candles, lookback=20)
    assert result["is_spike"] is False
    assert result["mean"] is result["ratio"] is result["z_score"] is None
    assert "21" in result["note"]
    assert result["volume"] == 1000.0
    assert result["recent_spikes"] == []
    dumps_strict(result)


def test_no_candles() -> None:
    result = volume_spike(make_candles([]))
    assert result["is_spike"] is False
    assert result["time"] is None
    assert result["note"] == "no closed candles"


def test_zero_volume_lookback_has_no_ratio() -> None:
    result = volume_spike(make_candles([1.0] * 21, [0.0] * 20 + [5.0]))
    assert result["ratio"] is None
    assert result["is_spike"] is False
    assert "no usable volume" in result["note"]
    dumps_strict(result)


def test_recent_spikes_are_limited_to_the_window() -> None:
    volume = np.full(60, 100.0)
    for index in (10, 35, 50):
        volume[index] = 500.0
    candles = make_candles(np.full(60, 10.0), volume)
    result = volume_spike(candles, lookback=5, threshold=3.0, window=30)
    assert result["window"] == 30
    assert [s["time"] for s in result["recent_spikes"]] == [35 * MINUTE_MS, 50 * MINUTE_MS]
    assert result["is_spike"] is False
    wide = volume_spike(candles, lookback=5, threshold=3.0, window=1000)
    assert [s["time"] // MINUTE_MS for s in wide["recent_spikes"]] == [10, 35, 50]
    assert wide["window"] == 55


def test_real_series_matches_a_direct_computation(btc_candles) -> None:
    result = volume_spike(btc_candles, lookback=20, threshold=2.0)
    volume = btc_candles.volume
    before = volume[-21:-1]
    assert result["mean"] == pytest.approx(before.mean(), rel=1e-12)
    assert result["std"] == pytest.approx(before.std(), rel=1e-12)
    assert result["ratio"] == pytest.approx(volume[-1] / before.mean(), rel=1e-12)
    expected = [
        int(btc_candles.open_time[i])
        for i in range(len(volume) - 50, len(volume))
        if volume[i] / volume[i - 20 : i].mean() >= 2.0
    ]
    assert [s["time"] for s in result["recent_spikes"]] == expected
    assert expected  # the recorded series does contain spikes
    dumps_strict(result)


def test_bad_parameters_are_rejected() -> None:
    with pytest.raises(ValueError, match="lookback"):
        volume_spike(make_candles([1.0] * 5), lookback=1)
    with pytest.raises(ValueError, match="window"):
        volume_spike(make_candles([1.0] * 5), window=0)


def test_a_vanishing_mean_is_not_judged_rather_than_infinite() -> None:
    candles = make_candles([1.0] * 21, [1e-310] * 20 + [1e10])
    result = volume_spike(candles, threshold=2.0)
    assert result["ratio"] is None
    assert result["is_spike"] is False
    assert result["recent_spikes"] == []
    dumps_strict(result)
