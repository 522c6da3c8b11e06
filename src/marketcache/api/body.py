"""Request bodies at the ASGI level: read whole (bounded), replay to the app, refuse if large."""

from __future__ import annotations

from typing import Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from marketcache.api import responses
from marketcache.params import MAX_BODY_BYTES

Outcome = Literal["whole", "gone", "too_large"]


async def read_body(receive: Receive, limit: int | None = None) -> tuple[bytes, Outcome]:
    """The whole body; `gone` if the client left first, `too_large` past `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), "gone"
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            return b"", "too_large"
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), "whole"


def replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app `body` (already read), then defers to the real one."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


class BodyLimit:
    """ASGI middleware: a request body over `limit` bytes is answered 413.

    A declared Content-Length over the limit is refused before reading (the HTTP
    server holds the body to its declared length); a body without one (chunked) is
    read up to the limit and replayed to the app.
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        declared = content_length(scope)
        if declared is not None and declared <= self.limit:
            await self.app(scope, receive, send)
            return
        if declared is not None:
            await self._reject(scope, receive, send)
            return
        body, outcome = await read_body(receive, self.limit)
        if outcome == "too_large":
            await self._reject(scope, receive, send)
        elif outcome == "whole":
            await self.app(scope, replay(body, receive), send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"request body over {self.limit} bytes ({self.limit // 1024} KiB)"
        response = responses.error(413, "payload_too_large", message)
        await response(scope, receive, send)


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of the (lower-case) header `name`, or None."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def content_length(scope: Scope) -> int | None:
    """The declared Content-Length, or None when there is none or it is not a number."""
    raw = header(scope, b"content-length")
    if raw is None or not raw.isdigit():
        return None
    return int(raw)
