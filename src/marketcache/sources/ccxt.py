"""`CcxtSource`: any ccxt exchange (Binance by default) as a `Source`.

The only module of the package that imports ccxt. One instance per process, made
by the app's lifespan and closed on shutdown. Spot markets only; for Binance no
currency, margin or derivatives call is made when markets load (one
`exchangeInfo`). ccxt's rate limiter stays on: it spaces calls by Binance's own
weights and so protects the exchange (and our IP) even when the cache misses a lot.
What differs per exchange (options, weights, raw endpoints for Binance's candles
and trades) is its `Dialect` (`dialect.py`, `binance.py`).
"""

from __future__ import annotations

import asyncio
import difflib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import ccxt.async_support as ccxt_async

from marketcache.config import Settings
from marketcache.errors import (
    BadResponse,
    ExchangeUnavailable,
    InvalidParameter,
    MarketCacheError,
    UnsupportedTimeframe,
)
from marketcache.models import Candles, Market, Ticker, Trades
from marketcache.sources import weights
from marketcache.sources.base import UpstreamStats
from marketcache.sources.dialects import dialect_for
from marketcache.sources.errors import public, translate
from marketcache.sources.parse import ticker_from_unified
from marketcache.sources.symbols import SymbolIndex
from marketcache.sources.urls import check_base_url, rewrite_urls

if TYPE_CHECKING:
    from marketcache.clock import Clock
    from marketcache.sources.streaming import CcxtStreams, StreamLimits

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_LIMIT = 1000  # Binance's maximum for klines and aggTrades
EMULATOR_HEADER = "x-emulator"
EMULATOR_MARK = "marketcache"


def check_exchange_id(exchange_id: str) -> str:
    """`exchange_id` if ccxt has it; else `InvalidParameter` naming the close ids."""
    if exchange_id in ccxt_async.exchanges:
        return exchange_id
    close = difflib.get_close_matches(exchange_id.lower(), ccxt_async.exchanges, n=5)
    hint = f"close ones: {', '.join(close)}" if close else "none is close"
    raise InvalidParameter(
        "exchange",
        f"{exchange_id!r} is not one of ccxt's {len(ccxt_async.exchanges)} exchange ids; {hint}",
    )


def exchange_config(exchange_id: str, timeout_s: float) -> dict[str, Any]:
    """The ccxt constructor config for `exchange_id`."""
    options = dialect_for(exchange_id).options()
    return {"enableRateLimit": True, "timeout": int(timeout_s * 1000), "options": options}


def is_emulator(headers: Mapping[str, Any] | None) -> bool:
    """Whether response headers carry `X-Emulator: marketcache` (any case)."""
    return any(
        name.lower() == EMULATOR_HEADER and str(value).strip().lower() == EMULATOR_MARK
        for name, value in (headers or {}).items()
    )


def _check_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidParameter("limit", f"must be an integer from 1 to {MAX_LIMIT}")
    return limit


def _check_since(since_ms: int | None) -> int | None:
    if since_ms is not None and (
        isinstance(since_ms, bool) or not isinstance(since_ms, int) or since_ms < 0
    ):
        raise InvalidParameter("since_ms", "must be a non-negative integer (ms since the epoch)")
    return since_ms


def _server_time(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise BadResponse(f"server time: not a timestamp: {value!r}")
    return value


class CcxtSource:
    """An exchange reached through `ccxt.async_support`, implementing `Source`."""

    def __init__(
        self,
        exchange_id: str = "binance",
        *,
        base_url: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        check_exchange_id(exchange_id)
        if not timeout_s > 0:
            raise InvalidParameter("exchange_timeout_s", "must be positive")
        self._id = exchange_id
        self._dialect = dialect_for(exchange_id)
        self._exchange: Any = getattr(ccxt_async, exchange_id)(
            exchange_config(exchange_id, timeout_s)
        )
        self._base_url = base_url
        if base_url is not None:
            # ccxt deep-merges constructor config: rewrite the built tree instead.
            self._exchange.urls["api"] = rewrite_urls(
                self._exchange.urls["api"], check_base_url(base_url)
            )
        self._timeframes: tuple[str, ...] = tuple(self._exchange.timeframes or ())
        self._stats = UpstreamStats()
        self._index: SymbolIndex | None = None
        self._markets_lock = asyncio.Lock()
        self._source_name = exchange_id

    @classmethod
    def from_settings(cls, settings: Settings) -> CcxtSource:
        """The source the settings describe (`EXCHANGE`, `EXCHANGE_URL`, timeout)."""
        return cls(
            settings.exchange,
            base_url=settings.exchange_url,
            timeout_s=settings.exchange_timeout_s,
        )

    @property
    def exchange_id(self) -> str:
        """The ccxt id of the exchange."""
        return self._id

    @property
    def source_name(self) -> str:
        """The exchange id, or `emulator` once markets were loaded from the emulator."""
        return self._source_name

    @property
    def timeframes(self) -> tuple[str, ...]:
        """The exchange's intervals (ccxt `timeframes` keys)."""
        return self._timeframes

    @property
    def stats(self) -> UpstreamStats:
        """Upstream calls so far, per operation."""
        return self._stats

    @property
    def api_urls(self) -> Any:
        """The exchange's REST URL tree as ccxt will use it."""
        return self._exchange.urls["api"]

    async def load_markets(self) -> Mapping[str, Market]:
        """Load the spot markets once (concurrent callers share the load)."""
        if self._index is not None:
            return self._index.markets
        async with self._markets_lock:
            if self._index is None:
                index = await self._call(weights.MARKETS, self._reload_markets, _spot_index)
                if is_emulator(self._exchange.last_response_headers):
                    self._source_name = "emulator"
                self._index = index
        return self._index.markets

    async def fetch_markets(self) -> list[Market]:
        """The spot markets as the exchange lists them now (also what symbols resolve to)."""
        index = await self._call(weights.MARKETS, self._reload_markets, _spot_index)
        self._index = index
        return sorted(index.markets.values(), key=lambda m: m.symbol)

    def normalize_symbol(self, raw: str) -> str:
        """The unified symbol for `raw`; `UnknownSymbol`/`InvalidParameter`; no network call."""
        index = self._index
        if index is None:
            raise ExchangeUnavailable(
                f"the markets of {self._id} are not loaded yet", retry_after=1.0
            )
        return index.resolve(raw)

    def check_timeframe(self, timeframe: str) -> str:
        """`timeframe` if the exchange offers it; raises `UnsupportedTimeframe`."""
        if not isinstance(timeframe, str) or timeframe not in self._exchange.timeframes:
            raise UnsupportedTimeframe(str(timeframe), self._timeframes)
        return timeframe

    async def fetch_ticker(self, symbol: str) -> Ticker:
        """The 24 h ticker of `symbol`."""
        unified = await self._resolve(symbol)
        return await self._call(
            weights.TICKER,
            lambda: self._exchange.fetch_ticker(unified),
            lambda raw: ticker_from_unified(raw, unified),
            symbol=unified,
        )

    async def fetch_tickers(self, symbols: Sequence[str]) -> dict[str, Ticker]:
        """The 24 h tickers of several symbols in one request where the exchange can."""
        unified = [await self._resolve(symbol) for symbol in symbols]
        if not unified:
            return {}
        return await self._call(
            weights.TICKERS,
            lambda: self._exchange.fetch_tickers(unified),
            lambda raw: _tickers(raw, unified),
            weight=self._dialect.weight(weights.TICKERS, len(unified)),
        )

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, limit: int, since_ms: int | None = None
    ) -> Candles:
        """Up to `limit` (1-1000) candles from `since_ms` (or the latest), oldest first."""
        unified = await self._resolve(symbol)
        timeframe = self.check_timeframe(timeframe)
        limit = _check_limit(limit)
        since_ms = _check_since(since_ms)
        call = self._dialect.ohlcv(
            self._exchange, self._market_id(unified), unified, timeframe, limit, since_ms
        )
        return await self._call(weights.OHLCV, call.request, call.parse, symbol=unified)

    async def fetch_trades(self, symbol: str, limit: int) -> Trades:
        """Up to `limit` (1-1000) recent trades, oldest first."""
        unified = await self._resolve(symbol)
        limit = _check_limit(limit)
        call = self._dialect.trades(self._exchange, self._market_id(unified), unified, limit)
        return await self._call(weights.TRADES, call.request, call.parse, symbol=unified)

    async def fetch_time(self) -> int:
        """The exchange's clock (ms since the epoch); raises the translated error."""
        return await self._call(weights.PING, self._exchange.fetch_time, _server_time)

    async def ping(self) -> bool:
        """Whether the exchange tells its time now; never raises."""
        try:
            await self.fetch_time()
        except MarketCacheError:
            return False
        return True

    async def close(self) -> None:
        """Close the client's HTTP session."""
        await self._exchange.close()

    def streams(self, clock: Clock, limits: StreamLimits) -> CcxtStreams:
        """A ccxt.pro client of the same exchange, its markets and its URLs."""
        from marketcache.sources.streaming import CcxtStreams

        markets = self._exchange.markets if self._index is not None else None
        return CcxtStreams(self._id, clock, markets=markets, base_url=self._base_url, limits=limits)

    async def _reload_markets(self) -> Any:
        # Always `reload`: we guard the single load ourselves, and ccxt would otherwise
        # keep serving a previous answer that we rejected (an empty or malformed one).
        return await self._exchange.load_markets(reload=True)

    async def _resolve(self, symbol: str) -> str:
        if self._index is None:
            await self.load_markets()
        return self.normalize_symbol(symbol)

    def _market_id(self, unified: str) -> str:
        assert self._index is not None  # _resolve ran
        return self._index.markets[unified].id

    async def _call(
        self,
        operation: str,
        request: Callable[[], Awaitable[Any]],
        parse: Callable[[Any], T],
        *,
        symbol: str | None = None,
        weight: int | None = None,
    ) -> T:
        """Run one upstream request, count it, validate its answer, translate its errors.

        `Retry-After` is read from ccxt's `last_response_headers`, which concurrent calls
        share: under concurrency the figure may come from a neighbouring response (a
        429 from Binance applies to the whole IP, so it is still the right order).
        """
        weight = self._dialect.weight(operation) if weight is None else weight
        try:
            result = parse(await request())
        except Exception as exc:
            self._stats.record(operation, weight, failed=True)
            error = translate(exc, self._exchange.last_response_headers, symbol=symbol)
            log.warning("%s %s failed: %s: %s", self._id, operation, error.code, error.message)
            told = public(error, self._id, operation)  # detail above, in the log only
            if told is exc:
                raise
            raise told from exc
        self._stats.record(operation, weight)
        return result


def _market(m: Mapping[str, Any]) -> Market:
    """ccxt's market structure → `Market` (precision and limits where it has them)."""
    precision = _mapping(m.get("precision"))
    limits = _mapping(m.get("limits"))
    active = m.get("active")
    return Market(
        symbol=m["symbol"],
        id=m["id"],
        base=m["base"],
        quote=m["quote"],
        active=active if isinstance(active, bool) else None,
        precision={k: _number(precision.get(k)) for k in ("price", "amount")},
        limits={
            name: {k: _number(b.get(k)) for k in ("min", "max")}
            for name, b in limits.items()
            if name in ("amount", "price", "cost") and isinstance(b, Mapping)
        },
    )


def _tickers(raw: Any, symbols: Sequence[str]) -> dict[str, Ticker]:
    """ccxt's `fetch_tickers` answer → a `Ticker` for each symbol asked (all of them)."""
    if not isinstance(raw, Mapping):
        raise BadResponse(f"tickers: expected an object, got {type(raw).__name__}")
    missing = [s for s in symbols if s not in raw]
    if missing:
        raise BadResponse(f"tickers: no ticker for {', '.join(missing[:5])}")
    return {symbol: ticker_from_unified(raw[symbol], symbol) for symbol in symbols}


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _spot_index(markets: Any) -> SymbolIndex:
    """The spot markets of ccxt's `load_markets` answer, indexed for normalization."""
    if not isinstance(markets, Mapping):
        raise BadResponse(f"markets: expected an object, got {type(markets).__name__}")
    spot = [_market(m) for m in markets.values() if isinstance(m, Mapping) and m.get("spot")]
    if not spot:
        raise BadResponse("markets: the exchange lists no spot market")
    return SymbolIndex(spot)
