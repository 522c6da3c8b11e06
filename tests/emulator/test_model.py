"""The synthetic market: determinism, stable history, OHLC sanity, kline/trade agreement."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from marketcache.emulator import intervals
from marketcache.emulator.clock import EmulatorClock
from marketcache.emulator.data import real_klines
from marketcache.emulator.market import Market

from .conftest import START_MS

SYMBOLS = ["BTCUSDT", "ETHUSDT", "XRPUSDT", "USDCUSDT", "BNBUSDT"]


def test_same_request_same_answer_on_a_frozen_clock(market: Market) -> None:
    first = market.klines("ETHUSDT", "5m", None, None, 300)
    again = Market(EmulatorClock(START_MS, frozen=True)).klines("ETHUSDT", "5m", None, None, 300)
    assert first == again
    assert market.klines("ETHUSDT", "5m", None, None, 300) == first


@pytest.mark.parametrize("interval", ["1m", "15m", "1h", "1d", "1w", "1M"])
def test_a_candle_does_not_depend_on_the_window_asked(market: Market, interval: str) -> None:
    long = market.klines("ETHUSDT", interval, None, None, 200)
    short = market.klines("ETHUSDT", interval, None, None, 7)
    assert short == long[-7:]
    middle_open = long[100][0]
    from_start = market.klines("ETHUSDT", interval, middle_open, None, 5)
    assert from_start == long[100:105]
    ending = market.klines("ETHUSDT", interval, None, long[150][0], 10)
    assert ending == long[141:151]
    both = market.klines("ETHUSDT", interval, long[20][0] - 1, long[29][0] + 1, 1000)
    assert both == long[20:30]


def test_symbols_and_intervals_differ(market: Market) -> None:
    eth = market.klines("ETHUSDT", "1h", None, None, 50)
    xrp = market.klines("XRPUSDT", "1h", None, None, 50)
    assert [r[5] for r in eth] != [r[5] for r in xrp]
    assert float(eth[-1][4]) > 10 * float(xrp[-1][4])  # ETH is priced far above XRP


@pytest.mark.parametrize("symbol", SYMBOLS)
@pytest.mark.parametrize("interval", ["1s", "1m", "30m", "4h", "3d"])
def test_candles_are_well_formed(market: Market, symbol: str, interval: str) -> None:
    rows = market.klines(symbol, interval, None, None, 1000)
    assert len(rows) == 1000
    length = intervals.INTERVAL_MS[interval]
    for previous, row in itertools.pairwise(rows):
        assert row[0] - previous[0] == length
    for row in rows:
        o, h, low, c, vol, quote, taker, taker_quote = (
            float(row[i]) for i in (1, 2, 3, 4, 5, 7, 9, 10)
        )
        assert h >= max(o, c)
        assert low <= min(o, c)
        assert low > 0
        assert 0 <= taker <= vol
        assert 0 <= taker_quote <= quote
        assert row[6] == row[0] + length - 1
        assert isinstance(row[8], int)
        assert row[8] >= 0
        if row[0] + length <= START_MS and vol > 0:  # closed candles trade inside their range
            # (a second without trades is flat at the last price, with no volume)
            assert low * vol * 0.999 <= quote <= h * vol * 1.001
    assert rows[-1][0] <= START_MS < rows[-1][0] + length  # the last candle is the live one


def test_calendar_intervals_align(market: Market) -> None:
    weeks = market.klines("BTCUSDT", "1w", None, None, 10)
    # Binance weeks open on Monday 00:00 UTC; 1970-01-05 was a Monday
    assert all((r[0] - 4 * 86_400_000) % (7 * 86_400_000) == 0 for r in weeks)
    months = market.klines("BTCUSDT", "1M", None, None, 14)
    from datetime import UTC, datetime

    starts = [datetime.fromtimestamp(r[0] / 1000, tz=UTC) for r in months]
    assert all(d.day == 1 and d.hour == 0 for d in starts)
    assert starts[-1] == datetime(2024, 1, 1, tzinfo=UTC)
    assert all(months[i][6] + 1 == months[i + 1][0] for i in range(13))


def test_real_btcusdt_30m_is_served_unchanged_and_ends_now(market: Market) -> None:
    with_live = market.klines("BTCUSDT", "30m", None, None, 501)
    served = with_live[:-1]  # the recorded candles end with the last closed one
    real = real_klines()
    shift = served[-1][0] - real[-1][0]
    assert with_live[-1][0] <= START_MS < with_live[-1][0] + 30 * 60_000
    assert with_live[-1][1] == real[-1][4]  # the live (model) candle opens at the real close
    for mine, theirs in zip(served, real, strict=True):
        assert mine[0] == theirs[0] + shift
        assert mine[6] == theirs[6] + shift
        assert mine[1:6] == theirs[1:6]
        assert mine[7:] == theirs[7:]
    # history before the recorded window comes from the model, and joins it
    earlier = market.klines("BTCUSDT", "30m", None, served[0][0] - 1, 3)
    assert len(earlier) == 3
    assert earlier[-1][0] == served[0][0] - 30 * 60_000
    assert abs(float(earlier[-1][4]) / float(real[0][1]) - 1) < 0.01


def test_btcusdt_other_intervals_follow_the_real_path(market: Market) -> None:
    real = market.klines("BTCUSDT", "30m", None, None, 500)
    hours = market.klines("BTCUSDT", "1h", real[1][0], None, 100)
    by_open = {r[0]: r for r in real}
    for hour in hours[:-1]:
        if hour[0] in by_open:
            assert hour[1] == by_open[hour[0]][1]  # an hour opens at the real 30m open


def test_one_minute_trades_add_up_to_their_candle(market: Market) -> None:
    rows = market.klines("ETHUSDT", "1m", None, None, 30)
    g = market.grid("ETHUSDT")
    for row in rows[:-1]:
        trades = market.minute("ETHUSDT", row[0])
        buy = ~trades.buyer_is_maker
        assert g.size(int(trades.qty.sum())) == row[5]
        assert g.size(int(trades.qty[buy].sum())) == row[9]
        assert g.quote(int((trades.price * trades.qty).sum())) == row[7]
        assert g.quote(int((trades.price * trades.qty)[buy].sum())) == row[10]
        assert g.price(int(trades.price[0])) == row[1]
        assert g.price(int(trades.price[-1])) == row[4]
        assert g.price(int(trades.price.max())) == row[2]
        assert g.price(int(trades.price.min())) == row[3]
        assert int((trades.last_id - trades.first_id + 1).sum()) == row[8]
        assert np.all(np.diff(trades.time) >= 0)
        assert np.all((trades.time >= row[0]) & (trades.time <= row[6]))
        assert np.all(np.diff(trades.agg_id) == 1)


def test_live_minute_candle_is_the_trades_so_far(market: Market) -> None:
    clock = market.clock
    clock.set(START_MS + 37_123)
    live = market.klines("ETHUSDT", "1m", None, None, 1)[0]
    so_far = market.trades_so_far("ETHUSDT", clock.now_ms())
    g = market.grid("ETHUSDT")
    assert live[5] == g.size(int(so_far.qty.sum()))
    assert live[4] == g.price(int(so_far.price[-1]))
    assert np.all(so_far.time <= clock.now_ms())


def test_btcusdt_price_moves_with_the_clock(market: Market) -> None:
    from marketcache.emulator import quotes

    prices = set()
    for _ in range(5):
        prices.add(quotes.ticker_24hr(market, "BTCUSDT")["lastPrice"])
        market.clock.advance(61_000)
    assert len(prices) > 1


def test_live_candle_and_price_move_with_a_running_clock() -> None:
    clock = EmulatorClock(START_MS + 5 * 60_000, frozen=True)  # 00:15
    market = Market(clock)
    before = market.klines("ETHUSDT", "1h", None, None, 3)
    closed_before = before[:-1]
    clock.advance(20 * 60_000)
    after = market.klines("ETHUSDT", "1h", None, None, 3)
    assert after[:-1] == closed_before  # closed history is stable
    assert after[-1][0] == before[-1][0]
    assert after[-1][5] != before[-1][5]  # the live candle's volume grew
    assert float(after[-1][5]) > float(before[-1][5])


def test_ticker_covers_exactly_its_rolling_day(market: Market) -> None:
    from marketcache.emulator import quotes, tape

    market.clock.set(START_MS + 12_345)
    for symbol in ("BTCUSDT", "ETHUSDT"):
        ticker = quotes.ticker_24hr(market, symbol)
        g = market.grid(symbol)
        start, end = ticker["openTime"], ticker["closeTime"]
        assert end == market.clock.now_ms()
        assert end - start == 86_400_000
        trades = tape.window(market, symbol, start, start + 59_999, 1000)
        assert ticker["openPrice"] == trades[0]["p"]  # the first trade of the window
        assert ticker["lastPrice"] == tape.recent(market, symbol, 1)[0]["p"]
        assert ticker["lastPrice"] == market.klines(symbol, "1m", None, None, 1)[0][4]
        assert ticker["count"] == ticker["lastId"] - ticker["firstId"] + 1
        assert trades[0]["f"] == ticker["firstId"]
        assert quotes.last_price(market, symbol) == ticker["lastPrice"]
        assert g.price(market.trade_price(symbol, end)) == ticker["lastPrice"]
