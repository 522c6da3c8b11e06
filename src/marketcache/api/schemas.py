"""Request bodies, validated by pydantic straight from the JSON bytes."""

from __future__ import annotations

from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints, ValidationError

from marketcache.errors import BodyValidationError, MalformedJson

MAX_BODY_BYTES = 16 * 1024
SYMBOL_MAX_LENGTH = 40
TIMEFRAME_MAX_LENGTH = 8
DEFAULT_TIMEFRAME = "15m"
LOOKBACK_RANGE = (5, 500)  # inclusive
THRESHOLD_MAX = 100.0  # and above 0
CVD_LIMIT_RANGE = (10, 1000)  # inclusive

Symbol = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=SYMBOL_MAX_LENGTH)
]
Timeframe = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TIMEFRAME_MAX_LENGTH)
]


class Body(BaseModel):
    """Base of every request body: unknown fields are ignored.

    Numbers are strict: `"20"`, `20.0` or `true` for a count is a 422, not a guess.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)


class PriceRequest(Body):
    """`POST /price`."""

    symbol: Symbol


class AnalysisRequest(Body):
    """`POST /comprehensive_analysis`."""

    symbol: Symbol
    timeframe: Timeframe = DEFAULT_TIMEFRAME


class VolumeSpikeRequest(Body):
    """`POST /volume_spike`."""

    symbol: Symbol
    timeframe: Timeframe = DEFAULT_TIMEFRAME
    lookback: Annotated[int, Strict()] = Field(20, ge=LOOKBACK_RANGE[0], le=LOOKBACK_RANGE[1])
    threshold: Annotated[float, Strict()] = Field(2.0, gt=0, le=THRESHOLD_MAX, allow_inf_nan=False)


class CvdRequest(Body):
    """`POST /cvd`."""

    symbol: Symbol
    timeframe: Timeframe = DEFAULT_TIMEFRAME
    limit: Annotated[int, Strict()] = Field(100, ge=CVD_LIMIT_RANGE[0], le=CVD_LIMIT_RANGE[1])


class WarmRequest(Body):
    """`POST /cache/warm`."""

    symbols: list[Symbol] = Field(min_length=1, max_length=100)
    timeframes: list[Timeframe] = Field(
        default_factory=lambda: [DEFAULT_TIMEFRAME], min_length=1, max_length=8
    )


class InvalidateRequest(Body):
    """`POST /cache/invalidate`: one of `prefix` or `symbol`."""

    prefix: str | None = Field(None, min_length=1, max_length=200)
    symbol: Symbol | None = None


M = TypeVar("M", bound=Body)


def parse_body(model: type[M], raw: bytes) -> M:
    """Validate `raw` as `model`; raise MalformedJson (400) or BodyValidationError (422)."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        if any(e["type"] == "json_invalid" for e in errors):
            detail = "the body is empty" if not raw.strip() else errors[0]["msg"]
            raise MalformedJson(f"malformed JSON: {detail}; expected a JSON object") from None
        parts: list[str] = []
        fields: list[str] = []
        for error in errors:
            field = ".".join(str(p) for p in error["loc"]) or "body"
            fields.append(field)
            parts.append(f"{field}: {error['msg']}")
        raise BodyValidationError("; ".join(parts), fields) from None
