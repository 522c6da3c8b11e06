"""The stream manager on a manual clock with a fake stream client: opened for demand,
closed when quiet, REST at once when a stream drops or stalls, reconnected with
back-off, one owner across replicas and a lapsed owner's stream taken over."""

from __future__ import annotations

import asyncio

import pytest

from marketcache.cache import Cache, CacheOptions, MemoryBackend
from marketcache.cache.backend import SharedBackend
from marketcache.clock import ManualClock, settle
from marketcache.config import Settings
from marketcache.errors import ExchangeUnavailable
from marketcache.freshness import MarketFreshness
from marketcache.models import Ticker, is_streamed
from marketcache.sources.streaming import TickerUpdate, TradeUpdate
from marketcache.streams.manager import StreamManager, StreamOptions
from marketcache.streams.worker import Backoff
from tests.fakes import FakeSource

KEY = "ticker:binance:BTC/USDT"
OPTIONS = StreamOptions(
    reads_per_min=3,
    quiet_s=30.0,
    stall_s=5.0,
    down_alert_s=10.0,
    backoff=Backoff(1.0, 4.0),
    lease_ttl_s=3.0,
)


class FakeStreams:
    """Messages the test puts in, errors it raises; what was subscribed and dropped."""

    def __init__(self) -> None:
        self.tickers: asyncio.Queue[TickerUpdate | Exception] = asyncio.Queue()
        self.trade_queue: asyncio.Queue[TradeUpdate | Exception] = asyncio.Queue()
        self.subscribed = 0
        self.unwatched: list[tuple[str, str]] = []
        self.closed = False

    async def subscribe(self) -> None:
        self.subscribed += 1

    async def ticker(self, symbol: str) -> TickerUpdate:
        got = await self.tickers.get()
        if isinstance(got, Exception):
            raise got
        return got

    async def trades(self, symbol: str) -> TradeUpdate:
        got = await self.trade_queue.get()
        if isinstance(got, Exception):
            raise got
        return got

    async def unwatch(self, kind: str, symbol: str, timeframe: str | None = None) -> None:
        self.unwatched.append((kind, symbol))

    async def close(self) -> None:
        self.closed = True


def ticker_update(clock: ManualClock, last: float = 100.0) -> TickerUpdate:
    at = int(clock.now() * 1000)
    ticker = Ticker("BTC/USDT", at, last, 99.0, 101.0, 90.0, 110.0, 80.0, 10.0, 11.1, 1.0, 2.0)
    return TickerUpdate(ticker, at)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def manager(
    clock: ManualClock, backend: SharedBackend | None = None
) -> tuple[StreamManager, FakeStreams, Cache]:
    cache = Cache(
        CacheOptions(max_bytes=1_000_000, refresh_ahead=False), clock=clock, backend=backend
    )
    client = FakeStreams()
    freshness = MarketFreshness.from_settings(Settings())
    made = StreamManager(client, cache.writes, FakeSource(clock), freshness, clock, OPTIONS)  # type: ignore[arg-type]
    return made, client, cache


def read(made: StreamManager, times: int = 3) -> None:
    for _ in range(times):
        made.read(KEY)


async def test_a_series_read_often_enough_is_streamed_into_the_cache(clock: ManualClock) -> None:
    made, client, cache = manager(clock)
    read(made, 2)
    await made.tick()
    assert not made.owned
    read(made, 1)
    await made.tick()
    assert KEY in made.owned
    await client.tickers.put(ticker_update(clock))
    await settle()
    held = cache.writes.held(KEY)
    assert held is not None
    assert is_streamed(held.value)
    assert made.streamed(KEY)
    await client.trade_queue.put(
        TradeUpdate(123.0, int(clock.now() * 1000), int(clock.now() * 1000))
    )
    await settle()
    held = cache.writes.held(KEY)
    assert held is not None
    assert Ticker.from_bytes(held.value).last == 123.0
    figures = made.figures()
    assert (figures["open"], figures["messages"], figures["opened"]) == (1.0, 2.0, 1.0)
    await made.stop()
    assert client.closed


async def test_a_quiet_series_is_unsubscribed(clock: ManualClock) -> None:
    made, client, _ = manager(clock)
    read(made)
    await made.tick()
    await clock.advance(OPTIONS.quiet_s)
    await made.tick()
    assert not made.owned
    assert set(client.unwatched) == {("ticker", "BTC/USDT"), ("trades", "BTC/USDT")}
    assert made.figures()["closed"] == 1.0
    await made.stop()


async def test_a_drop_ends_the_fresh_window_at_once_and_reconnects_after_a_backoff(
    clock: ManualClock,
) -> None:
    made, client, cache = manager(clock)
    read(made)
    await made.tick()
    await client.tickers.put(ticker_update(clock))
    await settle()
    await clock.advance(0.1)
    await client.tickers.put(ExchangeUnavailable("connection closed"))
    await settle()
    worker = made.owned[KEY].worker
    assert worker.state == "down"
    held = cache.writes.held(KEY)
    assert held is not None
    assert held.fresh_until <= clock.now()  # the next read refreshes it by REST
    subscribed = client.subscribed
    await clock.advance(OPTIONS.backoff.first)
    assert client.subscribed > subscribed  # a new attempt
    await client.tickers.put(ticker_update(clock))
    await settle()
    assert worker.state == "live"
    assert worker.attempts == 2
    await made.stop()


async def test_a_stream_down_long_enough_is_reported_for_the_alert(clock: ManualClock) -> None:
    made, client, _ = manager(clock)
    read(made)
    await made.tick()
    for _ in range(6):
        await client.tickers.put(ExchangeUnavailable("refused"))
    await settle()
    assert made.down() == {}
    for _ in range(4):  # back-off 1, 2, 4, 4 s: still down
        await clock.advance(4.0)
        read(made, 1)
    down = made.down()
    assert list(down) == ["ticker BTC/USDT"]
    assert down["ticker BTC/USDT"] >= OPTIONS.down_alert_s
    await made.stop()


async def test_a_stalled_stream_is_cut_and_falls_back(clock: ManualClock) -> None:
    made, client, cache = manager(clock)
    read(made)
    await made.tick()
    await client.tickers.put(ticker_update(clock))
    await settle()
    worker = made.owned[KEY].worker
    await clock.advance(OPTIONS.stall_s)
    read(made, 1)
    await made.tick()
    await settle()
    assert worker.state == "down"
    assert worker.last_error is not None
    assert "stalled" in worker.last_error
    held = cache.writes.held(KEY)
    assert held is not None
    assert held.fresh_until <= clock.now()
    await made.stop()


async def test_one_replica_streams_a_series_and_another_takes_it_when_its_lease_lapses(
    clock: ManualClock,
) -> None:
    first = MemoryBackend(clock)
    a, client_a, _ = manager(clock, first)
    b, client_b, _ = manager(clock, first.peer())
    read(a)
    read(b)
    await a.tick()
    await b.tick()
    assert KEY in a.owned
    assert KEY not in b.owned
    for _ in range(4):  # a renews its lease; b keeps looking and keeps out
        await clock.advance(1.0)
        read(a, 1)
        read(b, 1)
        await a.tick()
        await b.tick()
    assert KEY in a.owned
    assert KEY not in b.owned
    a_task = a.owned[KEY].worker  # a dies: no more renewals, its lease lapses
    await a_task.stop()
    for _ in range(5):
        await clock.advance(1.0)
        read(b, 1)
        await b.tick()
    assert KEY in b.owned
    await b.stop()
    del a.owned[KEY]
    await a.stop()
    assert client_b.subscribed >= 1
    assert client_a.subscribed >= 1
