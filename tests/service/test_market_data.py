"""MarketData without HTTP: what it asks of the exchange and how answers age."""

from __future__ import annotations

import math

import numpy as np
import orjson
import pytest

from marketcache.cache import Cache, CacheOptions
from marketcache.clock import ManualClock
from marketcache.config import Settings
from marketcache.freshness import MarketFreshness
from marketcache.models import Candles
from marketcache.service import MarketData
from tests.fakes import FakeSource


class NoTakerSource(FakeSource):
    """An exchange whose candles carry no taker-buy volume (most exchanges through ccxt)."""

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, limit: int, since_ms: int | None = None
    ) -> Candles:
        candles = await super().fetch_ohlcv(symbol, timeframe, limit, since_ms)
        table = np.array(candles.table)
        table[:, Candles.COLUMNS.index("taker_buy_volume")] = math.nan
        return Candles(candles.symbol, candles.timeframe, table)


def market_data(source: FakeSource, clock: ManualClock, cached: bool = True) -> MarketData:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    cache = (
        Cache(CacheOptions(max_bytes=16 * 1024 * 1024, refresh_ahead=False), clock=clock)
        if cached
        else None
    )
    return MarketData(source, cache, MarketFreshness.from_settings(settings), clock)


@pytest.mark.parametrize("cached", [True, False])
async def test_cvd_falls_back_to_trades_without_taker_volume(cached: bool) -> None:
    clock = ManualClock()
    source = NoTakerSource(clock)
    market = market_data(source, clock, cached)
    answer = await market.cvd("BTC/USDT", "15m", 100)
    data = orjson.loads(answer.data)
    assert data["basis"] == "trades"
    assert data["series"]
    assert source.calls["trades"] == 1


async def test_cvd_from_candles_needs_no_trades() -> None:
    clock = ManualClock()
    source = FakeSource(clock)
    data = orjson.loads((await market_data(source, clock).cvd("BTC/USDT", "15m", 100)).data)
    assert data["basis"] == "candles"
    assert len(data["series"]) == 100
    assert source.calls["trades"] == 0


async def test_an_answer_never_outlives_its_raw_data() -> None:
    clock = ManualClock()
    source = FakeSource(clock)
    market = market_data(source, clock)
    await market.price("BTC/USDT")
    await clock.advance(1.0)  # the ticker (fresh 2 s) has 1 s left
    hit = await market.price("BTC/USDT")
    assert hit.cache == "hit"
    await clock.advance(1.5)  # the ticker is stale now, so is the answer built on it
    stale = await market.price("BTC/USDT")
    assert stale.cache == "stale"
    assert stale.meta(clock.now())["age_ms"] == 2500


async def test_warm_reports_each_symbol() -> None:
    clock = ManualClock()
    source = FakeSource(clock)
    results = await market_data(source, clock).warm(["BTC/USDT", "XXX/YYY"], ["15m"])
    assert results["BTC/USDT"]["status"] == "warmed"
    assert results["XXX/YYY"]["status"] == "error"
    assert results["XXX/YYY"]["error"]["code"] == "unknown_symbol"
    assert source.calls["ohlcv"] == 1


async def test_an_answer_computed_from_stale_data_says_stale() -> None:
    clock = ManualClock()
    source = FakeSource(clock)
    market = market_data(source, clock)
    await market.comprehensive_analysis("BTC/USDT", "15m")
    await clock.advance(6.0)  # candles (fresh 5 s) are stale now, but in their stale window
    answer = await market.volume_spike("BTC/USDT", "15m", 20, 2.0)  # a new answer, from them
    assert answer.cache == "stale"
    assert answer.meta(clock.now())["age_ms"] == 6000
