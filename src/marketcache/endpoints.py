"""The market endpoints, each declared once: name, parameters, summary.

Everything else is derived from this table: the routes and their OpenAPI entries
(`api/routes/market.py`), the hit fast path's validation and keys
(`api/fastpath.py`), the request observer's endpoint labels, the answer keys
the service stores under, and the key prefixes that invalidating a market drops.

An endpoint's operation is the `MarketData` method of the same name, called with
the validated parameters as keywords (a test holds the two in step). Adding an
endpoint is: its entry here, its operation in `service.py`, its analytics, its
tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field, Strict

from marketcache import keys
from marketcache.params import DEFAULT_TIMEFRAME, Params, Symbol, Timeframe

LOOKBACK_RANGE = (5, 500)  # inclusive
THRESHOLD_MAX = 100.0  # and above 0
CVD_LIMIT_RANGE = (10, 1000)  # inclusive


class PriceParams(Params):
    """`/price`."""

    symbol: Symbol = Field(description="a market: BTC/USDT, btcusdt, BTC-USDT, btc_usdt")


class AnalysisParams(PriceParams):
    """`/comprehensive_analysis`."""

    timeframe: Timeframe = Field(DEFAULT_TIMEFRAME, description="one of the exchange's intervals")


class VolumeSpikeParams(AnalysisParams):
    """`/volume_spike`."""

    lookback: Annotated[int, Strict()] = Field(
        20,
        ge=LOOKBACK_RANGE[0],
        le=LOOKBACK_RANGE[1],
        description="closed candles before the last one that make the baseline",
    )
    threshold: Annotated[float, Strict()] = Field(
        2.0,
        gt=0,
        le=THRESHOLD_MAX,
        allow_inf_nan=False,
        description="a spike when volume / mean >= threshold",
    )


class CvdParams(AnalysisParams):
    """`/cvd`."""

    limit: Annotated[int, Strict()] = Field(
        100,
        ge=CVD_LIMIT_RANGE[0],
        le=CVD_LIMIT_RANGE[1],
        description="candles in the series",
    )


@dataclass(frozen=True, slots=True)
class MarketEndpoint:
    """One market endpoint: what it is called, what it takes, what it is for."""

    name: str  # also the `MarketData` operation and the answer key's endpoint part
    params: type[Params]
    summary: str
    description: str

    @property
    def path(self) -> str:
        """`/<name>`."""
        return f"/{self.name}"

    @property
    def key_fields(self) -> tuple[str, ...]:
        """The parameters after `symbol` that make the answer key, in declared order."""
        return tuple(name for name in self.params.model_fields if name != "symbol")

    def key(self, exchange: str, symbol: str, **params: Any) -> str:
        """The answer's cache key for a normalized symbol and the other parameters.

        A float parameter is keyed as a float, so `2` and `2.0` share an entry.
        """
        parts: list[object] = []
        for name in self.key_fields:
            value = params[name]
            if self.params.model_fields[name].annotation is float:
                value = float(value)
            parts.append(value)
        return keys.answer_key(self.name, exchange, symbol, *parts)

    def defaults(self) -> dict[str, Any]:
        """The default of each parameter after `symbol` (what warming computes)."""
        return {name: self.params.model_fields[name].default for name in self.key_fields}


PRICE = MarketEndpoint(
    "price",
    PriceParams,
    "24 h ticker of a market",
    "Last, bid, ask, 24 h change, high, low and volumes.",
)
ANALYSIS = MarketEndpoint(
    "comprehensive_analysis",
    AnalysisParams,
    "indicators, levels, trend and signal",
    "RSI, MACD, Bollinger, EMAs, SMAs, ATR, stochastic, ADX, OBV, VWAP, support and "
    "resistance, trend and an overall signal with its reasons, from closed candles.",
)
VOLUME_SPIKE = MarketEndpoint(
    "volume_spike",
    VolumeSpikeParams,
    "is the last closed candle's volume a spike",
    "The last closed candle's volume against the `lookback` candles before it, its "
    "direction from taker volume, and the recent spikes of the window.",
)
CVD = MarketEndpoint(
    "cvd",
    CvdParams,
    "cumulative volume delta",
    "Taker buy minus taker sell volume per candle, accumulated, with its trend and "
    "divergence against price.",
)

MARKET_ENDPOINTS: tuple[MarketEndpoint, ...] = (PRICE, ANALYSIS, VOLUME_SPIKE, CVD)
BY_PATH: dict[str, MarketEndpoint] = {e.path: e for e in MARKET_ENDPOINTS}


def answer_prefixes(exchange: str, symbol: str) -> list[str]:
    """The key of each endpoint's answers for one market (their keys start with it)."""
    return [keys.answer_key(e.name, exchange, symbol) for e in MARKET_ENDPOINTS]
