"""One market's stream: messages into the cache, REST at once when it fails, back-off.

A worker runs attempts: subscribe (paced by the client's limits), then write each
message's raw entry until the stream fails (the connection drops, an error) or the
manager finds it stalled and cuts it. When an attempt ends, the key's fresh window
is ended at once (`Writes.expire_fresh`), so the next read refreshes it by REST
while the stream is away; the next attempt waits a back-off that doubles from
`retry_s` to `retry_max_s` and starts over at `retry_s` once a message arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from marketcache.cache.entry import Freshness
from marketcache.cache.writes import Writes
from marketcache.candle_pages import KLINES_LIMIT
from marketcache.clock import Clock
from marketcache.errors import BadResponse, MarketCacheError
from marketcache.freshness import MarketFreshness, timeframe_seconds
from marketcache.models import Candles
from marketcache.sources.base import Source
from marketcache.streams.feeds import Target, TickerFeed, splice
from marketcache.streams.rate import Rate
from marketcache.tasks import stop_tasks

if TYPE_CHECKING:
    from marketcache.sources.streaming import CcxtStreams

log = logging.getLogger(__name__)

State = Literal["starting", "live", "down"]


@dataclass(frozen=True, slots=True)
class Backoff:
    """The pause before reconnecting: doubles from `first` up to `most`."""

    first: float = 1.0
    most: float = 30.0


class Stalled(MarketCacheError):
    """No message for longer than the stall limit: the connection is cut and made again."""


class Worker:
    """Keeps one raw series (`Target`) fresh from the exchange's stream."""

    def __init__(
        self,
        target: Target,
        client: CcxtStreams,
        writes: Writes,
        source: Source,
        freshness: MarketFreshness,
        clock: Clock,
        *,
        backoff: Backoff,
        rate: Rate,
    ) -> None:
        self.target = target
        self._client = client
        self._writes = writes
        self._source = source
        self._freshness = freshness
        self._clock = clock
        self._backoff = backoff
        self._rate = rate
        self.state: State = "starting"
        self.started_at = clock.now()
        self.last_message: float | None = None  # our clock, when the last message came
        self.exchange_ms: int | None = None  # the exchange time of the last message
        self.down_since: float | None = None
        self.messages = 0
        self.attempts = 0
        self.backfills = 0
        self.last_error: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._attempt: asyncio.Task[None] | None = None
        self._attempt_started = 0.0

    # ---- lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        """Start streaming."""
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop streaming and unsubscribe (the raw entry stays, with its windows)."""
        await stop_tasks(self._task)
        t = self.target
        if t.kind == "ticker":
            await self._client.unwatch("ticker", t.symbol)
            await self._client.unwatch("trades", t.symbol)
        else:
            await self._client.unwatch("ohlcv", t.symbol, t.timeframe)

    def cut(self, reason: str) -> None:
        """End the current attempt (a stall): it falls back to REST and reconnects."""
        if self._attempt is not None and not self._attempt.done():
            self.last_error = reason
            self._attempt.cancel()

    def stalled(self, now: float, stall_s: float) -> bool:
        """Whether the live attempt has had no message for `stall_s` seconds."""
        if self._attempt is None or self._attempt.done():
            return False
        since = self.last_message if self.last_message is not None else self._attempt_started
        return now - max(since, self._attempt_started) >= stall_s

    def age(self, now: float) -> float | None:
        """Seconds since the last message's exchange time, or None before one."""
        return None if self.exchange_ms is None else max(0.0, now - self.exchange_ms / 1000)

    def down_for(self, now: float) -> float:
        """Seconds the stream has been down (0 while live)."""
        return 0.0 if self.down_since is None else now - self.down_since

    # ---- the attempts -----------------------------------------------------------------

    async def _run(self) -> None:
        pause = self._backoff.first
        while True:
            self.attempts += 1
            self._attempt_started = self._clock.now()
            before = self.messages
            self._attempt = asyncio.get_running_loop().create_task(self._stream())
            try:
                await asyncio.wait({self._attempt})
            finally:
                if not self._attempt.done():  # we are being stopped
                    self._attempt.cancel()
                    with contextlib.suppress(BaseException):
                        await self._attempt
            error: BaseException | None
            error = Stalled("stalled") if self._attempt.cancelled() else self._attempt.exception()
            self._went_down(error)
            if self.messages > before:
                pause = self._backoff.first
            await self._clock.sleep(pause)
            pause = min(pause * 2, self._backoff.most)

    def _went_down(self, error: BaseException | None) -> None:
        if error is not None and not isinstance(error, MarketCacheError):
            log.error("stream %s failed", self.target.name, exc_info=error)
        if not isinstance(error, Stalled):
            self.last_error = f"{type(error).__name__}: {error}" if error else "ended"
        log.warning("stream %s down (%s): REST until it is back", self.target.name, self.last_error)
        self.state = "down"
        if self.down_since is None:
            self.down_since = self._clock.now()
        self._writes.expire_fresh(self.target.key)  # the next read refreshes it by REST

    def _received(self, count: int, exchange_ms: int) -> None:
        now = self._clock.now()
        self.messages += count
        self._rate.add(now, count)
        self.last_message = now
        self.exchange_ms = exchange_ms
        self.state = "live"
        self.down_since = None

    async def _put(self, value: bytes, exchange_ms: int, freshness: Freshness) -> None:
        stored_at = min(exchange_ms / 1000, self._clock.now())
        await self._writes.put(self.target.key, value, stored_at, freshness)

    async def _stream(self) -> None:
        t = self.target
        if t.kind == "ticker":
            feed = TickerFeed(t.symbol)
            loops = [self._tickers(feed), self._trades(feed)]
        else:
            loops = [self._candles()]
        tasks = [asyncio.ensure_future(loop) for loop in loops]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _tickers(self, feed: TickerFeed) -> None:
        await self._client.subscribe()
        while True:
            update = await self._client.ticker(self.target.symbol)
            self._received(1, update.at_ms)
            ticker = feed.on_ticker(update)
            if ticker is not None:
                await self._put(ticker.to_bytes(), update.at_ms, self._freshness.ticker)

    async def _trades(self, feed: TickerFeed) -> None:
        await self._client.subscribe()
        while True:
            update = await self._client.trades(self.target.symbol)
            self._received(update.count, update.at_ms)
            ticker = feed.on_trade(update)
            if ticker is not None:
                await self._put(ticker.to_bytes(), update.at_ms, self._freshness.ticker)

    async def _candles(self) -> None:
        t = self.target
        assert t.timeframe is not None
        period_ms = timeframe_seconds(t.timeframe) * 1000
        await self._client.subscribe()
        held = await self._history(backfill=False)
        while True:
            update = await self._client.candles(t.symbol, t.timeframe, period_ms)
            self._received(update.count, update.at_ms)
            spliced = splice(held, update.rows, t.timeframe)
            if spliced is None:  # a candle was missed: the history again, once
                held = await self._history(backfill=True)
                spliced = splice(held, update.rows, t.timeframe)
                if spliced is None:
                    raise BadResponse(f"stream {t.name}: candles do not join the history")
            held = spliced
            live_close = float(held.close_time[-1])
            now = self._clock.now()
            freshness = self._freshness.klines(live_close, now, streamed=True)
            await self._put(held.to_bytes(), update.at_ms, freshness)

    async def _history(self, *, backfill: bool) -> Candles:
        """The closed candles to splice onto: the cache's, else (or on a gap) one REST load."""
        t = self.target
        assert t.timeframe is not None
        held = None if backfill else self._writes.held(t.key)
        if held is not None:
            candles = Candles.from_bytes(held.value)
            if len(candles):
                return candles
        self.backfills += 1
        return await self._source.fetch_ohlcv(t.symbol, t.timeframe, KLINES_LIMIT)
