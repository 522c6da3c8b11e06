"""Request bodies, validated by pydantic straight from the JSON bytes."""

from __future__ import annotations

from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from marketcache.errors import InputError

Symbol = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Timeframe = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8)]

MAX_BODY_BYTES = 16 * 1024


class Body(BaseModel):
    """Base of every request body: unknown fields are ignored, types are not coerced loosely."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class PriceRequest(Body):
    """`POST /price`."""

    symbol: Symbol


class AnalysisRequest(Body):
    """`POST /comprehensive_analysis`."""

    symbol: Symbol
    timeframe: Timeframe = "15m"


class VolumeSpikeRequest(Body):
    """`POST /volume_spike`."""

    symbol: Symbol
    timeframe: Timeframe = "15m"
    lookback: int = Field(20, ge=5, le=500)
    threshold: float = Field(2.0, gt=0, le=100, allow_inf_nan=False)


class CvdRequest(Body):
    """`POST /cvd`."""

    symbol: Symbol
    timeframe: Timeframe = "15m"
    limit: int = Field(100, ge=10, le=1000)


class WarmRequest(Body):
    """`POST /cache/warm`."""

    symbols: list[Symbol] = Field(min_length=1, max_length=100)
    timeframes: list[Timeframe] = Field(default_factory=lambda: ["15m"], min_length=1, max_length=8)


class InvalidateRequest(Body):
    """`POST /cache/invalidate`: one of `prefix` or `symbol`."""

    prefix: str | None = Field(None, min_length=1, max_length=200)
    symbol: Symbol | None = None


class MalformedJson(InputError):
    """The body is not JSON at all."""

    code = "malformed_json"
    status = 400


class BodyValidationError(InputError):
    """The body is JSON but a field is missing, of the wrong type or out of range."""

    code = "validation_error"
    status = 422

    def __init__(self, message: str, fields: list[str]) -> None:
        super().__init__(message)
        self.fields = fields


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
