"""A candle refresh asks only for the live end and splices it onto the closed candles."""

from __future__ import annotations

import numpy as np

from marketcache import keys
from marketcache.cache import Cache, CacheOptions
from marketcache.candle_pages import KLINES_LIMIT
from marketcache.clock import ManualClock, settle
from marketcache.config import Settings
from marketcache.freshness import MarketFreshness
from marketcache.models import Candles
from marketcache.service import MarketData
from tests.fakes import FakeSource

STEP_MS = 60_000  # 1m candles
START_MS = 1_700_000_000_000


class TimelineSource(FakeSource):
    """Candles at fixed open times; the live one is the candle open at the clock's now."""

    def __init__(self, clock: ManualClock) -> None:
        super().__init__(clock)
        self.requests: list[tuple[int, int | None]] = []

    def _row(self, index: int) -> list[float]:
        real = self._rows[index % len(self._rows)]
        open_time = START_MS + index * STEP_MS
        return [open_time, *real[1:6], open_time + STEP_MS - 1, *real[7:11]]

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, limit: int, since_ms: int | None = None
    ) -> Candles:
        await self._call("ohlcv", 2)
        self.requests.append((limit, since_ms))
        live = int((self.clock.now() * 1000 - START_MS) // STEP_MS)
        first = live - limit + 1 if since_ms is None else (since_ms - START_MS) // STEP_MS
        last = min(live, first + limit - 1)
        return Candles.from_rows(symbol, timeframe, [self._row(i) for i in range(first, last + 1)])


def setup() -> tuple[ManualClock, TimelineSource, MarketData]:
    clock = ManualClock(start=(START_MS + 5000 * STEP_MS + 10_000) / 1000)
    source = TimelineSource(clock)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    cache = Cache(CacheOptions(max_bytes=64 * 1024 * 1024, refresh_ahead=False), clock=clock)
    return clock, source, MarketData(source, cache, MarketFreshness.from_settings(settings), clock)


def held(market: MarketData) -> Candles:
    assert market.cache is not None
    value = market.cache.store.value(keys.ohlcv_key("binance", "BTC/USDT", "1m"))
    assert value is not None
    return Candles.from_bytes(value)


async def test_a_refresh_fetches_only_the_new_candles() -> None:
    clock, source, market = setup()
    await market.cvd("BTC/USDT", "1m", 100)
    assert source.requests == [(KLINES_LIMIT, None)]
    first = held(market)

    await clock.advance(100)  # stale now; one more candle has opened since (10 s + 100 s)
    stale = await market.cvd("BTC/USDT", "1m", 100)
    assert stale.cache == "stale"
    await settle()
    since = int(first.open_time[-1])
    assert source.requests[-1] == (1 + 3, since)  # one new candle, plus the margin

    spliced = held(market)
    full = await source.fetch_ohlcv("BTC/USDT", "1m", KLINES_LIMIT)
    assert len(spliced) == KLINES_LIMIT
    np.testing.assert_array_equal(spliced.table, full.table)


async def test_an_expired_entry_is_fetched_whole() -> None:
    clock, source, market = setup()
    await market.cvd("BTC/USDT", "1m", 100)
    await clock.advance(3600)  # past the stale window: nothing to build on
    await market.cvd("BTC/USDT", "1m", 100)
    assert source.requests == [(KLINES_LIMIT, None), (KLINES_LIMIT, None)]


async def test_a_page_that_does_not_start_where_asked_means_a_full_fetch() -> None:
    clock, source, market = setup()
    await market.cvd("BTC/USDT", "1m", 100)

    async def shifted(symbol: str, timeframe: str, limit: int, since_ms: int | None = None):  # type: ignore[no-untyped-def]
        source.requests.append((limit, since_ms))
        if since_ms is not None:  # the exchange skipped a candle
            return await TimelineSource.fetch_ohlcv(
                source, symbol, timeframe, limit, since_ms + STEP_MS
            )
        return await TimelineSource.fetch_ohlcv(source, symbol, timeframe, limit)

    source.fetch_ohlcv = shifted  # type: ignore[method-assign]
    await clock.advance(100)
    await market.cvd("BTC/USDT", "1m", 100)
    await settle()
    assert source.requests[-1] == (KLINES_LIMIT, None)
    assert len(held(market)) == KLINES_LIMIT
