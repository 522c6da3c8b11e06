"""Properties of the one tape, over seeds, symbols and instants: every timeframe aggregates
every finer one (live candles included), the recorded series is served verbatim, trades
add up to their candles, and the 24h ticker is exactly its rolling window."""

from __future__ import annotations

import itertools
from decimal import Decimal

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from marketcache.emulator import intervals, quotes, tape
from marketcache.emulator.clock import EmulatorClock
from marketcache.emulator.data import real_klines
from marketcache.emulator.market import Market

from .conftest import START_MS

SYMBOLS = ["BTCUSDT", "ETHUSDT", "XRPUSDT", "USDCUSDT", "SOLUSDT", "DOGEUSDT"]
TIMEFRAMES = [
    "1m",
    "3m",
    "5m",
    "15m",
    "30m",
    "1h",
    "2h",
    "4h",
    "6h",
    "8h",
    "12h",
    "1d",
    "3d",
    "1w",
    "1M",
]
PROFILE = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])

seeds = st.integers(min_value=0, max_value=3)
symbols = st.sampled_from(SYMBOLS)
# instants from eleven days before the clock's start to two days after it
instants = st.integers(min_value=-11 * 86_400_000, max_value=2 * 86_400_000)


def market_at(seed: int, offset: int) -> Market:
    market = Market(EmulatorClock(START_MS, frozen=True), seed=seed)
    market.clock.set(START_MS + offset)
    return market


def summed(rows: list[list[object]], column: int) -> Decimal:
    return sum((Decimal(str(r[column])) for r in rows), Decimal(0))


@PROFILE
@given(seeds, symbols, instants, st.sampled_from(TIMEFRAMES), st.sampled_from(TIMEFRAMES))
def test_every_timeframe_aggregates_every_finer_one(
    seed: int, symbol: str, offset: int, fine: str, coarse: str
) -> None:
    fine_ms, coarse_ms = intervals.INTERVAL_MS[fine], intervals.INTERVAL_MS[coarse]
    # the pairs whose coarse candles are whole runs of fine ones (months: of days and less)
    nests = intervals.DAY % fine_ms == 0 if coarse == "1M" else coarse_ms % fine_ms == 0
    assume(fine_ms < coarse_ms and nests)
    market = market_at(seed, offset)
    for row in market.klines(symbol, coarse, None, None, 2):  # a closed candle and the live one
        parts = market.klines(symbol, fine, row[0], row[6], 1000)
        assume(intervals.count_opens(fine, row[0], intervals.align(fine, row[6])) <= 1000)
        assert parts[0][0] == row[0]
        assert row[1] == parts[0][1]
        assert row[4] == parts[-1][4]
        assert Decimal(row[2]) == max(Decimal(p[2]) for p in parts)
        assert Decimal(row[3]) == min(Decimal(p[3]) for p in parts)
        for column in (5, 7, 8, 9, 10):
            assert Decimal(str(row[column])) == summed(parts, column), column


@PROFILE
@given(seeds, symbols, instants)
def test_trades_add_up_to_their_minute(seed: int, symbol: str, offset: int) -> None:
    market = market_at(seed, offset)
    now = market.clock.now_ms()
    for row in market.klines(symbol, "1m", None, None, 2):
        trades = tape.window(market, symbol, row[0], min(row[6], now), 1000)
        assert trades[0]["p"] == row[1]
        assert trades[-1]["p"] == row[4]
        assert max(Decimal(t["p"]) for t in trades) == Decimal(row[2])
        assert min(Decimal(t["p"]) for t in trades) == Decimal(row[3])
        assert sum(Decimal(t["q"]) for t in trades) == Decimal(row[5])
        assert sum(Decimal(t["q"]) for t in trades if not t["m"]) == Decimal(row[9])
        quote = sum(Decimal(t["p"]) * Decimal(t["q"]) for t in trades)
        assert quote == Decimal(row[7])
        assert sum(t["l"] - t["f"] + 1 for t in trades) == row[8]
        assert all(b["f"] == a["l"] + 1 for a, b in itertools.pairwise(trades))


@PROFILE
@given(seeds, symbols, instants)
def test_ticker_is_its_rolling_day(seed: int, symbol: str, offset: int) -> None:
    market = market_at(seed, offset)
    ticker = quotes.ticker_24hr(market, symbol)
    start, end = ticker["openTime"], ticker["closeTime"]
    assert end - start == 86_400_000
    head = tape.window(market, symbol, start, start + 59_999, 1)
    assert ticker["openPrice"] == head[0]["p"]
    assert ticker["firstId"] == head[0]["f"]
    assert ticker["lastPrice"] == tape.recent(market, symbol, 1)[0]["p"]
    assert ticker["lastId"] == tape.recent(market, symbol, 1)[0]["l"]
    # the day is its head minute's trades, the whole minutes after, the live minute so far
    first_minute = start // 60_000 * 60_000
    minutes = market.klines(symbol, "1m", first_minute + 60_000, end, 1000)
    minutes += market.klines(symbol, "1m", first_minute + 60_000 * 1001, end, 1000)
    head_trades = tape.window(market, symbol, start, first_minute + 59_999, 1000)
    volume = summed(minutes, 5) + sum(Decimal(t["q"]) for t in head_trades)
    assert Decimal(ticker["volume"]) == volume
    count = int(summed(minutes, 8)) + sum(t["l"] - t["f"] + 1 for t in head_trades)
    assert ticker["count"] == count == ticker["lastId"] - ticker["firstId"] + 1
    highs = [Decimal(m[2]) for m in minutes] + [Decimal(t["p"]) for t in head_trades]
    assert Decimal(ticker["highPrice"]) == max(highs)
    assert Decimal(ticker["bidPrice"]) < Decimal(ticker["askPrice"])


@settings(max_examples=6, deadline=None)
@given(seeds, st.integers(min_value=0, max_value=3 * 86_400_000))
def test_recorded_series_is_served_verbatim(seed: int, offset: int) -> None:
    market = Market(EmulatorClock(START_MS + offset, frozen=True), seed=seed)
    served = market.klines("BTCUSDT", "30m", None, None, 501)
    real = real_klines()
    recorded = [row for row in served if market.anchor.row(row[0]) is not None]
    assert len(recorded) == 500
    for mine, theirs in zip(recorded, real, strict=True):
        assert mine[1:6] == theirs[1:6]
        assert mine[7:] == theirs[7:]
    # finer candles inside the recorded ones add up to them exactly
    for row in recorded[-3:]:
        parts = market.klines("BTCUSDT", "1m", row[0], row[6], 30)
        assert (parts[0][1], parts[-1][4]) == (row[1], row[4])
        assert summed(parts, 7) == Decimal(row[7])
        assert summed(parts, 5) == Decimal(row[5])
