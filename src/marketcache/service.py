"""MarketData: the operations the routes call, cached or straight to the exchange.

Two levels of caching, both through `Cache.get_or_load`:
- raw series (ticker, candles) are shared entries: the analysis, volume-spike and
  CVD answers for one market and timeframe cost one candle fetch between them;
- answers are cached as their serialized `data` bytes, stamped with when their
  raw data was fetched, and expire when that data does.
Without a cache (the original service, `--no-cache`) every call goes upstream.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from marketcache import analytics, endpoints, keys
from marketcache.answer import Answer, CacheStatus, Stamps, decode, encode
from marketcache.cache import Cache, Freshness, Loaded, Result
from marketcache.candle_pages import fetch_candles
from marketcache.clock import Clock
from marketcache.errors import MarketCacheError
from marketcache.freshness import MarketFreshness
from marketcache.models import Candles, Ticker, Trades, is_streamed
from marketcache.sources.base import Source
from marketcache.streams.answers import outdated

if TYPE_CHECKING:
    from marketcache.streams import StreamManager

TRADES_LIMIT = 1000
WARM_CONCURRENCY = 4
DECODED_KEPT = 4096


@dataclass(frozen=True, slots=True)
class _Raw:
    """Raw data read through the cache, with when it was fetched and how long it is good."""

    value: bytes
    fetched_at: float
    freshness: Freshness
    status: CacheStatus
    key: str  # its raw key
    streamed: bool = False  # from the exchange's stream messages

    @property
    def stamps(self) -> Stamps:
        """When this data was fetched, stops being fresh, and may no longer be served."""
        fresh_until = self.fetched_at + self.freshness.fresh
        stale_until = fresh_until + self.freshness.stale
        return Stamps(self.fetched_at, fresh_until, stale_until, self.streamed)


class MarketData:
    """Price, analysis, volume spikes and CVD of a market, through the cache if there is one."""

    def __init__(
        self,
        source: Source,
        cache: Cache | None,
        freshness: MarketFreshness,
        clock: Clock,
    ) -> None:
        self.source = source
        self.cache = cache
        self.freshness = freshness
        self.clock = clock
        self.exchange = source.exchange_id
        self._markets_loaded = False
        self.warm_pacer: Callable[[], Awaitable[None]] | None = None  # set with a rate budget
        self._markets_lock = asyncio.Lock()
        # the last value decoded per answer key, so hits of one value decode it once
        # key -> (value, its stamps, data, symbol, its Answer by status): a hit of a value
        # decoded before decodes nothing and builds no Answer (they are immutable)
        self._decoded: dict[
            str, tuple[bytes, Stamps, bytes, str | None, dict[CacheStatus, Answer]]
        ] = {}
        self.streams: StreamManager | None = None  # upstream streams for hot series
        self._raw_of: dict[str, str] = {}  # answer key -> the raw key it was computed from

    async def ensure_markets(self) -> None:
        """Load the exchange's markets once; symbols cannot be checked before."""
        if self._markets_loaded:
            return
        async with self._markets_lock:  # one load however many first requests arrive
            if not self._markets_loaded:
                await self.source.load_markets()
                self._markets_loaded = True

    # -- the operations -------------------------------------------------------------

    async def price(self, symbol: str) -> Answer:
        """The 24 h ticker of a market."""
        await self.ensure_markets()
        return await self.normalized_price(self.source.normalize_symbol(symbol))

    async def normalized_price(
        self, symbol: str, fetch: Callable[[], Awaitable[Ticker]] | None = None
    ) -> Answer:
        """`price` of a normalized symbol; `fetch` replaces the ticker request (batches)."""

        async def compute() -> tuple[Any, _Raw]:
            raw = await self._ticker(symbol, fetch)
            return _ticker_data(Ticker.from_bytes(raw.value)), raw

        return await self._answer(endpoints.PRICE.key(self.exchange, symbol), compute)

    async def comprehensive_analysis(self, symbol: str, timeframe: str) -> Answer:
        """Indicators, levels, trend and an overall signal from the candles."""
        symbol, timeframe = await self._market(symbol, timeframe)

        async def compute() -> tuple[Any, _Raw]:
            raw = await self._candles(symbol, timeframe)
            candles = Candles.from_bytes(raw.value)
            data = analytics.comprehensive_analysis(candles, now_ms=raw.fetched_at * 1000)
            return {"symbol": symbol, "timeframe": timeframe, **data}, raw

        key = endpoints.ANALYSIS.key(self.exchange, symbol, timeframe=timeframe)
        return await self._answer(key, compute)

    async def volume_spike(
        self, symbol: str, timeframe: str, lookback: int, threshold: float
    ) -> Answer:
        """The last closed candle's volume against the `lookback` before it."""
        symbol, timeframe = await self._market(symbol, timeframe)

        async def compute() -> tuple[Any, _Raw]:
            raw = await self._candles(symbol, timeframe)
            closed = Candles.from_bytes(raw.value).closed(raw.fetched_at * 1000)
            data = analytics.volume_spike(closed, lookback=lookback, threshold=threshold)
            return {"symbol": symbol, "timeframe": timeframe, **data}, raw

        key = endpoints.VOLUME_SPIKE.key(
            self.exchange, symbol, timeframe=timeframe, lookback=lookback, threshold=threshold
        )
        return await self._answer(key, compute)

    async def cvd(self, symbol: str, timeframe: str, limit: int) -> Answer:
        """Cumulative volume delta per candle, its trend and divergence against price."""
        symbol, timeframe = await self._market(symbol, timeframe)

        async def compute() -> tuple[Any, _Raw]:
            raw = await self._candles(symbol, timeframe)
            data = analytics.cvd_from_candles(Candles.from_bytes(raw.value), limit=limit)
            if data is None:  # this exchange's candles carry no taker-buy volume: use trades
                raw = await self._trades(symbol)
                data = analytics.cvd_from_trades(Trades.from_bytes(raw.value))
            return {"symbol": symbol, "timeframe": timeframe, **data}, raw

        key = endpoints.CVD.key(self.exchange, symbol, timeframe=timeframe, limit=limit)
        return await self._answer(key, compute)

    async def markets(self, quote: str | None) -> Answer:
        """The exchange's spot markets (symbol, base, quote, active, precision, limits)."""
        await self.ensure_markets()
        freshness = self.freshness.markets

        async def load() -> bytes:
            return orjson.dumps([m.to_dict() for m in await self.source.fetch_markets()])

        async def compute() -> tuple[Any, _Raw]:
            key = keys.markets_key(self.exchange)
            if self.cache is None:
                raw = _Raw(await load(), self.clock.now(), freshness, "bypass", key)
            else:
                result = await self.cache.get_or_load(key, load, freshness)
                raw = _Raw(result.value, result.stored_at, freshness, result.status, key)
            listed = orjson.loads(raw.value)
            if quote is not None:
                listed = [m for m in listed if m["quote"] == quote]
            return {
                "exchange": self.exchange,
                "quote": quote,
                "count": len(listed),
                "markets": listed,
            }, raw

        return await self._answer(keys.markets_answer_key(self.exchange, quote), compute)

    async def warm(
        self, symbols: Sequence[str], timeframes: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        """Preload raw data and default answers; per symbol `warmed` or its error."""
        await self.ensure_markets()
        for timeframe in timeframes:
            self.source.check_timeframe(timeframe)
        gate = asyncio.Semaphore(WARM_CONCURRENCY)

        async def warm_one(raw_symbol: str) -> tuple[str, dict[str, Any]]:
            try:
                symbol = self.source.normalize_symbol(raw_symbol)
                async with gate:
                    if self.warm_pacer is not None:
                        await self.warm_pacer()  # the exchange's rate budget is filling
                    for endpoint in endpoints.MARKET_ENDPOINTS:
                        await self._warm_endpoint(endpoint, symbol, timeframes)
            except MarketCacheError as exc:
                return raw_symbol, {"status": "error", "error": exc.to_body()}
            return raw_symbol, {
                "status": "warmed",
                "symbol": symbol,
                "timeframes": list(timeframes),
            }

        results = await asyncio.gather(*(warm_one(s) for s in symbols))
        return dict(results)

    async def _warm_endpoint(
        self, endpoint: endpoints.MarketEndpoint, symbol: str, timeframes: Sequence[str]
    ) -> None:
        """The endpoint's default answer, for each timeframe if it takes one."""
        operation = getattr(self, endpoint.name)
        params = endpoint.defaults()
        if "timeframe" not in params:
            await operation(symbol, **params)
            return
        for timeframe in timeframes:
            await operation(symbol, **{**params, "timeframe": timeframe})

    def cached(self, key: str) -> Answer | None:
        """A servable cached answer for `key`, without loading anything (the hit fast path)."""
        if self.cache is None or (self.streams is not None and self._outdated(key)):
            return None
        result = self.cache.peek(key)
        if result is None:
            return None
        if self.streams is not None and key in self._raw_of:
            self.streams.read(self._raw_of[key])
        return self._make_answer(key, result.value, result.status)

    def _outdated(self, key: str) -> bool:
        """Whether answer `key` is behind the streamed series it came from (streams/answers)."""
        raw_key, writes = self._raw_of.get(key), self.cache.writes if self.cache else None
        return bool(raw_key and writes and outdated(writes, raw_key, key, self.clock.now()))

    async def invalidate_symbol(self, symbol: str) -> int:
        """Drop every entry of one market; returns how many went."""
        if self.cache is None:
            return 0
        await self.ensure_markets()
        symbol = self.source.normalize_symbol(symbol)
        removed = 0
        prefixes = keys.raw_prefixes(self.exchange, symbol)
        for base in prefixes + endpoints.answer_prefixes(self.exchange, symbol):
            removed += int(self.cache.invalidate(base))
            removed += self.cache.invalidate_prefix(base + ":")
        return removed

    # -- plumbing --------------------------------------------------------------------

    async def _market(self, symbol: str, timeframe: str) -> tuple[str, str]:
        """Validate both before anything reaches the cache or the exchange."""
        await self.ensure_markets()
        return self.source.normalize_symbol(symbol), self.source.check_timeframe(timeframe)

    async def _answer(self, key: str, compute: Callable[[], Awaitable[tuple[Any, _Raw]]]) -> Answer:
        """An answer through the answer cache, or computed afresh without one."""
        if self.cache is None:
            data, raw = await compute()
            return self._make_answer(key, encode(data, raw.stamps), "bypass")

        async def load() -> Loaded:
            # An answer is exactly as fresh as the raw data it was computed from: the
            # same windows, starting when that data was fetched.
            data, raw = await compute()
            encoded = encode(data, raw.stamps)
            self._note_raw(key, raw.key)
            return Loaded(encoded, raw.freshness, as_of=raw.fetched_at)

        if self.streams is not None and key in self._raw_of:
            self.streams.read(self._raw_of[key])
            if self._outdated(key):  # recomputed from the cached raw value: nothing loads
                data, raw = await compute()
                encoded = encode(data, raw.stamps)
                await self.cache.writes.put(key, encoded, raw.fetched_at, raw.freshness)
                return self._make_answer(key, encoded, "stale" if raw.status == "stale" else "hit")
        result = await self.cache.get_or_load(key, load, Freshness(0.0, 0.0))
        return self._make_answer(key, result.value, result.status)

    def _note_raw(self, key: str, raw_key: str) -> None:
        if len(self._raw_of) >= DECODED_KEPT and key not in self._raw_of:
            self._raw_of.clear()
        self._raw_of[key] = raw_key

    def _make_answer(self, key: str, value: bytes, status: CacheStatus) -> Answer:
        decoded = self._decoded.get(key)
        if decoded is None or decoded[0] is not value:  # a hit of the same value: decoded
            stamps, data = decode(value)
            decoded = (value, stamps, data, keys.key_symbol(key), {})
            if len(self._decoded) >= DECODED_KEPT:
                self._decoded.clear()
            self._decoded[key] = decoded
        _, stamps, data, symbol, answers = decoded
        if status != "bypass" and self.clock.now() >= stamps.fresh_until:
            # Computed just now, perhaps, but from raw data past its fresh window
            # (served stale while it refreshes, or while the exchange fails): say so.
            status = "stale"
        answer = answers.get(status)
        if answer is None:
            answer = answers[status] = Answer(
                data, status, stamps, self.source.source_name, self.exchange, symbol
            )
        return answer

    async def _ticker(
        self, symbol: str, fetch: Callable[[], Awaitable[Ticker]] | None = None
    ) -> _Raw:
        freshness = self.freshness.ticker

        async def load() -> bytes:
            ticker = await (fetch() if fetch is not None else self.source.fetch_ticker(symbol))
            return ticker.to_bytes()

        key = keys.ticker_key(self.exchange, symbol)
        if self.cache is None:
            return _Raw(await load(), self.clock.now(), freshness, "bypass", key)
        result = await self.cache.get_or_load(key, load, freshness)
        streamed = is_streamed(result.value)
        return _Raw(result.value, result.stored_at, freshness, result.status, key, streamed)

    async def _trades(self, symbol: str) -> _Raw:
        freshness = self.freshness.trades

        async def load() -> bytes:
            trades = await self.source.fetch_trades(symbol, TRADES_LIMIT)
            return trades.to_bytes()

        key = keys.trades_key(self.exchange, symbol)
        if self.cache is None:
            return _Raw(await load(), self.clock.now(), freshness, "bypass", key)
        result = await self.cache.get_or_load(key, load, freshness)
        return _Raw(result.value, result.stored_at, freshness, result.status, key)

    async def _candles(self, symbol: str, timeframe: str) -> _Raw:
        key = keys.ohlcv_key(self.exchange, symbol, timeframe)

        async def load() -> Loaded:
            held = self.cache.store.value(key) if self.cache is not None else None
            candles = await fetch_candles(self.source, self.clock, held, symbol, timeframe)
            return Loaded(candles.to_bytes(), self._candles_freshness(candles, self.clock.now()))

        if self.cache is None:
            loaded = await load()
            return _Raw(loaded.value, self.clock.now(), loaded.freshness, "bypass", key)
        result = await self.cache.get_or_load(key, load, Freshness(0.0, 0.0))
        return self._raw_candles(result, key)

    def _raw_candles(self, result: Result, key: str) -> _Raw:
        # Candle freshness is a function of the series and of when it was stored,
        # so it is recomputed here rather than kept beside the value.
        candles = Candles.from_bytes(result.value)
        freshness = self._candles_freshness(candles, result.stored_at)
        status = result.status
        return _Raw(result.value, result.stored_at, freshness, status, key, candles.streamed)

    def _candles_freshness(self, candles: Candles, now: float) -> Freshness:
        live_close = float(candles.close_time[-1]) if len(candles) else None
        return self.freshness.klines(live_close, now, streamed=candles.streamed)


_TICKER_FIELDS = [  # the answer's order: the timestamp last
    *(name for name in Ticker.__dataclass_fields__ if name not in ("timestamp", "streamed")),
    "timestamp",
]


def _ticker_data(ticker: Ticker) -> dict[str, Any]:
    from marketcache.answer import iso

    data = {name: getattr(ticker, name) for name in _TICKER_FIELDS}
    data["datetime"] = iso(ticker.timestamp / 1000)
    return data
