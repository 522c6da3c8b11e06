"""The benchmark's traffic: endpoints, symbols and timeframes drawn by Zipf's law.

Each dimension is a list ranked from most to least asked; item k (1-based) is drawn
with probability proportional to 1 / k**s. The defaults look like a Telegram bot's
traffic: mostly prices, mostly the big coins, mostly the 15-minute chart.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# The 20 most traded USDT markets (by quote volume), all present in the emulator's 315.
DEFAULT_SYMBOLS: tuple[str, ...] = (
    "BTC/USDT",
    "ETH/USDT",
    "SOL/USDT",
    "BNB/USDT",
    "XRP/USDT",
    "DOGE/USDT",
    "ADA/USDT",
    "AVAX/USDT",
    "LINK/USDT",
    "TRX/USDT",
    "DOT/USDT",
    "LTC/USDT",
    "MATIC/USDT",
    "SHIB/USDT",
    "NEAR/USDT",
    "UNI/USDT",
    "ATOM/USDT",
    "BCH/USDT",
    "ETC/USDT",
    "FIL/USDT",
)
DEFAULT_TIMEFRAMES: tuple[str, ...] = ("15m", "1h", "5m", "4h", "1d")
DEFAULT_ENDPOINTS: tuple[str, ...] = ("price", "comprehensive_analysis", "volume_spike", "cvd")
DEFAULT_ZIPF_S = 1.1

PATHS: dict[str, str] = {name: f"/{name}" for name in DEFAULT_ENDPOINTS}


class ZipfSampler:
    """Draw items of a ranked list with P(rank k) proportional to 1 / k**s."""

    def __init__(self, items: Sequence[str], s: float) -> None:
        if not items:
            raise ValueError("ZipfSampler needs at least one item")
        if s < 0:
            raise ValueError("the Zipf exponent must be >= 0")
        self.items = tuple(items)
        self.s = s
        weights = [1.0 / (rank**s) for rank in range(1, len(items) + 1)]
        total = sum(weights)
        self.probabilities = tuple(w / total for w in weights)
        self._cumulative = list(itertools.accumulate(self.probabilities))
        self._cumulative[-1] = 1.0  # no draw may fall past the end through rounding

    def sample(self, rng: random.Random) -> str:
        """One item, drawn with the rng given (so each virtual user can own one)."""
        return self.items[bisect.bisect_right(self._cumulative, rng.random())]

    def distribution(self) -> dict[str, float]:
        """Item → probability, most likely first."""
        return dict(zip(self.items, self.probabilities, strict=True))


@dataclass(frozen=True, slots=True)
class Request:
    """One request of the workload: which endpoint and the JSON body to post."""

    endpoint: str
    body: dict[str, Any]

    @property
    def path(self) -> str:
        """The URL path of the endpoint."""
        return PATHS[self.endpoint]


@dataclass(frozen=True)
class Workload:
    """What the virtual users ask for, and how long they think between requests."""

    zipf_s: float = DEFAULT_ZIPF_S
    symbols: tuple[str, ...] = DEFAULT_SYMBOLS
    timeframes: tuple[str, ...] = DEFAULT_TIMEFRAMES
    endpoints: tuple[str, ...] = DEFAULT_ENDPOINTS
    think_ms: float = 0.0
    _samplers: dict[str, ZipfSampler] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        unknown = set(self.endpoints) - set(PATHS)
        if unknown:
            raise ValueError(f"unknown endpoints: {sorted(unknown)}")
        samplers = {
            "endpoint": ZipfSampler(self.endpoints, self.zipf_s),
            "symbol": ZipfSampler(self.symbols, self.zipf_s),
            "timeframe": ZipfSampler(self.timeframes, self.zipf_s),
        }
        object.__setattr__(self, "_samplers", samplers)

    def next_request(self, rng: random.Random) -> Request:
        """Draw one request: endpoint, symbol and (except for a price) timeframe."""
        endpoint = self._samplers["endpoint"].sample(rng)
        symbol = self._samplers["symbol"].sample(rng)
        timeframe = self._samplers["timeframe"].sample(rng)  # drawn always: same stream per user
        body: dict[str, Any] = {"symbol": symbol}
        if endpoint != "price":
            body["timeframe"] = timeframe
        return Request(endpoint, body)

    def think_s(self, rng: random.Random) -> float:
        """A think time: exponential with mean `think_ms`, zero when that is zero."""
        if self.think_ms <= 0:
            return 0.0
        return rng.expovariate(1000.0 / self.think_ms)

    def describe(self) -> dict[str, Any]:
        """The distributions in force, for the report."""
        return {
            "zipf_s": self.zipf_s,
            "think_ms_mean": self.think_ms,
            "endpoints": self._samplers["endpoint"].distribution(),
            "symbols": self._samplers["symbol"].distribution(),
            "timeframes": self._samplers["timeframe"].distribution(),
        }


def user_rng(seed: int, user: int) -> random.Random:
    """The rng of one virtual user: both sides replay the same stream for the same user."""
    return random.Random(f"{seed}:{user}")
