"""Request parameters: the strict pydantic base, the shared field types, and `parse_body`.

Every body the service accepts is a `Params` model, validated by pydantic straight
from the JSON bytes. The same models describe the bodies in `/openapi.json` and
decide, on the hit fast path, which bodies are valid: there is no second copy of
the rules anywhere.
"""

from __future__ import annotations

from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from marketcache.errors import BodyValidationError, MalformedJson

MAX_BODY_BYTES = 16 * 1024
SYMBOL_MAX_LENGTH = 40
TIMEFRAME_MAX_LENGTH = 8
DEFAULT_TIMEFRAME = "15m"

Symbol = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=SYMBOL_MAX_LENGTH),
]
Timeframe = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=TIMEFRAME_MAX_LENGTH),
]


class Params(BaseModel):
    """Base of every request body: unknown fields are ignored.

    Numbers are strict: `"20"`, `20.0` or `true` for a count is a 422, not a guess.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)


P = TypeVar("P", bound=Params)


def parse_body(model: type[P], raw: bytes) -> P:
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
