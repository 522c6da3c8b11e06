"""The admin request bodies, and the response models that document every answer."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from marketcache.params import DEFAULT_TIMEFRAME, Params, Symbol, Timeframe

BATCH_CEILING = 100  # `BATCH_MAX_SYMBOLS` may lower it


class PricesRequest(Params):
    """`POST /prices`: several markets in one request."""

    symbols: list[Symbol] = Field(
        min_length=1,
        max_length=BATCH_CEILING,
        description="markets, as /price takes them; at most BATCH_MAX_SYMBOLS (default 50)",
    )


class MarketsQuery(Params):
    """`GET /markets?quote=USDT`."""

    quote: str | None = Field(
        None, pattern=r"^[A-Za-z0-9]{1,12}$", description="only markets quoted in this asset"
    )


class WarmRequest(Params):
    """`POST /cache/warm`."""

    symbols: list[Symbol] = Field(min_length=1, max_length=100)
    timeframes: list[Timeframe] = Field(
        default_factory=lambda: [DEFAULT_TIMEFRAME], min_length=1, max_length=8
    )


class InvalidateRequest(Params):
    """`POST /cache/invalidate`: one of `prefix` or `symbol`."""

    prefix: str | None = Field(None, min_length=1, max_length=200)
    symbol: Symbol | None = None


# -- responses (documentation: the routes write bytes, these describe them) -----------


class ErrorDetail(BaseModel):
    """The `error` object: a code to branch on and a one-line message."""

    code: str = Field(description="machine-readable: validation_error, unknown_symbol, ...")
    message: str = Field(description="one line, for people")
    fields: list[str] | None = Field(None, description="the fields at fault (422)")
    suggestions: list[str] | None = Field(None, description="close symbols (unknown_symbol)")
    allowed: list[str] | None = Field(None, description="the timeframes there are")
    retry_after: float | None = Field(None, description="seconds; also the Retry-After header")


class ErrorResponse(BaseModel):
    """Every error answer."""

    success: Literal[False]
    error: ErrorDetail


class Meta(BaseModel):
    """How a market answer was served."""

    cache: Literal["hit", "stale", "miss", "coalesced", "bypass"]
    age_ms: int = Field(ge=0, description="age of the data since it left the exchange")
    source: str = Field(description="binance, emulator, ...")
    exchange: str
    fetched_at: str = Field(description="when the data left the exchange (ISO 8601, UTC)")


class MarketResponse(BaseModel):
    """A market answer: the data and how it was served."""

    success: Literal[True]
    data: dict[str, Any]
    meta: Meta


class OkResponse(BaseModel):
    """`{"success": true, "data": {...}}`."""

    success: Literal[True]
    data: dict[str, Any]


class Document(BaseModel):
    """A JSON document without the envelope (`/health`, `/cache/health`)."""

    model_config = {"extra": "allow"}

    status: Literal["healthy", "degraded", "unhealthy"]
