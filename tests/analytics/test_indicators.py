"""TA-Lib wrappers against the reference implementations on the real BTCUSDT series."""

from __future__ import annotations

import math

import numpy as np
import pytest

from marketcache.analytics import indicators as ind
from marketcache.models import Candles

from . import ta_reference as ref

# Prefix lengths: every indicator's warm-up boundary and the whole series.
LENGTHS = [1, 14, 15, 17, 18, 20, 26, 27, 28, 33, 34, 35, 50, 60, 199, 200, 201, 350, 500]


def close_to(actual: float | None, expected: float) -> bool:
    """Equal within 1e-6 relative (1e-9 absolute near zero); None matches NaN only."""
    if math.isnan(expected):
        return actual is None
    return actual is not None and math.isclose(actual, expected, rel_tol=1e-6, abs_tol=1e-9)


def columns(candles: Candles, count: int) -> tuple[list[float], ...]:
    part = Candles(candles.symbol, candles.timeframe, candles.table[:count])
    return tuple(part.column(name).tolist() for name in ("high", "low", "close", "volume"))


def arrays(candles: Candles, count: int) -> tuple[np.ndarray, ...]:
    return tuple(np.asarray(values) for values in columns(candles, count))


def last(series: list[float]) -> float:
    return series[-1] if series else math.nan


@pytest.mark.parametrize("count", LENGTHS)
def test_rsi_ema_sma_match_reference(btc_candles: Candles, count: int) -> None:
    _, _, close = columns(btc_candles, count)[:3]
    c = np.asarray(close)
    assert close_to(ind.rsi(c, 14), last(ref.rsi(close, 14)))
    for period in (9, 21, 50, 200):
        assert close_to(ind.ema(c, period), last(ref.ema(close, period)))
    for period in (20, 50):
        assert close_to(ind.sma(c, period), last(ref.sma(close, period)))


@pytest.mark.parametrize("count", LENGTHS)
def test_macd_matches_reference(btc_candles: Candles, count: int) -> None:
    close = columns(btc_candles, count)[2]
    line, signal, hist = ref.macd(close)
    got = ind.macd(np.asarray(close))
    assert close_to(got["macd"], last(line) if not math.isnan(last(signal)) else math.nan)
    assert close_to(got["signal"], last(signal))
    assert close_to(got["histogram"], last(hist))
    assert close_to(got["previous_histogram"], hist[-2] if count >= 2 else math.nan)


@pytest.mark.parametrize("count", LENGTHS)
def test_bollinger_matches_reference(btc_candles: Candles, count: int) -> None:
    close = columns(btc_candles, count)[2]
    upper, middle, lower = ref.bollinger(close, 20, 2.0)
    got = ind.bollinger(np.asarray(close), 20, 2.0)
    assert close_to(got["upper"], last(upper))
    assert close_to(got["middle"], last(middle))
    assert close_to(got["lower"], last(lower))
    if count < 20:
        assert got["percent_b"] is None
        assert got["width"] is None
    else:
        expected_b = (close[-1] - lower[-1]) / (upper[-1] - lower[-1])
        assert close_to(got["percent_b"], expected_b)
        assert close_to(got["width"], (upper[-1] - lower[-1]) / middle[-1])


@pytest.mark.parametrize("count", LENGTHS)
def test_atr_stochastic_adx_match_reference(btc_candles: Candles, count: int) -> None:
    high, low, close, _ = columns(btc_candles, count)
    h, lo, c, _ = arrays(btc_candles, count)
    assert close_to(ind.atr(h, lo, c, 14), last(ref.atr(high, low, close, 14)))
    k, d = ref.stochastic(high, low, close, 14, 3, 3)
    got = ind.stochastic(h, lo, c, 14, 3, 3)
    assert close_to(got["k"], last(k))
    assert close_to(got["d"], last(d))
    strength, plus, minus = ref.adx(high, low, close, 14)
    got = ind.adx(h, lo, c, 14)
    assert close_to(got["adx"], last(strength))
    assert close_to(got["plus_di"], last(plus))
    assert close_to(got["minus_di"], last(minus))


@pytest.mark.parametrize("count", LENGTHS)
def test_obv_and_vwap_match_reference(btc_candles: Candles, count: int) -> None:
    high, low, close, volume = columns(btc_candles, count)
    h, lo, c, v = arrays(btc_candles, count)
    assert close_to(ind.obv(c, v), last(ref.obv(close, volume)))
    assert close_to(ind.vwap(h, lo, c, v), ref.vwap(high, low, close, volume))


def test_full_series_values_are_all_present(btc_candles: Candles) -> None:
    h, lo, c, v = arrays(btc_candles, len(btc_candles))
    values = [
        ind.rsi(c),
        ind.ema(c, 200),
        ind.atr(h, lo, c),
        ind.obv(c, v),
        *ind.macd(c).values(),
        *ind.bollinger(c).values(),
        *ind.stochastic(h, lo, c).values(),
        *ind.adx(h, lo, c).values(),
    ]
    assert all(isinstance(value, float) and math.isfinite(value) for value in values)


def test_short_history_gives_none_never_a_guess(btc_candles: Candles) -> None:
    h, lo, c, _ = arrays(btc_candles, 150)
    assert ind.ema(c, 200) is None
    assert ind.ema(c, 50) is not None
    h, lo, c, _ = arrays(btc_candles, 25)
    assert ind.macd(c) == {
        "macd": None,
        "signal": None,
        "histogram": None,
        "previous_histogram": None,
    }
    assert ind.adx(h, lo, c)["adx"] is None
    assert ind.adx(h, lo, c)["plus_di"] is not None
    assert ind.sma(c, 50) is None
    assert ind.stochastic(h, lo, c)["k"] is not None


def test_empty_input_gives_none() -> None:
    empty = np.empty(0)
    assert ind.rsi(empty) is None
    assert ind.obv(empty, empty) is None
    assert ind.vwap(empty, empty, empty, empty) is None
    assert ind.last(empty) is None


def test_as_float_maps_nan_and_infinity_to_none() -> None:
    assert ind.as_float(np.float64("nan")) is None
    assert ind.as_float(float("inf")) is None
    assert ind.as_float(None) is None
    value = ind.as_float(np.float64(1.5))
    assert value == 1.5
    assert type(value) is float


def test_flat_prices_give_finite_values() -> None:
    flat = np.full(60, 100.0)
    assert ind.rsi(flat) == 0.0  # TA-Lib's convention when there is no gain and no loss
    bands = ind.bollinger(flat)
    assert bands["upper"] == pytest.approx(100.0)
    assert bands["percent_b"] is None  # no band width: %B is undefined, not invented
    assert ind.stochastic(flat, flat, flat)["k"] == 0.0
