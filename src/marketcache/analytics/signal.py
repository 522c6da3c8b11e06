"""The overall signal: a score from indicator rules, with the reasons behind it.

Rules (points; a rule whose inputs are missing is skipped and its weight left
out of `max_score`):

    RSI                 < 30 oversold +2, > 70 overbought -2              weight 2
    MACD                histogram crossed above 0 this candle +2, below -2;
                        otherwise histogram > 0 +1, < 0 -1                weight 2
    Bollinger %B        < 0 (below the lower band) +1, > 1 -1             weight 1
    EMA alignment       9 > 21 > 50 +1, 9 < 21 < 50 -1                    weight 1
    EMA 200             close above +1, below -1                          weight 1
    Stochastic          %K and %D < 20 +1, both > 80 -1                   weight 1
    ADX                 >= 25 with +DI > -DI +1, with -DI > +DI -1        weight 1

Signal: score >= 4 strong_buy, >= 2 buy, <= -4 strong_sell, <= -2 sell, else
neutral.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

STRONG = 4
WEAK = 2
RULE_TEXT = "score >= 4 strong_buy, >= 2 buy, <= -2 sell, <= -4 strong_sell, else neutral"


@dataclass
class _Tally:
    score: int = 0
    max_score: int = 0
    reasons: list[str] = field(default_factory=list)

    def rule(self, weight: int) -> None:
        self.max_score += weight

    def add(self, points: int, reason: str) -> None:
        self.score += points
        self.reasons.append(reason)


def classify(score: int) -> str:
    """The signal name of a score."""
    if score >= STRONG:
        return "strong_buy"
    if score >= WEAK:
        return "buy"
    if score <= -STRONG:
        return "strong_sell"
    if score <= -WEAK:
        return "sell"
    return "neutral"


def _rsi(tally: _Tally, rsi: float | None) -> None:
    if rsi is None:
        return
    tally.rule(2)
    if rsi < 30:
        tally.add(2, f"RSI {rsi:.1f} < 30: oversold")
    elif rsi > 70:
        tally.add(-2, f"RSI {rsi:.1f} > 70: overbought")


def _macd(tally: _Tally, macd: Mapping[str, float | None]) -> None:
    hist, previous = macd.get("histogram"), macd.get("previous_histogram")
    if hist is None:
        return
    tally.rule(2)
    if previous is not None and previous <= 0 < hist:
        tally.add(2, "MACD crossed above its signal line: bullish crossover")
    elif previous is not None and previous >= 0 > hist:
        tally.add(-2, "MACD crossed below its signal line: bearish crossover")
    elif hist > 0:
        tally.add(1, f"MACD histogram {hist:.4g} > 0: bullish momentum")
    elif hist < 0:
        tally.add(-1, f"MACD histogram {hist:.4g} < 0: bearish momentum")


def _bollinger(tally: _Tally, percent_b: float | None) -> None:
    if percent_b is None:
        return
    tally.rule(1)
    if percent_b < 0:
        tally.add(1, f"Bollinger %B {percent_b:.2f} < 0: price below the lower band")
    elif percent_b > 1:
        tally.add(-1, f"Bollinger %B {percent_b:.2f} > 1: price above the upper band")


def _ema(tally: _Tally, close: float | None, ma: Mapping[str, float | None]) -> None:
    fast, mid, slow = ma.get("ema_9"), ma.get("ema_21"), ma.get("ema_50")
    if fast is not None and mid is not None and slow is not None:
        tally.rule(1)
        if fast > mid > slow:
            tally.add(1, "EMA 9 > EMA 21 > EMA 50: bullish alignment")
        elif fast < mid < slow:
            tally.add(-1, "EMA 9 < EMA 21 < EMA 50: bearish alignment")
    long = ma.get("ema_200")
    if long is not None and close is not None:
        tally.rule(1)
        if close > long:
            tally.add(1, f"close {close:.8g} above EMA 200 {long:.8g}: long-term uptrend")
        elif close < long:
            tally.add(-1, f"close {close:.8g} below EMA 200 {long:.8g}: long-term downtrend")


def _stochastic(tally: _Tally, stoch: Mapping[str, float | None]) -> None:
    k, d = stoch.get("k"), stoch.get("d")
    if k is None or d is None:
        return
    tally.rule(1)
    if k < 20 and d < 20:
        tally.add(1, f"Stochastic %K {k:.1f} and %D {d:.1f} < 20: oversold")
    elif k > 80 and d > 80:
        tally.add(-1, f"Stochastic %K {k:.1f} and %D {d:.1f} > 80: overbought")


def _adx(tally: _Tally, adx: Mapping[str, float | None]) -> None:
    strength, plus, minus = adx.get("adx"), adx.get("plus_di"), adx.get("minus_di")
    if strength is None or plus is None or minus is None:
        return
    tally.rule(1)
    if strength >= 25 and plus > minus:
        tally.add(1, f"ADX {strength:.1f} >= 25 with +DI > -DI: strong uptrend")
    elif strength >= 25 and minus > plus:
        tally.add(-1, f"ADX {strength:.1f} >= 25 with -DI > +DI: strong downtrend")


def score_signal(close: float | None, indicators: Mapping[str, Any]) -> dict[str, Any]:
    """Score the indicators of `analysis` (their `indicators` section) into a signal."""
    tally = _Tally()
    _rsi(tally, indicators.get("rsi"))
    _macd(tally, indicators.get("macd", {}))
    _bollinger(tally, indicators.get("bollinger", {}).get("percent_b"))
    _ema(tally, close, indicators.get("moving_averages", {}))
    _stochastic(tally, indicators.get("stochastic", {}))
    _adx(tally, indicators.get("adx", {}))
    if tally.max_score == 0:
        tally.reasons.append("not enough closed candles for any signal rule")
    return {
        "signal": classify(tally.score),
        "score": tally.score,
        "max_score": tally.max_score,
        "reasons": tally.reasons,
        "rule": RULE_TEXT,
    }
