"""The request log: one line per request, written off the request path.

A request only appends its fields to a queue (a few hundred nanoseconds); they
are formatted in batches between requests and written by a thread (see
`AccessLog`), as the `marketcache.access` logger's lines. Fields a client
controls (the path) are escaped: a `%0d%0a` in a URL cannot forge a line.
Should the writer ever fall `MAX_QUEUED` lines behind, new lines are counted as
dropped (and said so in the log) rather than held without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import select
import threading
import time
from collections import deque
from typing import Any, TextIO

from marketcache.logs import TEXT_TIME, direct_handler, format_line, time_text

log = logging.getLogger("marketcache.access")

MAX_QUEUED = 200_000
# Lines go out every 20 ms: in bursts of a quarter second (3.5 MB at 70k requests/s) the
# kernel's copy into a log file's page cache took a core for milliseconds, and hits' p99 at
# 16 connections was 2.06 ms against 0.57 with the log to /dev/null; at 20 ms, 0.72
# (bench/log_drain.py, docs/BENCHMARKS.md).
DRAIN_EVERY_S = 0.02
# With nothing queued at a look, the next is this much later (an idle service's loop and
# writer woke 50 times a second at 20 ms: 1.0 % of a core instead of 0.4 %); the first lines
# after a quiet spell so wait at most this long, once.
IDLE_DRAIN_S = 0.25
SLICE_LINES = 64  # lines the loop formats at a go (~0.1 ms): a request waits behind at most these

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\\]")


def printable(text: str) -> str:
    """`text` with control characters (and backslashes) escaped: one line, always."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda m: "\\\\" if m[0] == "\\" else f"\\x{ord(m[0]):02x}", text)


# One request, as the log line will tell it: (created, method, path, status, cache,
# latency_ms, symbol). A plain tuple of atoms, not a NamedTuple: the collector untracks
# it the first time it sees it, so the lines queued between drains (thousands) are not
# promoted and rescanned by every older generation's collection (gen-1 pauses of 1-3 ms
# every ~0.3 s and gen-2 ones of ~5 ms every few seconds at 40k requests/s).
Line = tuple[float, str, str, int, str | None, float, str | None]


class AccessLog:
    """Queue of request lines, formatted in batches, written by a thread of its own.

    Started inside a running event loop, the loop formats the queued lines every
    `DRAIN_EVERY_S` (one pass over a batch, between requests) and the thread only
    writes the text (the write releases the GIL): a thread formatting in Python
    would take the GIL from the loop thousands of times a second, which cost the
    loop more than the formatting itself (15-20 µs a request at 256 connections).
    Without a loop, or when the lines go to handlers other than ours (tests
    capturing logs), the thread formats them too.
    """

    def __init__(self, max_queued: int = MAX_QUEUED) -> None:
        self._queue: deque[Line] = deque()
        self._max = max_queued
        self._ready: deque[tuple[str, logging.StreamHandler[Any]]] = deque()  # text to write
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()  # one drain at a time (the thread, flush, stop)
        self._thread: threading.Thread | None = None
        self._tick: asyncio.Handle | None = None
        self._text = TextLines(log.name)
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
        """Queue one request's line (cheap: no formatting here); none below LOG_LEVEL=info."""
        if not log.isEnabledFor(logging.INFO):  # logging's own cached answer
            return
        if len(self._queue) >= self._max:
            self.dropped += 1
            return
        self._queue.append((time.time(), method, path, status, cache, latency_ms, symbol))

    @staticmethod
    def wanted() -> bool:
        """Whether request lines are logged at all (the log level is info or finer)."""
        return log.isEnabledFor(logging.INFO)

    def start(self) -> None:
        """Start the writer thread (and the loop's formatting, inside a running loop)."""
        if self._thread is not None or not self.wanted():
            return
        with contextlib.suppress(RuntimeError):  # no running loop: the thread formats
            loop = asyncio.get_running_loop()
            self._tick = loop.call_later(DRAIN_EVERY_S, self._format_on_loop, loop)
        self._thread = threading.Thread(target=self._run, name="access-log", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Write what is queued and stop the thread (and the loop's formatting)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None
        self.flush()

    def flush(self) -> None:
        """Write every queued line now (tests, shutdown)."""
        self._drain(format_here=True)

    def _format_on_loop(self, loop: asyncio.AbstractEventLoop, left: int | None = None) -> None:
        # Every tick the loop formats what is queued, a slice per turn of the loop, so that
        # requests are answered between slices. A slice is SLICE_LINES of what was left
        # plus the lines that arrived since the last slice: the formatting keeps up however
        # many requests a turn answers, and what is left shrinks by SLICE_LINES a turn.
        queued = len(self._queue)
        arrived = 0 if left is None else max(0, queued - left)
        ours = bool(queued) and self._format_ready(min(queued, SLICE_LINES + arrived))
        if ours and self._queue:
            self._tick = loop.call_soon(self._format_on_loop, loop, len(self._queue))
            return
        if self._ready or (queued and not ours):  # text to write, or lines for other handlers
            self._wake.set()
        delay = DRAIN_EVERY_S if queued else IDLE_DRAIN_S
        self._tick = loop.call_later(delay, self._format_on_loop, loop)

    def _run(self) -> None:
        while not self._stop.is_set():
            # while the loop formats, it wakes the thread when there is work for it
            self._wake.wait(DRAIN_EVERY_S if self._tick is None else IDLE_DRAIN_S)
            self._wake.clear()
            self._drain(format_here=self._tick is None)  # else the loop formats

    def _drain(self, *, format_here: bool) -> None:
        with self._lock:
            if format_here:
                self._format_ready()
            self._write_ready()
            if direct_handler(log) is None:  # lines for other handlers: one record each
                while self._queue:
                    self._write(self._queue.popleft())
            if self.dropped:
                log.warning(
                    "%d request log lines dropped: the log writer fell behind", self.dropped
                )
                self.dropped = 0

    def _format_ready(self, most: int | None = None) -> bool:
        """Format what is queued now (at `most` lines) into text to write, if our handler
        writes it."""
        direct = direct_handler(log)
        if direct is None:
            return False
        fmt, handler = direct
        lines: list[str] = []
        text = self._text
        count = len(self._queue) if most is None else min(most, len(self._queue))
        for _ in range(count):  # what is queued now; later lines, next batch
            try:
                line = self._queue.popleft()
            except IndexError:  # a flush on another thread took the rest
                break
            formatted = text.line(line) if fmt == "text" else None
            if formatted is None:
                message, extra = _fields(line)
                formatted = format_line(fmt, log.name, extra.pop("created"), message, extra)
            lines.append(formatted)
        if lines:
            self._ready.append(("\n".join(lines) + "\n", handler))
            self.written += len(lines)
        return bool(lines)

    def _write_ready(self) -> None:
        # Everything formatted since the last write goes out in one write: each write the
        # thread makes takes the GIL from the loop (and back after the system call).
        while self._ready:
            texts = [self._ready.popleft()]
            while self._ready and self._ready[0][1] is texts[0][1]:
                texts.append(self._ready.popleft())
            handler = texts[0][1]
            with handler.lock or threading.Lock():
                _write_all(handler.stream, "".join(text for text, _ in texts))

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


class TextLines:
    """Text lines as `format_line` writes them, the parts that repeat remembered.

    Bots ask the same few things: a line's method, path, status, cache status and
    symbol repeat, only its time and latency change; lines of the same millisecond
    share their time stamp. A line whose fixed parts hold an `@` is left to
    `format_line` (it would redact them).
    """

    MAX_REMEMBERED = 4096

    def __init__(self, logger: str) -> None:
        self.logger = logger
        self.parts: dict[tuple[str, str, int, str | None, str | None], tuple[str, str, str]] = {}
        self._stamp_of = (-1, -1)  # the (second, millisecond) of `_stamp`
        self._stamp = ""

    def line(self, line: Line) -> str | None:
        """The text of `line`, or None when `format_line` must write it."""
        created, method, path, status, cache, latency_ms, symbol = line
        key = (method, path, status, cache, symbol)
        parts = self.parts.get(key)
        if parts is None:
            method, path = printable(method), printable(path)
            shown = f" {symbol}" if symbol else ""
            parts = (
                f" INFO {self.logger}: {method} {path} {status} {cache or '-'} ",
                f"ms{shown} method={method} path={path} status={status} cache={cache} latency_ms=",
                f" symbol={symbol}",
            )
            if any("@" in part for part in parts):
                return None
            if len(self.parts) >= self.MAX_REMEMBERED:
                self.parts.clear()
            self.parts[key] = parts
        when = (int(created), int((created % 1) * 1000))  # as logging's own msecs
        if when != self._stamp_of:
            self._stamp_of = when
            self._stamp = f"{time_text(created, TEXT_TIME)},{when[1]:03d}"
        fixed = f"{latency_ms:.3f}"  # the message's latency
        shortest = fixed.rstrip("0")  # the field's: repr(round(latency_ms, 3))
        if shortest[-1] == ".":
            shortest += "0"
        return f"{self._stamp}{parts[0]}{fixed}{parts[1]}{shortest}{parts[2]}"


def _fields(line: Line) -> tuple[str, dict[str, Any]]:
    """The message and the `extra` fields of one line (plus `created`)."""
    created, method, path, status, cache, latency_ms, symbol = line
    path = printable(path)
    method = printable(method)
    latency_ms = round(latency_ms, 3)
    shown = f" {symbol}" if symbol else ""
    message = f"{method} {path} {status} {cache or '-'} {latency_ms:.3f}ms{shown}"
    return message, {
        "method": method,
        "path": path,
        "status": status,
        "cache": cache,
        "latency_ms": latency_ms,
        "symbol": symbol,
        "created": created,
    }


def _write_all(stream: TextIO, text: str) -> None:
    """Write `text` to `stream`: to its file descriptor at once when it has one."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # a StringIO, a test's capture
        stream.write(text)
        stream.flush()
        return
    stream.flush()  # what others wrote through the stream goes first
    data = memoryview(text.encode(stream.encoding or "utf-8", stream.errors or "strict"))
    while data:
        try:
            data = data[os.write(fd, data) :]
        except BlockingIOError:  # a non-blocking pipe that is full: wait till it drains
            select.select([], [fd], [], 1.0)
