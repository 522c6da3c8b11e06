"""A strict check that an analytics answer is plain JSON-ready data."""

from __future__ import annotations

import math
from typing import Any

import orjson


def assert_json_ready(value: Any, path: str = "$") -> None:
    """Only dict/list/str/int/float/bool/None of exact built-in types, and finite floats."""
    kind = type(value)
    if value is None or kind in (str, bool, int):
        return
    if kind is float:
        assert math.isfinite(value), f"{path} is {value}"
        return
    if kind is dict:
        for key, item in value.items():
            assert type(key) is str, f"{path} has key {key!r}"
            assert_json_ready(item, f"{path}.{key}")
        return
    if kind is list:
        for index, item in enumerate(value):
            assert_json_ready(item, f"{path}[{index}]")
        return
    raise AssertionError(f"{path} is a {kind.__name__}")


def dumps_strict(value: Any) -> bytes:
    """orjson without numpy support; raises on anything not plain."""
    assert_json_ready(value)
    encoded = orjson.dumps(value)
    assert b"NaN" not in encoded
    assert b"Infinity" not in encoded
    return encoded
