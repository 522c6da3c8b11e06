"""Batches: the prices of many markets in one request, each from its own cache entry.

Each symbol is answered exactly as `POST /price` would answer it, from the same
cache entry. The symbols whose answer is not in the cache are fetched upstream
together: the first of their loads to run makes one bulk request for all of them
(Binance: one `ticker/24hr?symbols=[...]`), and the others take their ticker from
it. A symbol that fails — unknown, or the exchange failing with no stale copy —
is an error in its own place; the rest are answered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from marketcache.answer import Answer
from marketcache.endpoints import PRICE
from marketcache.errors import MarketCacheError
from marketcache.models import Ticker
from marketcache.service import MarketData

CACHED = frozenset(("hit", "stale"))  # answered from the cache


@dataclass(frozen=True, slots=True)
class Item:
    """One symbol of a batch: its answer, or the error it got."""

    requested: str
    answer: Answer | None = None
    error: MarketCacheError | None = None


class BulkTickers:
    """One upstream request for the tickers of `symbols`, made on first need."""

    def __init__(self, market: MarketData, symbols: Sequence[str]) -> None:
        self._market = market
        self._symbols = list(dict.fromkeys(symbols))
        self._task: asyncio.Task[dict[str, Ticker]] | None = None

    def fetcher(self, symbol: str) -> Any:
        """The `fetch` for one symbol's ticker load: its share of the bulk request."""

        async def fetch() -> Ticker:
            if symbol not in self._symbols:  # not foreseen: its own request
                return await self._market.source.fetch_ticker(symbol)
            if self._task is None:
                self._task = asyncio.ensure_future(self._market.source.fetch_tickers(self._symbols))
            tickers = await asyncio.shield(self._task)
            return tickers[symbol]

        return fetch


async def prices(market: MarketData, symbols: Sequence[str]) -> list[Item]:
    """The price answer of each requested symbol, in the order asked."""
    await market.ensure_markets()
    normalized: dict[str, str] = {}
    items: dict[str, Item] = {}
    for raw in symbols:
        try:
            normalized[raw] = market.source.normalize_symbol(raw)
        except MarketCacheError as exc:
            items[raw] = Item(raw, error=exc)
    wanted = list(dict.fromkeys(normalized.values()))
    answers: dict[str, Answer] = {}
    cold: list[str] = []
    for symbol in wanted:
        cached = market.cached(PRICE.key(market.exchange, symbol))
        if cached is not None:
            answers[symbol] = cached
        else:
            cold.append(symbol)
    bulk = BulkTickers(market, cold)
    results = await asyncio.gather(
        *(market.normalized_price(s, bulk.fetcher(s)) for s in cold), return_exceptions=True
    )
    errors: dict[str, MarketCacheError] = {}
    for symbol, result in zip(cold, results, strict=True):
        if isinstance(result, MarketCacheError):
            errors[symbol] = result
        elif isinstance(result, BaseException):
            raise result
        else:
            answers[symbol] = result
    for raw, symbol in normalized.items():
        items[raw] = Item(raw, answer=answers.get(symbol), error=errors.get(symbol))
    return [items[raw] for raw in symbols]


def body(items: Sequence[Item], now: float, source: str, exchange: str) -> bytes:
    """The batch's response body: each item as `/price` would answer it, in order."""
    parts: list[bytes] = []
    served = sum(1 for i in items if i.answer is not None)
    from_cache = sum(1 for i in items if i.answer is not None and i.answer.cache in CACHED)
    for item in items:
        head = orjson.dumps(item.requested)
        if item.answer is not None:
            item_meta = orjson.dumps(item.answer.meta(now))
            parts.append(
                b'{"requested":%b,"success":true,"data":%b,"meta":%b}'
                % (head, item.answer.data, item_meta)
            )
        else:
            assert item.error is not None
            error = orjson.dumps(item.error.to_body())
            parts.append(b'{"requested":%b,"success":false,"error":%b}' % (head, error))
    meta = {
        "symbols": len(items),
        "answered": served,
        "failed": len(items) - served,
        "from_cache": from_cache,
        "source": source,
        "exchange": exchange,
    }
    return b'{"success":true,"data":{"results":[%b]},"meta":%b}' % (
        b",".join(parts),
        orjson.dumps(meta),
    )


def cache_status(items: Sequence[Item]) -> str:
    """`hit` when every answered symbol came from the cache, else `miss` (the X-Cache)."""
    answered = [i.answer for i in items if i.answer is not None]
    if not answered:
        return "miss"
    if answered[0].cache == "bypass":
        return "bypass"
    return "hit" if all(a.cache in CACHED for a in answered) else "miss"
