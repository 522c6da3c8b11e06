"""The request log: one line per request, written off the path, escaped."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketcache.access_log import (
    DRAIN_EVERY_S,
    IDLE_DRAIN_S,
    SLICE_LINES,
    AccessLog,
    Line,
    TextLines,
    _fields,
    _write_all,
    printable,
)
from marketcache.logs import configure_logging, format_line


@contextlib.contextmanager
def text_log() -> Iterator[io.StringIO]:
    """The app's text logging at info, its handler writing to the stream yielded."""
    stream = io.StringIO()
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    try:
        configure_logging("text", "info")
        handler = root.handlers[0]
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(stream)
        yield stream
    finally:
        root.handlers[:] = saved
        root.setLevel(level)


def test_printable_escapes_control_characters() -> None:
    assert printable("/price") == "/price"
    assert printable("/x\r\nGET /forged 200") == "/x\\x0d\\x0aGET /forged 200"
    assert printable("/a\\x0a") == "/a\\\\x0a"  # a literal backslash cannot fake an escape
    assert printable("\x1b[31m") == "\\x1b[31m"


def test_one_line_per_request_after_a_flush(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="marketcache.access")
    access = AccessLog()
    access.record("POST", "/price", 200, "hit", 0.1234, "BTC/USDT")
    access.record("GET", "/x\r\nGET /admin 200", 404, None, 1.0, None)
    assert not caplog.records  # nothing written on the request path
    access.flush()
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "POST /price 200 hit 0.123ms BTC/USDT",
        "GET /x\\x0d\\x0aGET /admin 200 404 - 1.000ms",
    ]
    assert all("\n" not in line and "\r" not in line for line in lines)
    assert caplog.records[1].path == "/x\\x0d\\x0aGET /admin 200"  # type: ignore[attr-defined]


def test_the_writer_thread_writes_and_stop_drains(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="marketcache.access")
    access = AccessLog()
    access.start()
    for i in range(100):
        access.record("POST", "/price", 200, "hit", float(i), None)
    access.stop()
    assert access.written == 100
    assert len([r for r in caplog.records if r.name == "marketcache.access"]) == 100


def test_queued_lines_leave_the_garbage_collector_at_its_first_look(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Lines wait up to a drain interval; the collector must not carry them to old age."""
    caplog.set_level(logging.INFO, logger="marketcache.access")
    access = AccessLog()
    access.record("POST", "/price", 200, "hit", 0.1234, "BTC/USDT")
    access.record("GET", "/health", 200, None, 0.5, None)
    gc.collect(0)
    assert not any(gc.is_tracked(line) for line in access._queue)
    access.flush()
    assert len(caplog.records) == 2


def test_a_full_queue_counts_drops_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="marketcache.access")
    access = AccessLog(max_queued=3)
    for _ in range(5):
        access.record("POST", "/price", 200, "hit", 1.0, None)
    assert access.dropped == 2
    access.flush()
    assert access.written == 3
    assert "2 request log lines dropped" in caplog.records[-1].getMessage()


LINES = [
    ("POST", "/price\r\n", 200, "hit", 0.25, "BTC/USDT"),
    ("POST", "/price", 200, "hit", 12.0, "BTC/USDT"),
    ("POST", "/price", 200, "hit", 0.1234567, "BTC/USDT"),  # the remembered parts again
    ("GET", "/health", 503, None, 3.0, None),
    ("GET", "/to/http://user:secret@host/x", 404, None, 1.5, None),  # redacted
    ("POST", "/cvd", 422, "bypass", 0.0004, "éth/usdt"),
]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_batch_is_byte_for_byte_what_the_formatter_writes(fmt: str) -> None:
    batched = io.StringIO()
    one_by_one = io.StringIO()
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    try:
        for stream, direct in ((batched, True), (one_by_one, False)):
            configure_logging(fmt, "info")
            handler = root.handlers[0]
            assert isinstance(handler, logging.StreamHandler)
            handler.setStream(stream)
            if not direct:
                handler.marketcache_format = None  # type: ignore[attr-defined]
            access = AccessLog()
            for n, line in enumerate(LINES):
                access.record(*line)
                access._queue[n] = (1_764_000_000.5 + n * 0.3, *access._queue[n][1:])
            access.flush()
    finally:
        root.handlers[:] = saved
        root.setLevel(level)
    assert batched.getvalue() == one_by_one.getvalue()
    assert batched.getvalue().count("\n") == len(LINES)
    assert "secret" not in batched.getvalue()


async def test_inside_a_loop_the_loop_formats_and_the_thread_writes() -> None:
    with text_log() as stream:
        access = AccessLog()
        access.start()
        formatted_by = []
        format_ready = access._format_ready

        def spy(most: int | None = None) -> bool:
            formatted_by.append(threading.current_thread())
            return format_ready(most)

        access._format_ready = spy  # type: ignore[method-assign]
        for line in LINES:
            access.record(*line)
        deadline = time.monotonic() + 30
        while stream.getvalue().count("\n") < len(LINES):
            assert time.monotonic() < deadline, stream.getvalue()
            await asyncio.sleep(0.01)
        assert formatted_by  # before stop() flushes
        access.stop()
    assert set(formatted_by) == {threading.main_thread()}
    assert access.written == len(LINES)


async def test_a_long_batch_is_formatted_a_slice_per_turn_of_the_loop() -> None:
    """Requests are answered between the slices: a slice is SLICE_LINES lines."""
    with text_log() as stream:
        access = AccessLog()
        total = 3 * SLICE_LINES + 10
        for _ in range(total):
            access.record("POST", "/price", 200, "hit", 0.25, "BTC/USDT")
        loop = asyncio.get_running_loop()
        access._format_on_loop(loop)  # what the loop's tick does
        assert len(access._queue) == total - SLICE_LINES  # one slice; the rest next turns
        turns = 0
        while access._queue:
            await asyncio.sleep(0)  # another callback gets its turn between slices
            turns += 1
            assert turns <= 10
        assert turns == 3
        access.flush()
        if access._tick is not None:
            access._tick.cancel()
    assert stream.getvalue().count("\n") == total


@given(
    st.lists(
        st.tuples(
            st.floats(1_700_000_000, 1_800_000_000),
            st.floats(0, 100_000),
            st.sampled_from(["hit", "stale", None]),
        ),
        max_size=30,
    ),
    st.floats(0, 0.004),
)
def test_remembered_parts_and_stamps_write_what_format_line_writes(
    requests: list[tuple[float, float, str | None]], step_s: float
) -> None:
    """Any times (several in one millisecond among them) and latencies: the same text."""
    text = TextLines("marketcache.access")
    created0 = requests[0][0] if requests else 0.0
    for n, (created, latency_ms, cache) in enumerate(requests):
        for when in (created, created0 + n * step_s):  # scattered, and close together
            line: Line = (when, "POST", "/price", 200, cache, latency_ms, "BTC/USDT")
            message, extra = _fields(line)
            expected = format_line(
                "text", "marketcache.access", extra.pop("created"), message, extra
            )
            assert text.line(line) == expected


def test_lines_go_to_the_streams_file_after_what_it_buffered(tmp_path: Path) -> None:
    """The writer writes to the stream's descriptor, after what others left in its buffer."""
    path = tmp_path / "log"
    with path.open("w", encoding="utf-8") as stream:
        stream.write("before\n")  # still in the stream's buffer
        _write_all(stream, "line one\nline two é\n")
        stream.write("after\n")
    assert path.read_text(encoding="utf-8") == "before\nline one\nline two é\nafter\n"


def test_a_full_non_blocking_pipe_is_waited_for_not_lost() -> None:
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    text = "x" * 200_000 + "\n"  # more than a pipe holds
    received: list[bytes] = []

    def drain() -> None:
        while chunk := os.read(read_fd, 65536):
            received.append(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    with os.fdopen(write_fd, "w", encoding="utf-8") as stream:
        _write_all(stream, text)
    reader.join(30)
    os.close(read_fd)
    assert b"".join(received).decode() == text


def test_below_info_nothing_is_queued() -> None:
    """With the log at warning (LOG_LEVEL=warning) a request leaves no line behind."""
    logger = logging.getLogger("marketcache.access")
    saved = logger.level
    access = AccessLog()
    try:
        logger.setLevel(logging.WARNING)
        access.record("POST", "/price", 200, "hit", 0.25, "BTC/USDT")
        assert not access._queue
        logger.setLevel(logging.INFO)
        access.record("POST", "/price", 200, "hit", 0.25, "BTC/USDT")
        assert len(access._queue) == 1
    finally:
        logger.setLevel(saved)


async def test_a_slice_takes_the_lines_that_arrived_meanwhile() -> None:
    """However many requests a turn of the loop answers, the formatting keeps up."""
    with text_log() as stream:
        access = AccessLog()
        for _ in range(SLICE_LINES + 10):
            access.record("POST", "/price", 200, "hit", 0.25, "BTC/USDT")
        access._format_on_loop(asyncio.get_running_loop())  # a tick: one slice
        assert len(access._queue) == 10
        for _ in range(5 * SLICE_LINES):  # a busy turn: many requests answered
            access.record("POST", "/price", 200, "hit", 0.25, "BTC/USDT")
        await asyncio.sleep(0)  # the next slice: the 10 left and all that arrived
        assert not access._queue
        access.flush()
        if access._tick is not None:
            access._tick.cancel()
    assert stream.getvalue().count("\n") == 6 * SLICE_LINES + 10


class RecordingLoop:
    """Stands in for the loop: remembers when `_format_on_loop` asks to be called next."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def call_later(self, delay: float, *_: object) -> asyncio.TimerHandle:
        self.delays.append(delay)
        return asyncio.get_running_loop().call_later(3600, lambda: None)  # never due

    def call_soon(self, *_: object) -> asyncio.Handle:
        raise AssertionError("a short batch is one slice")


async def test_a_look_that_finds_lines_looks_again_soon_and_an_idle_one_later() -> None:
    """Under load lines go out every DRAIN_EVERY_S; with none queued the loop looks less often."""
    with text_log() as stream:
        access = AccessLog()
        loop = RecordingLoop()
        access.record("POST", "/price", 200, "hit", 0.25, "BTC/USDT")
        access._format_on_loop(loop)  # type: ignore[arg-type]
        assert access._wake.is_set()  # the thread has text to write
        access._format_on_loop(loop)  # type: ignore[arg-type]
        assert loop.delays == [DRAIN_EVERY_S, IDLE_DRAIN_S]
        assert DRAIN_EVERY_S < IDLE_DRAIN_S
        access.flush()
        assert access._tick is not None
        access._tick.cancel()
    assert stream.getvalue().count("\n") == 1
