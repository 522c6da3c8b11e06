"""Signal rules on constructed indicator snapshots."""

from __future__ import annotations

from typing import Any

import pytest

from marketcache.analytics.signal import classify, score_signal


def snapshot(**changes: Any) -> dict[str, Any]:
    """Indicators that trigger no rule; `changes` override sections."""
    base: dict[str, Any] = {
        "rsi": 50.0,
        "macd": {"macd": 0.0, "signal": 0.0, "histogram": 0.0, "previous_histogram": 0.0},
        "bollinger": {"percent_b": 0.5},
        "moving_averages": {"ema_9": 100.0, "ema_21": 101.0, "ema_50": 99.0, "ema_200": 100.0},
        "stochastic": {"k": 50.0, "d": 50.0},
        "adx": {"adx": 15.0, "plus_di": 20.0, "minus_di": 20.0},
    }
    base.update(changes)
    return base


def test_quiet_market_is_neutral_with_every_rule_counted() -> None:
    result = score_signal(100.0, snapshot())
    assert result == {
        "signal": "neutral",
        "score": 0,
        "max_score": 9,
        "reasons": [],
        "rule": result["rule"],
    }


def test_strongly_oversold_is_a_strong_buy() -> None:
    result = score_signal(
        100.0,
        snapshot(
            rsi=28.1,
            bollinger={"percent_b": -0.2},
            stochastic={"k": 8.0, "d": 11.0},
        ),
    )
    assert result["signal"] == "strong_buy"
    assert result["score"] == 4
    assert "RSI 28.1 < 30: oversold" in result["reasons"]
    assert any("Stochastic" in r and "oversold" in r for r in result["reasons"])
    assert any("lower band" in r for r in result["reasons"])


def test_strongly_overbought_is_a_strong_sell() -> None:
    result = score_signal(
        100.0,
        snapshot(rsi=81.0, bollinger={"percent_b": 1.3}, stochastic={"k": 92.0, "d": 88.0}),
    )
    assert result["signal"] == "strong_sell"
    assert result["score"] == -4
    assert "RSI 81.0 > 70: overbought" in result["reasons"]


def test_mild_oversold_is_a_buy() -> None:
    result = score_signal(100.0, snapshot(rsi=25.0))
    assert (result["signal"], result["score"]) == ("buy", 2)


def test_macd_crossover_counts_double_and_plain_momentum_once() -> None:
    cross = score_signal(100.0, snapshot(macd={"histogram": 0.5, "previous_histogram": -0.1}))
    assert cross["score"] == 2
    assert "crossed above" in cross["reasons"][0]
    under = score_signal(100.0, snapshot(macd={"histogram": -0.5, "previous_histogram": 0.2}))
    assert under["score"] == -2
    assert "crossed below" in under["reasons"][0]
    plain = score_signal(100.0, snapshot(macd={"histogram": 0.5, "previous_histogram": 0.4}))
    assert plain["score"] == 1
    assert "bullish momentum" in plain["reasons"][0]


def test_trend_rules() -> None:
    bull = snapshot(
        moving_averages={"ema_9": 103.0, "ema_21": 102.0, "ema_50": 101.0, "ema_200": 90.0},
        adx={"adx": 30.0, "plus_di": 28.0, "minus_di": 12.0},
    )
    result = score_signal(105.0, bull)
    assert result["score"] == 3
    assert result["signal"] == "buy"
    bear = snapshot(
        moving_averages={"ema_9": 97.0, "ema_21": 98.0, "ema_50": 99.0, "ema_200": 110.0},
        adx={"adx": 30.0, "plus_di": 10.0, "minus_di": 25.0},
    )
    result = score_signal(95.0, bear)
    assert result["score"] == -3
    assert result["signal"] == "sell"
    assert any("below EMA 200" in r for r in result["reasons"])


def test_missing_indicators_are_skipped_not_guessed() -> None:
    result = score_signal(
        100.0,
        snapshot(
            moving_averages={"ema_9": 1.0, "ema_21": 2.0, "ema_50": None, "ema_200": None},
            adx={"adx": None, "plus_di": 30.0, "minus_di": 10.0},
        ),
    )
    assert result["max_score"] == 9 - 3
    empty = score_signal(None, {})
    assert empty["signal"] == "neutral"
    assert empty["max_score"] == 0
    assert empty["reasons"] == ["not enough closed candles for any signal rule"]


@pytest.mark.parametrize(
    ("score", "name"),
    [
        (9, "strong_buy"),
        (4, "strong_buy"),
        (3, "buy"),
        (2, "buy"),
        (1, "neutral"),
        (0, "neutral"),
        (-1, "neutral"),
        (-2, "sell"),
        (-3, "sell"),
        (-4, "strong_sell"),
    ],
)
def test_classify_thresholds(score: int, name: str) -> None:
    assert classify(score) == name
