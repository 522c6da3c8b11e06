"""The hottest markets, derived from the request tally and the L1 entries."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketcache import keys
from marketcache.answer import Stamps, encode
from marketcache.cache.entry import Entry
from marketcache.dashboard.markets import entry_state, hottest, market_row, merge_tallies
from marketcache.endpoints import PRICE
from marketcache.errors import UnknownSymbol
from marketcache.monitoring.requests import SymbolTally

NOW = 1_764_000_100.0


def normalize(raw: str) -> str:
    """A stand-in for the exchange's symbol index: a few spellings of two markets."""
    table = {"btcusdt": "BTC/USDT", "BTC/USDT": "BTC/USDT", "BTC-USDT": "BTC/USDT"}
    table |= {"ETH/USDT": "ETH/USDT", "ethusdt": "ETH/USDT"}
    if raw not in table:
        raise UnknownSymbol(raw, [])
    return table[raw]


def ticker_entry(symbol: str, last: float, stored_at: float, fresh: float, stale: float) -> Entry:
    value = orjson.dumps({"symbol": symbol, "last": last})
    return Entry(keys.ticker_key("binance", symbol), value, 100, stored_at, fresh, stale)


def test_spellings_merge_and_unknown_ones_are_dropped() -> None:
    tallies = {
        "btcusdt": SymbolTally(3, 1),
        "BTC-USDT": SymbolTally(2, 0),
        "ethusdt": SymbolTally(1, 1),
        "NOPE": SymbolTally(9, 9),
    }
    assert merge_tallies(tallies, normalize) == {"BTC/USDT": (5, 1), "ETH/USDT": (1, 1)}


@pytest.mark.parametrize(
    ("now", "state"),
    [(NOW - 1, "fresh"), (NOW + 1, "stale"), (NOW + 30, "expired")],
)
def test_entry_state_follows_its_windows(now: float, state: str) -> None:
    entry = ticker_entry("BTC/USDT", 1.0, NOW - 2, NOW, NOW + 28)
    assert entry_state(entry, now) == state
    assert entry_state(None, now) == "absent"


def test_row_reads_the_ticker_price_and_age() -> None:
    entry = ticker_entry("BTC/USDT", 5270.5, NOW - 1.25, NOW + 1, NOW + 20)
    row = market_row("BTC/USDT", 4, 1, {entry.key: entry}, "binance", NOW).to_dict()
    assert row == {
        "symbol": "BTC/USDT",
        "answers": 4,
        "cold": 1,
        "cold_share": 25.0,
        "price": 5270.5,
        "data_age_ms": 1250,
        "cache": "fresh",
        "fetched_at": "2025-11-24T16:01:38.750Z",
    }


def test_row_falls_back_to_the_price_answer() -> None:
    key = PRICE.key("binance", "ETH/USDT")
    value = encode({"symbol": "ETH/USDT", "last": 485.03}, Stamps(NOW - 3, NOW - 1, NOW + 27))
    entry = Entry(key, value, 100, NOW - 3, NOW - 1, NOW + 27)
    row = market_row("ETH/USDT", 1, 1, {key: entry}, "binance", NOW)
    assert (row.price, row.data_age_ms, row.cache) == (485.03, 3000, "stale")


def test_rows_without_data_or_without_cache() -> None:
    assert market_row("BTC/USDT", 1, 0, {}, "binance", NOW).cache == "absent"
    off = market_row("BTC/USDT", 1, 0, None, "binance", NOW)
    assert (off.cache, off.price, off.data_age_ms) == ("off", None, None)


@given(
    st.dictionaries(
        st.text(alphabet="ABCDEFGH", min_size=1, max_size=3),
        st.tuples(st.integers(0, 1000), st.integers(0, 1000)),
        max_size=30,
    ),
    st.integers(1, 40),
)
def test_hottest_is_the_top_by_answers(merged: dict[str, tuple[int, int]], limit: int) -> None:
    rows = hottest(merged, {}, "binance", NOW, limit)
    assert len(rows) == min(limit, len(merged))
    answers = [row.answers for row in rows]
    assert answers == sorted(answers, reverse=True)
    left_out = set(merged) - {row.symbol for row in rows}
    assert all(merged[s][0] <= min(answers) for s in left_out)
