"""Query-parameter parsing with Binance's error codes and messages."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

_DIGITS = re.compile(r"^-?[0-9]{1,20}$")


class BinanceError(Exception):
    """An error answered the way Binance does: HTTP status and {"code", "msg"}."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status

    def body(self) -> dict[str, object]:
        """The JSON body Binance sends."""
        return {"code": self.code, "msg": self.msg}


def invalid_symbol() -> BinanceError:
    """-1121 Invalid symbol."""
    return BinanceError(-1121, "Invalid symbol.")


def mandatory(query: Mapping[str, str], name: str) -> str:
    """A required parameter, or -1102."""
    value = query.get(name, "")
    if value == "":
        raise BinanceError(
            -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
        )
    return value


def optional_int(query: Mapping[str, str], name: str) -> int | None:
    """An optional integer parameter, or -1100 for illegal characters."""
    value = query.get(name)
    if value is None or value == "":
        return None
    if not _DIGITS.match(value):
        raise BinanceError(
            -1100,
            f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'.",
        )
    return int(value)


def limit(query: Mapping[str, str], default: int, maximum: int) -> int:
    """`limit`: default when absent, capped at `maximum`, -1100 when not a positive integer."""
    value = optional_int(query, "limit")
    if value is None:
        return default
    if value <= 0:
        raise BinanceError(
            -1100,
            f"Illegal characters found in parameter 'limit'; legal range is '1 - {maximum}'.",
        )
    return min(value, maximum)


def reject_duplicates(names: list[str]) -> None:
    """-1101 when a parameter is sent more than once."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise BinanceError(-1101, f"Duplicate values for parameter '{name}'.")
        seen.add(name)


def symbol_list(value: str) -> list[str]:
    """The `symbols` parameter: a JSON list of symbol strings, or -1100."""
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if not isinstance(parsed, list) or not parsed or not all(isinstance(s, str) for s in parsed):
        raise BinanceError(
            -1100,
            "Illegal characters found in parameter 'symbols'; legal range is "
            '\'^\\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\\]$\'.',
        )
    return list(parsed)
