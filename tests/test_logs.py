"""Log lines never carry credentials, in either format."""

from __future__ import annotations

import logging

import orjson
import pytest

from marketcache.logs import JsonFormatter, TextFormatter, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://user:s3cret@10.0.0.1:9/api", "http://***@10.0.0.1:9/api"),
        ("redis://:pw@h:6379/0", "redis://***@h:6379/0"),
        ("GET https://key@exchange.example/x failed", "GET https://***@exchange.example/x failed"),
        ("https://a.example/path@x", "https://a.example/path@x"),
        ("mail me@example.org", "mail me@example.org"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("formatter", [TextFormatter(), JsonFormatter()])
def test_both_formatters_redact(formatter: logging.Formatter) -> None:
    record = logging.LogRecord(
        "marketcache",
        logging.WARNING,
        __file__,
        1,
        "binance ticker failed: GET %s: 503",
        ("http://bob:hunter2@127.0.0.1:9/api/v3",),
        None,
    )
    record.url = "redis://:topsecret@127.0.0.1:6379"
    line = formatter.format(record)
    assert "hunter2" not in line
    assert "topsecret" not in line
    assert "bob" not in line
    if isinstance(formatter, JsonFormatter):
        orjson.loads(line)
