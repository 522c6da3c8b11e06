"""A fake exchange for service and API tests: real markets, real candles, no network.

Markets are Binance's real 315 USDT symbols; every market's candles are the real
BTCUSDT 30m series (times shifted to end now); failures and hold-ups are injected.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from importlib import resources

from marketcache.clock import Clock
from marketcache.errors import MarketCacheError, UnsupportedTimeframe
from marketcache.models import Candles, Market, Ticker, Trades
from marketcache.sources.base import UpstreamStats
from marketcache.sources.symbols import SymbolIndex

DATA = resources.files("marketcache.emulator") / "data"
TIMEFRAMES = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w")


def real_klines() -> list[list[float]]:
    """The 500 real BTCUSDT 30m klines, as floats (12 Binance columns)."""
    rows = json.loads((DATA / "BTCUSDT-30m-klines-2019-04.json").read_text())
    return [[float(v) for v in row] for row in rows]


def real_markets() -> list[Market]:
    """Binance's 315 USDT markets of 2021-10-12."""
    info = json.loads((DATA / "exchangeInfo-spot-usdt-2021-10-12.json").read_text())
    return [
        Market(f"{s['baseAsset']}/{s['quoteAsset']}", s["symbol"], s["baseAsset"], s["quoteAsset"])
        for s in info["symbols"]
    ]


class FakeSource:
    """Implements `Source` over the real data; counts calls; fails or holds on demand."""

    def __init__(self, clock: Clock, *, name: str = "emulator") -> None:
        self.clock = clock
        self._name = name
        self._index: SymbolIndex | None = None
        self._stats = UpstreamStats()
        self.calls: Counter[str] = Counter()
        self.fail_with: MarketCacheError | None = None
        self.gate: asyncio.Event | None = None  # when set to an unset Event, fetches wait on it
        self.closed = False
        self._rows = real_klines()

    # -- Source ------------------------------------------------------------------------
    @property
    def exchange_id(self) -> str:
        return "binance"

    @property
    def source_name(self) -> str:
        return self._name

    @property
    def timeframes(self) -> tuple[str, ...]:
        return TIMEFRAMES

    @property
    def stats(self) -> UpstreamStats:
        return self._stats

    async def load_markets(self) -> Mapping[str, Market]:
        if self._index is None:
            await self._call("markets", 20)
            self._index = SymbolIndex(real_markets())
        return self._index.markets

    def normalize_symbol(self, raw: str) -> str:
        assert self._index is not None, "load_markets first"
        return self._index.resolve(raw)

    def check_timeframe(self, timeframe: str) -> str:
        if timeframe not in TIMEFRAMES:
            raise UnsupportedTimeframe(timeframe, TIMEFRAMES)
        return timeframe

    async def fetch_markets(self) -> list[Market]:
        await self._call("markets", 20)
        return sorted(real_markets(), key=lambda m: m.symbol)

    async def fetch_tickers(self, symbols: Sequence[str]) -> dict[str, Ticker]:
        await self._call("tickers", 2 if len(symbols) <= 20 else 40)
        return {symbol: self._ticker(symbol) for symbol in symbols}

    async def fetch_ticker(self, symbol: str) -> Ticker:
        await self._call("ticker", 2)
        return self._ticker(symbol)

    def _ticker(self, symbol: str) -> Ticker:
        last = self._rows[-1]
        first = self._rows[-48]
        return Ticker(
            symbol=symbol,
            timestamp=int(self.clock.now() * 1000),
            last=last[4],
            bid=last[4] - 0.01,
            ask=last[4] + 0.01,
            open=first[1],
            high=max(r[2] for r in self._rows[-48:]),
            low=min(r[3] for r in self._rows[-48:]),
            change=last[4] - first[1],
            change_percent=(last[4] - first[1]) / first[1] * 100,
            base_volume=sum(r[5] for r in self._rows[-48:]),
            quote_volume=sum(r[7] for r in self._rows[-48:]),
        )

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, limit: int, since_ms: int | None = None
    ) -> Candles:
        await self._call("ohlcv", 2)
        rows = [list(r[:11]) for r in self._rows[-limit:]]
        # shift so the last candle is live: it opened 10 s ago and closes in 30 min - 10 s
        shift = self.clock.now() * 1000 - 10_000 - rows[-1][0]
        for row in rows:
            row[0] += shift
            row[6] += shift
        return Candles.from_rows(symbol, timeframe, rows)

    async def fetch_trades(self, symbol: str, limit: int) -> Trades:
        await self._call("trades", 2)
        now = self.clock.now() * 1000
        return Trades.from_rows(symbol, [[i, now - i, 5000.0, 0.1, i % 2] for i in range(limit)])

    async def ping(self) -> bool:
        return self.fail_with is None

    async def close(self) -> None:
        self.closed = True

    # -- the fake's own ------------------------------------------------------------------
    async def _call(self, operation: str, weight: int) -> None:
        self.calls[operation] += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_with is not None:
            self._stats.record(operation, weight, failed=True)
            raise self.fail_with
        self._stats.record(operation, weight)
