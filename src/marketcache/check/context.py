"""What a run knows: its options, the service it found, and the keys it has touched."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from marketcache.check import shapes
from marketcache.check.client import Ledger, Reply, ServiceClient
from marketcache.check.results import Category, LatencySummary, Status, TestResult
from marketcache.config import SERVICE_URL

# Timeframes every ccxt exchange with Binance-like klines offers; cold samples rotate
# through those the run has not touched yet.
COLD_TIMEFRAMES = ("1m", "3m", "5m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w")
COLD_SYMBOLS = (
    "BNB/USDT",
    "XRP/USDT",
    "ADA/USDT",
    "DOGE/USDT",
    "LTC/USDT",
    "LINK/USDT",
    "AVAX/USDT",
    "TRX/USDT",
    "DOT/USDT",
    "ATOM/USDT",
)


@dataclass(frozen=True)
class Endpoint:
    """A market endpoint: its path, the shape of its data and whether it takes a timeframe."""

    name: str
    path: str
    shape: shapes.Shape
    uses_timeframe: bool

    def payload(self, symbol: str, timeframe: str) -> dict[str, Any]:
        """The request body for one symbol (and timeframe)."""
        body: dict[str, Any] = {"symbol": symbol}
        if self.uses_timeframe:
            body["timeframe"] = timeframe
        return body


PRICE = Endpoint("price", "/price", shapes.PRICE, uses_timeframe=False)
ANALYSIS = Endpoint(
    "comprehensive_analysis", "/comprehensive_analysis", shapes.ANALYSIS, uses_timeframe=True
)
VOLUME_SPIKE = Endpoint("volume_spike", "/volume_spike", shapes.VOLUME_SPIKE, uses_timeframe=True)
CVD = Endpoint("cvd", "/cvd", shapes.CVD, uses_timeframe=True)
MARKET_ENDPOINTS = (PRICE, ANALYSIS, VOLUME_SPIKE, CVD)


@dataclass(frozen=True)
class RunConfig:
    """The options of one run (see `marketcache check --help`)."""

    url: str = SERVICE_URL
    symbols: tuple[str, ...] = ("BTC/USDT", "ETH/USDT", "SOL/USDT")
    timeframe: str = "15m"
    samples: int = 30
    cold_samples: int = 5
    bursts: tuple[int, ...] = (10, 50, 100)
    burst_requests: int = 5
    timeout_s: float = 10.0
    admin_token: str | None = None
    cold_mode: str = "auto"
    cold_symbols: tuple[str, ...] = COLD_SYMBOLS
    progress: bool = True


@dataclass
class RunContext:
    """The state shared by the tests of one run."""

    config: RunConfig
    client: ServiceClient
    ledger: Ledger
    health: dict[str, Any] = field(default_factory=dict)
    cached: bool = True
    uncached_reason: str = ""
    clear_allowed: bool = False
    rss_start_mb: float | None = None
    used_pairs: set[tuple[str, str]] = field(default_factory=set)
    used_price_symbols: set[str] = field(default_factory=set)
    warm: dict[str, LatencySummary] = field(default_factory=dict)
    cold: dict[str, LatencySummary] = field(default_factory=dict)
    burst_replies: list[Reply] = field(default_factory=list)

    @property
    def primary_symbol(self) -> str:
        """The first symbol of --symbols."""
        return self.config.symbols[0]

    async def market(
        self, endpoint: Endpoint, symbol: str, timeframe: str | None = None, **extra: Any
    ) -> Reply:
        """Ask a market endpoint, remembering the key as touched by this run."""
        frame = timeframe or self.config.timeframe
        if endpoint.uses_timeframe:
            self.used_pairs.add((symbol, frame))
        else:
            self.used_price_symbols.add(symbol)
        return await self.client.post(endpoint.path, {**endpoint.payload(symbol, frame), **extra})

    def fresh_keys(self, endpoint: Endpoint, count: int) -> list[tuple[str, str]]:
        """Up to `count` (symbol, timeframe) keys this run has not asked yet, for cold samples.

        Price keys are symbols alone, taken from the cold symbols first; the other endpoints
        share raw series per (symbol, timeframe), so they get pairs no endpoint has used.
        """
        cfg = self.config
        keys: list[tuple[str, str]] = []
        if not endpoint.uses_timeframe:
            taken = self.used_price_symbols | {s for s, _ in self.used_pairs}
            for symbol in (*cfg.cold_symbols, *cfg.symbols):
                if symbol not in taken and len(keys) < count:
                    keys.append((symbol, cfg.timeframe))
                    taken.add(symbol)
            return keys
        frames = [tf for tf in COLD_TIMEFRAMES if tf != cfg.timeframe]
        for frame in frames:
            for symbol in cfg.symbols:
                if (symbol, frame) not in self.used_pairs and len(keys) < count:
                    keys.append((symbol, frame))
        return keys


@dataclass(frozen=True)
class Check:
    """A planned test: its name and category are known before it runs."""

    name: str
    category: Category
    run: Callable[[], Awaitable[TestResult]]
    critical_on_error: bool = False


def outcome(
    name: str,
    category: Category,
    ok: bool,
    measured: str,
    target: str,
    *,
    critical: bool = False,
    details: str = "",
    weight: float = 1.0,
    data: dict[str, Any] | None = None,
) -> TestResult:
    """A pass or fail result; `critical` marks the failure as blocking."""
    return TestResult(
        name=name,
        category=category,
        status=Status.PASS if ok else Status.FAIL,
        measured=measured,
        target=target,
        critical=critical and not ok,
        details=details,
        weight=weight,
        data=data or {},
    )


def not_applicable(name: str, category: Category, target: str, reason: str) -> TestResult:
    """A test that cannot apply to this deployment, with the reason why."""
    return TestResult(name, category, Status.NA, "-", target, details=reason)
