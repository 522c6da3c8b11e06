"""Logging set-up: plain text for people, one JSON object per line with LOG_FORMAT=json.

Whatever is logged, credentials in URLs (`http://user:secret@host`, `redis://:pw@...`)
are redacted from the line as written, by both formatters.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import Any

import orjson

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys()) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's colored copy of the message
}


_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^\s/@'\"]*@")


def redact(text: str) -> str:
    """`text` with the user and password of every URL in it replaced by `***`."""
    return _USERINFO.sub(r"\1***@", text) if "@" in text else text


class JsonFormatter(logging.Formatter):
    """One JSON object per record; `extra=` fields become keys."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                document[key] = value
        if record.exc_info:
            document["error"] = self.formatException(record.exc_info)
        return redact(orjson.dumps(document, default=str).decode())


class TextFormatter(logging.Formatter):
    """`time level logger: message key=value ...`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = [
            f"{key}={value}"
            for key, value in vars(record).items()
            if key not in _STANDARD and not key.startswith("_")
        ]
        return redact(f"{line} {' '.join(extras)}" if extras else line)


def configure_logging(fmt: str = "text", level: str = "info") -> None:
    """Send every log line to stderr in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.marketcache_format = fmt  # type: ignore[attr-defined]  # see `direct_handler`
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def direct_handler(logger: logging.Logger) -> tuple[str, logging.StreamHandler[Any]] | None:
    """The format and stream handler `logger`'s lines end in, when it is ours alone.

    Then a writer may format lines itself (`format_line`) and write them in a
    batch, byte for byte what the handler would have written one record at a
    time; otherwise (tests capturing logs, another set-up) None.
    """
    if logger.handlers or not logger.propagate or not logger.isEnabledFor(logging.INFO):
        return None
    root = logging.getLogger()
    if len(root.handlers) != 1:
        return None
    handler = root.handlers[0]
    fmt = getattr(handler, "marketcache_format", None)
    if fmt is None or not isinstance(handler, logging.StreamHandler):
        return None
    return fmt, handler


_TIME_CACHE: dict[tuple[str, int], str] = {}
TEXT_TIME = "%Y-%m-%d %H:%M:%S"  # TextFormatter's time, before its milliseconds


def time_text(created: float, pattern: str) -> str:
    """`created` formatted by `pattern` in local time (remembered per second)."""
    second = int(created)
    text = _TIME_CACHE.get((pattern, second))
    if text is None:
        if len(_TIME_CACHE) > 8:
            _TIME_CACHE.clear()
        text = _TIME_CACHE[(pattern, second)] = time.strftime(pattern, time.localtime(created))
    return text


def format_line(fmt: str, logger: str, created: float, message: str, extra: dict[str, Any]) -> str:
    """An INFO line as `TextFormatter` / `JsonFormatter` would write it."""
    if fmt == "json":
        document: dict[str, Any] = {
            "time": time_text(created, "%Y-%m-%dT%H:%M:%S"),
            "level": "info",
            "logger": logger,
            "message": message,
            **extra,
        }
        return redact(orjson.dumps(document, default=str).decode())
    stamp = f"{time_text(created, TEXT_TIME)},{int((created % 1) * 1000):03d}"
    extras = " ".join(f"{key}={value}" for key, value in extra.items())
    return redact(f"{stamp} INFO {logger}: {message} {extras}")
