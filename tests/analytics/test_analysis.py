"""The comprehensive analysis: closed candles only, nulls for short history, JSON-ready."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from marketcache.analytics import comprehensive_analysis, cvd_from_candles, volume_spike
from marketcache.analytics import indicators as ind
from marketcache.models import Candles, Ticker

from .conftest import make_candles
from .jsonready import dumps_strict

EVERYTHING_CLOSED = 10**15


def ticker(last: float) -> Ticker:
    return Ticker(
        "BTC/USDT", 1_555_891_000_000, last, None, None, None, None, None, 12.5, 0.24, None, None
    )


def test_real_series_full_analysis(btc_candles: Candles) -> None:
    result = comprehensive_analysis(btc_candles, now_ms=EVERYTHING_CLOSED)
    dumps_strict(result)
    close = np.ascontiguousarray(btc_candles.close)
    assert result["candles"] == {
        "closed": 500,
        "first_open_time": 1554991200000,
        "last_open_time": int(btc_candles.open_time[-1]),
        "live_excluded": False,
    }
    values = result["indicators"]
    assert values["rsi"] == ind.rsi(close, 14)
    assert values["moving_averages"]["ema_200"] == ind.ema(close, 200)
    assert all(v is not None for v in values["moving_averages"].values())
    assert all(v is not None for v in values["adx"].values())
    assert result["price"]["last"] == float(close[-1])
    assert result["price"]["source"] == "last_closed_candle"
    volume = btc_candles.volume
    assert result["volume"]["average"] == pytest.approx(volume[-21:-1].mean())
    assert result["volume"]["relative"] == pytest.approx(volume[-1] / volume[-21:-1].mean())
    assert result["trend"]["direction"] in {"up", "down", "sideways"}
    levels = result["levels"]
    assert levels["support"]
    assert levels["resistance"]
    assert all(lv["price"] < close[-1] for lv in levels["support"])
    assert result["signal"]["max_score"] == 9
    assert result["signal"]["signal"] in {"strong_buy", "buy", "neutral", "sell", "strong_sell"}


def test_live_candle_is_left_out_and_its_price_reported(btc_candles: Candles) -> None:
    # `now` falls inside the last candle: it is still open.
    now = float(btc_candles.open_time[-1]) + 60_000
    live = comprehensive_analysis(btc_candles, now_ms=now)
    closed_only = Candles("BTC/USDT", "30m", btc_candles.table[:-1])
    reference = comprehensive_analysis(closed_only, now_ms=EVERYTHING_CLOSED)
    assert live["indicators"] == reference["indicators"]
    assert live["candles"]["closed"] == 499
    assert live["candles"]["live_excluded"] is True
    assert live["price"]["last"] == float(btc_candles.close[-1])
    assert live["price"]["source"] == "live_candle"
    assert live["price"]["last_close"] == float(btc_candles.close[-2])


def test_without_ticker_24h_change_comes_from_the_candles(btc_candles: Candles) -> None:
    now = float(btc_candles.open_time[-1]) + 60_000
    price = comprehensive_analysis(btc_candles, now_ms=now)["price"]
    # 24 h before `now` is 48 half-hour candles back, one minute into that candle
    then = float(btc_candles.open[-49])
    last = float(btc_candles.close[-1])
    assert price["timestamp"] == int(now)
    assert price["change_24h"] == pytest.approx(last - then)
    assert price["change_24h_percent"] == pytest.approx(100 * (last - then) / then)


def test_24h_change_is_null_for_candles_longer_than_an_hour(btc_candles: Candles) -> None:
    table = np.array(btc_candles.table)  # the same values, as if they were 4 h candles
    table[:, 0] = table[0, 0] + np.arange(len(table)) * 4 * 3_600_000
    table[:, 6] = table[:, 0] + 4 * 3_600_000 - 1
    four_hours = Candles("BTC/USDT", "4h", table)
    now = float(four_hours.open_time[-1]) + 60_000
    price = comprehensive_analysis(four_hours, now_ms=now)["price"]
    assert price["change_24h"] is None
    assert price["change_24h_percent"] is None


def test_24h_change_is_null_without_a_day_of_history(btc_candles: Candles) -> None:
    short = Candles("BTC/USDT", "30m", btc_candles.table[-10:])
    price = comprehensive_analysis(short, now_ms=float(short.open_time[-1]) + 1)["price"]
    assert price["change_24h"] is None
    assert price["change_24h_percent"] is None


def test_ticker_gives_price_and_24h_change(btc_candles: Candles) -> None:
    result = comprehensive_analysis(btc_candles, now_ms=EVERYTHING_CLOSED, ticker=ticker(5300.5))
    price = result["price"]
    assert price["last"] == 5300.5
    assert price["source"] == "ticker"
    assert price["change_24h"] == 12.5
    assert price["change_24h_percent"] == 0.24
    assert all(lv["price"] > 5300.5 for lv in result["levels"]["resistance"])


def test_short_history_leaves_long_indicators_null(btc_candles: Candles) -> None:
    short = btc_candles.tail(150)
    result = comprehensive_analysis(short, now_ms=EVERYTHING_CLOSED)
    mas = result["indicators"]["moving_averages"]
    assert mas["ema_200"] is None
    assert mas["ema_50"] is not None
    assert result["signal"]["max_score"] == 8  # the EMA 200 rule is skipped
    assert not any("EMA 200" in reason for reason in result["signal"]["reasons"])
    tiny = comprehensive_analysis(btc_candles.tail(10), now_ms=EVERYTHING_CLOSED)
    values = tiny["indicators"]
    assert values["rsi"] is None
    assert values["atr"] is None
    assert values["macd"]["macd"] is None
    assert values["bollinger"]["upper"] is None
    assert values["obv"] is not None
    assert values["vwap"] is not None
    assert tiny["volume"]["average"] is None
    assert tiny["trend"]["direction"] is None
    dumps_strict(tiny)


def test_no_closed_candle_at_all() -> None:
    candles = make_candles([100.0])
    result = comprehensive_analysis(candles, now_ms=1.0)  # the only candle is still open
    assert result["candles"]["closed"] == 0
    assert result["price"]["last"] == 100.0
    assert result["price"]["source"] == "live_candle"
    assert result["signal"]["signal"] == "neutral"
    assert result["signal"]["max_score"] == 0
    dumps_strict(result)
    empty = comprehensive_analysis(make_candles([]), now_ms=1.0)
    assert empty["price"]["last"] is None
    dumps_strict(empty)


def test_sharp_pullback_in_an_uptrend_is_a_buy() -> None:
    closes = np.concatenate((np.linspace(100, 200, 240), 200 * np.cumprod(np.full(5, 0.97))))
    result = comprehensive_analysis(make_candles(closes, spread=0.002), now_ms=EVERYTHING_CLOSED)
    signal = result["signal"]
    assert signal["signal"] in {"buy", "strong_buy"}
    assert any(r.startswith("RSI") and "oversold" in r for r in signal["reasons"])


def test_sharp_rally_in_a_downtrend_is_a_sell() -> None:
    closes = np.concatenate((np.linspace(200, 100, 240), 100 * np.cumprod(np.full(5, 1.03))))
    result = comprehensive_analysis(make_candles(closes, spread=0.002), now_ms=EVERYTHING_CLOSED)
    signal = result["signal"]
    assert signal["signal"] in {"sell", "strong_sell"}
    assert any(r.startswith("RSI") and "overbought" in r for r in signal["reasons"])


def test_parameters_are_a_fresh_copy(btc_candles: Candles) -> None:
    first = comprehensive_analysis(btc_candles.tail(30), now_ms=EVERYTHING_CLOSED)
    first["parameters"]["ema"].append(1)
    second = comprehensive_analysis(btc_candles.tail(30), now_ms=EVERYTHING_CLOSED)
    assert second["parameters"]["ema"] == [9, 21, 50, 200]


@settings(max_examples=40, deadline=None)
@given(
    closes=arrays(
        np.float64,
        st.integers(0, 260),
        elements=st.floats(1e-4, 1e6, allow_nan=False, allow_infinity=False),
    ),
    data=st.data(),
)
def test_outputs_are_json_ready_for_random_positive_ohlcv(closes: np.ndarray, data) -> None:
    count = len(closes)
    volume = data.draw(
        arrays(np.float64, count, elements=st.floats(0.0, 1e6, allow_nan=False)), label="volume"
    )
    share = data.draw(arrays(np.float64, count, elements=st.floats(0.0, 1.0)), label="share")
    spread = data.draw(st.floats(0.0, 0.2), label="spread")
    candles = make_candles(closes, volume, volume * share, spread=spread)
    dumps_strict(comprehensive_analysis(candles, now_ms=EVERYTHING_CLOSED))
    dumps_strict(comprehensive_analysis(candles, now_ms=float(count) * 30_000))
    dumps_strict(volume_spike(candles, lookback=5, window=20))
    result = cvd_from_candles(candles, limit=100)
    assert result is not None
    dumps_strict(result)
