"""Where a hit's time goes: py-spy's collapsed stacks of the server, grouped by layer.

A sample of the event-loop thread inside a request (under uvicorn's protocol) is given to
the innermost frame that belongs to a known layer (so the request log's formatting counts
as the log line, not as the observer that calls it); a sample outside any request is the
event loop itself (its C code, between callbacks) or background work.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


@dataclass(frozen=True)
class Layer:
    """A named group of source files (prefixes or exact names, as py-spy prints them)."""

    name: str
    files: tuple[str, ...]

    def owns(self, file: str) -> bool:
        """Whether `file` belongs to this layer."""
        return any(file == f or (f.endswith("/") and file.startswith(f)) for f in self.files)


# Ordered only for the report; attribution is by the innermost owning frame.
LAYERS = (
    Layer("request log line (logging, logs.py)", ("logging/", "marketcache/logs.py")),
    Layer(
        "metrics (Monitor.record: recorder, histogram, Prometheus)",
        (
            "prometheus_client/",
            "marketcache/monitoring/",
            "monitor.py",
            "requests.py",
            "histogram.py",
            "metrics.py",
        ),
    ),
    Layer("observer (api/observe.py itself)", ("marketcache/api/observe.py",)),
    Layer("body limit (api/body.py)", ("marketcache/api/body.py",)),
    Layer(
        "fast path (api/fastpath.py: orjson.loads, symbol, key, Cache.peek)",
        (
            "marketcache/api/fastpath.py",
            "marketcache/keys.py",
            "marketcache/service.py",
            "marketcache/cache/",
            "marketcache/sources/symbols.py",
            "marketcache/clock.py",
        ),
    ),
    Layer("answer framing (answer.py: meta, orjson.dumps, bytes)", ("marketcache/answer.py",)),
    Layer(
        "FastAPI/Starlette around our middlewares (telemetry check, error, body-limit layers)",
        (
            "fastapi/",
            "starlette/",
            "trace/",
            "metrics/_internal/",
            "_logs/_internal/",
            "opentelemetry/",
        ),
    ),
    Layer("uvicorn ProxyHeadersMiddleware", ("uvicorn/middleware/",)),
    Layer(
        "uvicorn HTTP protocol (httptools parse + callbacks, ASGI cycle, transport write)",
        ("uvicorn/protocols/",),
    ),
)
EVENT_LOOP = "event loop between callbacks (uvloop C: epoll, socket reads, task steps)"
BACKGROUND = "background tasks (refresh-ahead, monitor sampler, upstream loads)"
REQUEST_MARK = "uvicorn/protocols/"
_LOOP_FILES = ("asyncio/", "uvicorn/server.py", "uvicorn/_compat.py", "<frozen runpy>")


def file_of(frame: str) -> str:
    """The file part of a py-spy frame `function (file:line)`."""
    match = _FRAME.match(frame.strip())
    return match.group("file") if match else frame


def parse_collapsed(lines: Iterable[str]) -> list[tuple[list[str], int]]:
    """`frame;frame;... count` lines into (frames root first, count)."""
    out = []
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            continue
        stack, _, count = line.rpartition(" ")
        out.append((stack.split(";"), int(count)))
    return out


def layer_of(frames: list[str]) -> str:
    """The layer one sample belongs to."""
    files = [file_of(f) for f in frames]
    if not any(f.startswith(REQUEST_MARK) for f in files):
        leaf = files[-1] if files else ""
        if any(leaf == f or (f.endswith("/") and leaf.startswith(f)) for f in _LOOP_FILES):
            return EVENT_LOOP
        return BACKGROUND
    for file in reversed(files):
        for layer in LAYERS:
            if layer.owns(file):
                return layer.name
    return LAYERS[-1].name  # pragma: no cover - a request frame is in the uvicorn layer


def shares(stacks: Iterable[tuple[list[str], int]]) -> tuple[dict[str, int], int, int]:
    """Samples per layer of the main thread; its total; samples of other threads (left out)."""
    counts: dict[str, int] = {layer.name: 0 for layer in LAYERS}
    counts[EVENT_LOOP] = counts[BACKGROUND] = 0
    total = other_threads = 0
    for frames, n in stacks:
        if frames and file_of(frames[0]).startswith("threading.py"):
            other_threads += n
            continue
        counts[layer_of(frames)] += n
        total += n
    return counts, total, other_threads
