"""Cumulative volume delta from candles and from trades."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketcache.analytics.cvd import cvd_from_candles, cvd_from_trades
from marketcache.models import Trades

from .conftest import MINUTE_MS, make_candles
from .jsonready import dumps_strict


def test_known_deltas_and_running_sum() -> None:
    candles = make_candles([1.0, 2.0, 3.0, 4.0], [10.0] * 4, [8.0, 2.0, 5.0, 10.0])
    result = cvd_from_candles(candles)
    assert result is not None
    assert [p["delta"] for p in result["series"]] == [6.0, -6.0, 0.0, 10.0]
    assert [p["cvd"] for p in result["series"]] == [6.0, 0.0, 0.0, 10.0]
    assert [p["time"] for p in result["series"]] == [0, MINUTE_MS, 2 * MINUTE_MS, 3 * MINUTE_MS]
    assert result["latest"] == 10.0
    assert result["buy_volume"] == 25.0
    assert result["sell_volume"] == 15.0
    assert result["buy_share"] == pytest.approx(0.625)
    assert result["basis"] == "candles"
    dumps_strict(result)


def test_missing_taker_volume_means_no_candle_cvd() -> None:
    candles = make_candles([1.0, 2.0, 3.0], [1.0] * 3, [0.5, np.nan, 0.5])
    assert cvd_from_candles(candles) is None
    # Only the candles inside the limit matter.
    assert cvd_from_candles(candles, limit=1) is not None


def test_limit_keeps_the_latest_candles() -> None:
    candles = make_candles(np.arange(1.0, 11.0), [2.0] * 10, [2.0] * 10)
    result = cvd_from_candles(candles, limit=3)
    assert result is not None
    assert result["points"] == 3
    assert result["series"][0]["time"] == 7 * MINUTE_MS
    assert result["latest"] == 6.0


@pytest.mark.parametrize(
    ("share", "trend"), [(0.9, "rising"), (0.1, "falling"), (0.5, "flat"), (0.52, "flat")]
)
def test_trend_from_normalized_slope(share: float, trend: str) -> None:
    candles = make_candles(np.full(30, 5.0), [10.0] * 30, [10.0 * share] * 30)
    result = cvd_from_candles(candles)
    assert result is not None
    assert result["trend"] == trend


def test_single_point_has_no_trend() -> None:
    result = cvd_from_candles(make_candles([1.0], [1.0], [1.0]))
    assert result is not None
    assert result["trend"] is None
    assert result["slope_share"] is None
    assert result["divergence"] == "none"


def test_bullish_divergence_price_lower_low_cvd_higher_low() -> None:
    closes = np.linspace(100.0, 80.0, 20)
    taker = [2.0] * 10 + [8.0] * 10  # sellers then buyers, out of 10 each candle
    result = cvd_from_candles(make_candles(closes, [10.0] * 20, taker))
    assert result is not None
    assert result["divergence"] == "bullish"


def test_bearish_divergence_price_higher_high_cvd_lower_high() -> None:
    closes = np.linspace(80.0, 100.0, 20)
    taker = [8.0] * 10 + [2.0] * 10
    result = cvd_from_candles(make_candles(closes, [10.0] * 20, taker))
    assert result is not None
    assert result["divergence"] == "bearish"


def test_no_divergence_when_cvd_confirms_price() -> None:
    closes = np.linspace(80.0, 100.0, 20)
    result = cvd_from_candles(make_candles(closes, [10.0] * 20, [8.0] * 20))
    assert result is not None
    assert result["divergence"] == "none"
    assert result["trend"] == "rising"


def test_from_trades_signs_by_aggressor_and_buckets_in_order() -> None:
    # id, time, price, amount, is_buyer_maker (1 = the seller was the taker)
    rows = [
        [1, 1000, 10.0, 1.0, 0],
        [2, 1001, 10.5, 2.0, 1],
        [3, 1002, 10.2, 3.0, 0],
        [4, 1003, 9.8, 4.0, 0],
        [5, 1004, 9.9, 5.0, 1],
    ]
    trades = Trades.from_rows("TEST/USDT", rows)
    each = cvd_from_trades(trades)
    assert [p["delta"] for p in each["series"]] == [1.0, -2.0, 3.0, 4.0, -5.0]
    assert each["latest"] == 1.0
    assert each["buy_volume"] == 8.0
    assert each["sell_volume"] == 7.0
    assert each["basis"] == "trades"
    grouped = cvd_from_trades(trades, buckets=2)
    assert [p["time"] for p in grouped["series"]] == [1001, 1004]
    assert [p["delta"] for p in grouped["series"]] == [-1.0, 2.0]
    assert grouped["latest"] == each["latest"]
    dumps_strict(grouped)


def test_from_no_trades() -> None:
    result = cvd_from_trades(Trades.from_rows("TEST/USDT", []))
    assert result["latest"] is None
    assert result["series"] == []
    assert result["trend"] is None
    dumps_strict(result)


def test_real_series(btc_candles) -> None:
    result = cvd_from_candles(btc_candles, limit=100)
    assert result is not None
    recent = btc_candles.tail(100)
    expected = float(np.sum(2 * recent.taker_buy_volume - recent.volume))
    assert result["latest"] == pytest.approx(expected, rel=1e-9)
    assert result["trend"] in {"rising", "falling", "flat"}
    dumps_strict(result)


positive = st.floats(min_value=1e-6, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.tuples(positive, positive, st.floats(0.0, 1.0)), min_size=1, max_size=120),
    limit=st.integers(1, 150),
)
def test_last_cvd_is_the_sum_of_deltas(rows: list[tuple[float, float, float]], limit: int) -> None:
    closes = [r[0] for r in rows]
    volume = [r[1] for r in rows]
    taker = [r[1] * r[2] for r in rows]
    result = cvd_from_candles(make_candles(closes, volume, taker), limit=limit)
    assert result is not None
    deltas = [p["delta"] for p in result["series"]]
    assert len(deltas) == min(limit, len(rows))
    assert result["latest"] == pytest.approx(sum(deltas), rel=1e-9, abs=1e-6)
    assert result["trend"] in {None, "rising", "falling", "flat"}
    dumps_strict(result)


@settings(max_examples=60, deadline=None)
@given(
    trades=st.lists(st.tuples(positive, positive, st.booleans()), min_size=0, max_size=300),
    buckets=st.integers(1, 120),
)
def test_trade_cvd_is_the_signed_volume(
    trades: list[tuple[float, float, bool]], buckets: int
) -> None:
    rows = [[i, 1000 + i, p, a, float(m)] for i, (p, a, m) in enumerate(trades)]
    result = cvd_from_trades(Trades.from_rows("T/U", rows), buckets=buckets)
    assert result["points"] == min(buckets, len(trades))
    expected = sum(-a if m else a for _, a, m in trades)
    if trades:
        assert result["latest"] == pytest.approx(expected, rel=1e-9, abs=1e-6)
    dumps_strict(result)
