"""The hottest markets: the symbols clients ask for most, with price, data age and cache status.

Derived from what the service already keeps: the monitor's per-symbol tally of
market answers (as clients spelled the symbols, merged here to one market) and
the L1 entries of each market's ticker. Reading an entry here is not a lookup:
it changes no counter, no eviction mark and starts no refresh, so looking at
the dashboard never moves the figures it shows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from marketcache import keys
from marketcache.answer import decode, iso
from marketcache.cache.entry import Entry
from marketcache.endpoints import PRICE
from marketcache.errors import MarketCacheError
from marketcache.monitoring.requests import SymbolTally

EntryState = Literal["fresh", "stale", "expired", "absent", "off"]
DEFAULT_LIMIT = 10
MAX_LIMIT = 100


@dataclass(frozen=True, slots=True)
class MarketRow:
    """One market of the table."""

    symbol: str
    answers: int  # market answers served for it since start
    cold: int  # of which had to wait for the exchange (miss or coalesced)
    price: float | None  # the last price held in the cache
    data_age_ms: int | None  # how old that price is
    cache: EntryState  # the state of its ticker entry now
    fetched_at: str | None

    def to_dict(self) -> dict[str, Any]:
        """As the API shows it."""
        return {
            "symbol": self.symbol,
            "answers": self.answers,
            "cold": self.cold,
            "cold_share": round(self.cold / self.answers * 100, 2) if self.answers else None,
            "price": self.price,
            "data_age_ms": self.data_age_ms,
            "cache": self.cache,
            "fetched_at": self.fetched_at,
        }


def merge_tallies(
    tallies: Mapping[str, SymbolTally], normalize: Callable[[str], str]
) -> dict[str, tuple[int, int]]:
    """(answers, cold) per market, merging the spellings clients used; unknown ones dropped."""
    merged: dict[str, tuple[int, int]] = {}
    for raw, tally in list(tallies.items()):
        try:
            symbol = normalize(raw)
        except MarketCacheError:
            continue
        answers, cold = merged.get(symbol, (0, 0))
        merged[symbol] = (answers + tally.answers, cold + tally.cold)
    return merged


def entry_state(entry: Entry | None, now: float) -> EntryState:
    """fresh (a read now is a hit), stale (served while it refreshes), expired, or absent."""
    if entry is None:
        return "absent"
    if now < entry.fresh_until:
        return "fresh"
    if now < entry.stale_until:
        return "stale"
    return "expired"


def _price_of(entry: Entry, answer: bool) -> float | None:
    """`last` of a raw ticker entry, or of a `/price` answer entry."""
    data = decode(entry.value)[1] if answer else entry.value
    last = orjson.loads(data).get("last")
    return float(last) if isinstance(last, int | float) else None


def market_row(
    symbol: str,
    answers: int,
    cold: int,
    entries: Mapping[str, Entry] | None,
    exchange: str,
    now: float,
) -> MarketRow:
    """The row of one market; `entries` is the L1 store's dict (None: uncached service)."""
    if entries is None:
        return MarketRow(symbol, answers, cold, None, None, "off", None)
    ticker = entries.get(keys.ticker_key(exchange, symbol))
    source, answer = ticker, False
    if ticker is None:  # a price answered from the cache keeps its ticker's data too
        source, answer = entries.get(PRICE.key(exchange, symbol)), True
    if source is None:
        return MarketRow(symbol, answers, cold, None, None, "absent", None)
    return MarketRow(
        symbol,
        answers,
        cold,
        _price_of(source, answer),
        max(0, round((now - source.stored_at) * 1000)),
        entry_state(source, now),
        iso(source.stored_at),
    )


def hottest(
    merged: Mapping[str, tuple[int, int]],
    entries: Mapping[str, Entry] | None,
    exchange: str,
    now: float,
    limit: int = DEFAULT_LIMIT,
) -> list[MarketRow]:
    """The `limit` markets with the most answers, most first (ties by symbol)."""
    ranked = sorted(merged.items(), key=lambda item: (-item[1][0], item[0]))[:limit]
    return [
        market_row(symbol, answers, cold, entries, exchange, now)
        for symbol, (answers, cold) in ranked
    ]
