"""The request log: one line per request, written off the request path.

A request only appends its fields to a queue (a few hundred nanoseconds); a
writer thread turns them into records of the `marketcache.access` logger, so
formatting (text or JSON) and writing happen away from the event loop, in
batches. Fields a client controls (the path) are escaped: a `%0d%0a` in a URL
cannot forge a line. Should the writer ever fall `MAX_QUEUED` lines behind, new
lines are counted as dropped (and said so in the log) rather than held without
bound.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from typing import Any, NamedTuple

from marketcache.logs import direct_handler, format_line

log = logging.getLogger("marketcache.access")

MAX_QUEUED = 200_000
DRAIN_EVERY_S = 0.05

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\\]")


def printable(text: str) -> str:
    """`text` with control characters (and backslashes) escaped: one line, always."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda m: "\\\\" if m[0] == "\\" else f"\\x{ord(m[0]):02x}", text)


class Line(NamedTuple):
    """One request, as the log line will tell it."""

    created: float
    method: str
    path: str
    status: int
    cache: str | None
    latency_ms: float
    symbol: str | None


class AccessLog:
    """Queue of request lines and the thread that writes them."""

    def __init__(self, max_queued: int = MAX_QUEUED) -> None:
        self._queue: deque[Line] = deque()
        self._max = max_queued
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()  # one drain at a time (the thread, flush, stop)
        self._thread: threading.Thread | None = None
        self.dropped = 0
        self.written = 0

    def record(
        self,
        method: str,
        path: str,
        status: int,
        cache: str | None,
        latency_ms: float,
        symbol: str | None,
    ) -> None:
        """Queue one request's line (cheap: no formatting here)."""
        if len(self._queue) >= self._max:
            self.dropped += 1
            return
        self._queue.append(Line(time.time(), method, path, status, cache, latency_ms, symbol))

    def start(self) -> None:
        """Start the writer thread."""
        if self._thread is None and log.isEnabledFor(logging.INFO):
            self._thread = threading.Thread(target=self._run, name="access-log", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Write what is queued and stop the thread."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None
        self.flush()

    def flush(self) -> None:
        """Write every queued line now (tests, shutdown)."""
        with self._lock:
            direct = direct_handler(log)
            if direct is not None:
                # lines queued while this batch is written wait for the next one: the
                # record-by-record way below costs several times more per line
                self._write_batch(*direct)
            else:
                while self._queue:
                    self._write(self._queue.popleft())
            if self.dropped:
                log.warning(
                    "%d request log lines dropped: the log writer fell behind", self.dropped
                )
                self.dropped = 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(DRAIN_EVERY_S)
            self.flush()

    def _write_batch(self, fmt: str, handler: logging.StreamHandler[Any]) -> None:
        """Format the queued lines here and write them with one call (our handler only)."""
        lines: list[str] = []
        for _ in range(len(self._queue)):  # what is queued now; later lines, next batch
            message, extra = _fields(self._queue.popleft())
            lines.append(format_line(fmt, log.name, extra.pop("created"), message, extra))
        if not lines:
            return
        with handler.lock or threading.Lock():
            handler.stream.write("\n".join(lines) + "\n")
            handler.flush()
        self.written += len(lines)

    def _write(self, line: Line) -> None:
        if not log.isEnabledFor(logging.INFO):
            return
        message, extra = _fields(line)
        created = extra.pop("created")
        record = log.makeRecord(log.name, logging.INFO, __file__, 0, message, (), None, extra=extra)
        record.created = created
        record.msecs = (created % 1) * 1000
        log.handle(record)
        self.written += 1


def _fields(line: Line) -> tuple[str, dict[str, Any]]:
    """The message and the `extra` fields of one line (plus `created`)."""
    path = printable(line.path)
    method = printable(line.method)
    latency_ms = round(line.latency_ms, 3)
    symbol = f" {line.symbol}" if line.symbol else ""
    message = f"{method} {path} {line.status} {line.cache or '-'} {latency_ms:.3f}ms{symbol}"
    return message, {
        "method": method,
        "path": path,
        "status": line.status,
        "cache": line.cache,
        "latency_ms": latency_ms,
        "symbol": line.symbol,
        "created": line.created,
    }
