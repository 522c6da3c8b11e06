"""`CcxtStreams`: an exchange's websocket streams through ccxt.pro, as our types.

The only module importing `ccxt.pro` (shipped inside the `ccxt` package). One
client per process, sharing the REST source's markets (no second `exchangeInfo`)
and its URLs (streams re-pointed with `EXCHANGE_URL`). The exchange's stream
limits are ccxt.pro's options where it has them (Binance: how many connections
the subscriptions are spread over, and how many subscriptions one carries); the
messages we send (each subscribe and unsubscribe) are paced here, and so are new
connections after a drop. ccxt's errors are translated where they enter.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import ccxt.pro as ccxtpro
import numpy as np

from marketcache.clock import Clock
from marketcache.errors import BadResponse
from marketcache.models import Candles, FloatArray, Ticker
from marketcache.sources.binance import kline_row
from marketcache.sources.dialects import dialect_for
from marketcache.sources.errors import translate
from marketcache.sources.urls import rewrite_ws_urls

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StreamLimits:
    """The exchange's stream limits we keep to (Binance's figures by default)."""

    connections: int = 4  # connections the subscriptions are spread over
    per_connection: int = 200  # subscriptions one connection carries (Binance: 1024)
    sent_per_s: float = 4.0  # messages we send per second (Binance: 5 per connection)
    connects_per_window: int = 250  # new connections per window (Binance: 300 per 5 min)
    connect_window_s: float = 300.0


@dataclass(frozen=True, slots=True)
class TickerUpdate:
    """A ticker stream message: the 24 h ticker and its exchange time (ms)."""

    ticker: Ticker
    at_ms: int


@dataclass(frozen=True, slots=True)
class TradeUpdate:
    """The latest trade of a batch of trade messages and the exchange time it was sent."""

    price: float
    time_ms: int
    at_ms: int
    count: int = 1  # trade messages in the batch


@dataclass(frozen=True, slots=True)
class CandleUpdate:
    """Candle rows (`Candles.COLUMNS`) from kline messages, oldest first, and their time."""

    rows: FloatArray
    at_ms: int
    count: int = 1  # kline messages in the batch


class Pacer:
    """Sends per second and new connections per window kept under the limits (by waiting)."""

    def __init__(self, clock: Clock, limits: StreamLimits) -> None:
        self._clock = clock
        self._limits = limits
        self._sent: deque[float] = deque()
        self._connects: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def _take(self, times: deque[float], count: int, window: float) -> None:
        async with self._lock:
            while True:
                now = self._clock.now()
                while times and times[0] <= now - window:
                    times.popleft()
                if len(times) < count:
                    times.append(now)
                    return
                await self._clock.sleep(times[0] + window - now)

    async def send(self) -> None:
        """Wait until one more message may be sent."""
        limits = self._limits
        await self._take(self._sent, max(1, int(limits.sent_per_s)), 1.0)

    async def connect(self) -> None:
        """Wait until one more connection may be opened."""
        limits = self._limits
        await self._take(self._connects, limits.connects_per_window, limits.connect_window_s)


class CcxtStreams:
    """ticker, trades and candles of markets as they stream; errors are ours."""

    def __init__(
        self,
        exchange_id: str,
        clock: Clock,
        *,
        markets: Mapping[str, Any] | None = None,
        base_url: str | None = None,
        limits: StreamLimits | None = None,
    ) -> None:
        self.exchange_id = exchange_id
        self.limits = limits or StreamLimits()
        self.pacer = Pacer(clock, self.limits)
        self._dialect = dialect_for(exchange_id)
        options = self._dialect.stream_options(self.limits.connections, self.limits.per_connection)
        self._exchange: Any = getattr(ccxtpro, exchange_id)({"options": options})
        if base_url is not None:
            api = self._exchange.urls["api"]
            api["ws"] = rewrite_ws_urls(api.get("ws"), base_url)
        if markets:
            self._exchange.set_markets(markets)
        self._klines: dict[tuple[str, str], list[tuple[Mapping[str, Any], int]]] = {}
        self._dialect.capture_klines(self._exchange, self._kline)

    def _kline(self, symbol: str, timeframe: str, kline: Mapping[str, Any], at: Any) -> None:
        at_ms = at if isinstance(at, int) else int(kline.get("T", 0))
        self._klines.setdefault((symbol, timeframe), []).append((kline, at_ms))

    async def _call(self, work: Callable[[], Awaitable[T]], symbol: str) -> T:
        try:
            return await work()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise translate(exc, None, symbol=symbol) from exc

    async def subscribe(self) -> None:
        """Pace one subscription or reconnection (the caller's next watch sends it)."""
        await self.pacer.send()
        await self.pacer.connect()

    async def ticker(self, symbol: str) -> TickerUpdate:
        """The next ticker message of `symbol`."""
        raw = await self._call(lambda: self._exchange.watch_ticker(symbol), symbol)
        ticker = self._dialect.stream_ticker(raw, symbol)
        info = raw.get("info") if isinstance(raw, Mapping) else None
        at = info.get("E") if isinstance(info, Mapping) else None
        return TickerUpdate(ticker, at if isinstance(at, int) else ticker.timestamp)

    async def trades(self, symbol: str) -> TradeUpdate:
        """The latest of the trades that arrived since the last call."""
        got = await self._call(lambda: self._exchange.watch_trades(symbol), symbol)
        if not got:
            raise BadResponse(f"trade stream {symbol}: an empty batch")
        last = got[-1]
        info = last.get("info") if isinstance(last, Mapping) else None
        sent = info.get("E") if isinstance(info, Mapping) else None
        price, when = last.get("price"), last.get("timestamp")
        if not isinstance(price, int | float) or not isinstance(when, int):
            raise BadResponse(f"trade stream {symbol}: a trade without price or time")
        return TradeUpdate(float(price), when, sent if isinstance(sent, int) else when, len(got))

    async def candles(self, symbol: str, timeframe: str, period_ms: int) -> CandleUpdate:
        """The candles that changed since the last call (the live one last)."""
        got = await self._call(lambda: self._exchange.watch_ohlcv(symbol, timeframe), symbol)
        raw = self._klines.pop((symbol, timeframe), None)
        if raw:
            table = np.array([kline_row(k) for k, _ in raw], dtype=np.float64)
            return CandleUpdate(_latest_per_open(table), raw[-1][1], len(raw))
        if not got:
            raise BadResponse(f"kline stream {symbol} {timeframe}: an empty batch")
        table = np.full((len(got), len(Candles.COLUMNS)), np.nan, dtype=np.float64)
        table[:, :6] = np.asarray(got, dtype=np.float64)[:, :6]
        table[:, 6] = table[:, 0] + period_ms - 1
        return CandleUpdate(_latest_per_open(table), int(table[-1, 0]), len(got))

    async def unwatch(self, kind: str, symbol: str, timeframe: str | None = None) -> None:
        """Unsubscribe one stream (best effort: a closed connection has none)."""
        await self.pacer.send()
        with contextlib.suppress(Exception):
            if kind == "ticker":
                await self._exchange.un_watch_ticker(symbol)
            elif kind == "trades":
                await self._exchange.un_watch_trades(symbol)
            elif kind == "ohlcv":
                await self._exchange.un_watch_ohlcv(symbol, timeframe)

    async def close(self) -> None:
        """Close every connection."""
        with contextlib.suppress(Exception):
            await self._exchange.close()


def _latest_per_open(table: FloatArray) -> FloatArray:
    """One row per open time, the last message's, in order."""
    if len(table) < 2:
        return table
    order = np.argsort(table[:, 0], kind="stable")
    table = table[order]
    keep = np.append(table[1:, 0] != table[:-1, 0], True)
    kept: FloatArray = table[keep]
    return kept
