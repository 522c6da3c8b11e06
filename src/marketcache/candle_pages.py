"""How a candle series is fetched: the whole page once, then only its live end.

Closed candles never change, so a refresh asks for the candles from the one that
was live at the last fetch onwards and splices them onto what the cache holds.
Anything unexpected (a gap, a short or full page) falls back to a full fetch.
"""

from __future__ import annotations

import numpy as np

from marketcache.clock import Clock
from marketcache.freshness import timeframe_seconds
from marketcache.models import Candles, FloatArray
from marketcache.sources.base import Source

KLINES_LIMIT = 1000  # one fetch serves every endpoint; Binance's weight is the same to 1000
EXTEND_MARGIN = 3  # candles asked beyond those expected, so a full page means "not there yet"
EXTEND_MAX = 100  # beyond this many new candles, fetch the whole series again


async def fetch_candles(
    source: Source, clock: Clock, held: bytes | None, symbol: str, timeframe: str
) -> Candles:
    """The latest `KLINES_LIMIT` candles; only the live end if `held` has the rest."""
    if held is not None:
        spliced = await _extend(source, clock, Candles.from_bytes(held), symbol, timeframe)
        if spliced is not None:
            return spliced
    return await source.fetch_ohlcv(symbol, timeframe, KLINES_LIMIT)


async def _extend(
    source: Source, clock: Clock, held: Candles, symbol: str, timeframe: str
) -> Candles | None:
    if len(held) < KLINES_LIMIT:
        return None  # a young market: its whole history is one cheap page anyway
    since = int(held.open_time[-1])
    step_ms = timeframe_seconds(timeframe) * 1000
    limit = int((clock.now() * 1000 - since) // step_ms) + EXTEND_MARGIN
    if limit > EXTEND_MAX:
        return None
    recent = await source.fetch_ohlcv(symbol, timeframe, limit, since_ms=since)
    # A page shorter than asked reached the present; it must start where we asked.
    if not 0 < len(recent) < limit or int(recent.open_time[0]) != since:
        return None
    return lay_over(held, recent.table)


def lay_over(held: Candles, rows: FloatArray, streamed: bool = False) -> Candles:
    """`held` with `rows` replacing its candles from the first row's open time on (and
    appended after them), the oldest dropped beyond `KLINES_LIMIT`."""
    older = held.table[held.open_time < float(rows[0, 0])]
    table = np.vstack([older, rows])[-KLINES_LIMIT:]
    return Candles(held.symbol, held.timeframe, np.ascontiguousarray(table), streamed)
