"""Request parameters: the strict pydantic base, the shared field types, and `parse_body`.

Every body the service accepts is a `Params` model, validated by pydantic straight
from the JSON bytes. The same models describe the bodies in `/openapi.json` and
decide, on the hit fast path, which bodies are valid: there is no second copy of
the rules anywhere.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import Annotated, Any, TypeVar

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
    """Base of every request body: strict.

    An unknown field is a 422 naming it (and the field meant, when one is close), so
    a typo never silently changes the answer. Numbers are strict: `"20"`, `20.0` or
    `true` for a count is a 422, not a guess.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


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
        raise _invalid(model, errors) from None


def parse_query(model: type[P], items: Sequence[tuple[str, str]]) -> P:
    """Validate query-string `items` as `model`: the same fields and rules as the body.

    A query string has only text, so a number field is read as a number first
    (`lookback=20`); anything that is not one stays text and is refused as the
    body's rules refuse it. A field given twice is a 422.
    """
    values: dict[str, Any] = {}
    for name, text in items:
        if name in values:
            raise BodyValidationError(f"{name}: given more than once", [name])
        values[name] = _typed(model, name, text)
    return parse_values(model, values)


def query_int(raw: str | None, name: str, low: int, high: int, default: int) -> int:
    """A whole-number query parameter within `low..high`; a 422 naming `name` otherwise."""
    if raw is None:
        return default
    if not _INTEGER.fullmatch(raw):
        raise BodyValidationError(f"{name}: {raw!r} is not a whole number", [name])
    value = int(raw)
    if not low <= value <= high:
        raise BodyValidationError(f"{name}: must be within {low}..{high}, got {value}", [name])
    return value


def parse_values(model: type[P], values: dict[str, Any]) -> P:
    """Validate already-decoded `values` as `model`; raise BodyValidationError (422)."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise _invalid(model, exc.errors(include_url=False)) from None


def _typed(model: type[Params], name: str, text: str) -> Any:
    field = model.model_fields.get(name)
    if field is None:
        return text
    if field.annotation is int and _INTEGER.fullmatch(text):
        return int(text)
    if field.annotation is float and _NUMBER.fullmatch(text):
        return float(text)
    return text


_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")
_NUMBER = re.compile(r"[+-]?([0-9]{1,18}(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,3})?")


def _invalid(model: type[Params], errors: Sequence[Any]) -> BodyValidationError:
    """One 422 naming every field at fault."""
    parts: list[str] = []
    fields: list[str] = []
    for error in errors:
        field = ".".join(str(p) for p in error["loc"]) or "body"
        fields.append(field)
        if error["type"] == "extra_forbidden":
            parts.append(f"{field}: unknown field{_meant(model, field)}")
        else:
            parts.append(f"{field}: {error['msg']}")
    return BodyValidationError("; ".join(parts), fields)


def _meant(model: type[Params], field: str) -> str:
    """`; did you mean 'timeframe'?` for `timefrane`, or the fields there are."""
    known = list(model.model_fields)
    close = difflib.get_close_matches(field, known, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; the fields are {', '.join(known)}"
