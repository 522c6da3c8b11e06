"""Requests seen before, by their bytes: a hit's parse done once, not per request.

A bot (or wrk) repeats the very same request bytes: same path, same headers, same
body. Parsing them (httptools and uvicorn's callbacks: the scope, the headers, the
request cycle) cost about a quarter of what a hit cost the server (13 of 57 CPU-µs
at 256 connections). So when a request that arrived whole in one read, alone, was
answered as a hit, its bytes are kept with what the parse made of them (`Known`);
the same bytes arriving again on a connection at rest are that request again, and
skip the parser (commands/protocol.py).

Only what the bytes decide is kept (method, path, query, headers, body, HTTP
version, keep-alive), never anything of the connection or the moment, so a known
request means the same on every connection. Bounded: past `MAX_KNOWN` entries the
table starts again, and a request longer than `MAX_BYTES` is not kept.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from starlette.types import Scope

MAX_KNOWN = 2048  # distinct requests remembered: bots repeat a few; a churn only re-parses
MAX_BYTES = 4096  # a request longer than this is parsed every time
FIELDS = ("http_version", "method", "path", "raw_path", "query_string")


class Known(NamedTuple):
    """What the parse of a request's bytes made of them."""

    fields: dict[str, Any]  # the scope's fields the bytes decide (method, path, ...)
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    keep_alive: bool

    @classmethod
    def of(cls, scope: Scope, body: bytes, keep_alive: bool) -> Known:
        """The known form of a parsed request: its scope's fields that the bytes decide."""
        fields = {name: scope[name] for name in FIELDS}
        return cls(fields, tuple(scope["headers"]), body, keep_alive)

    def scope(
        self, base: dict[str, Any], state: dict[str, Any], extensions: dict[str, Any]
    ) -> Scope:
        """An HTTP scope for this request on a connection (`base`: its server, client, ...)."""
        scope = self.fields.copy()
        scope.update(base)
        scope["headers"] = list(self.headers)
        scope["state"] = state
        scope["extensions"] = extensions
        return scope


class KnownRequests:
    """Request bytes answered as hits before, and what they parse to (bounded)."""

    def __init__(self, most: int = MAX_KNOWN) -> None:
        self.most = most
        self._known: dict[bytes, Known] = {}

    def get(self, data: bytes) -> Known | None:
        """What `data` parses to, if it was answered as a hit before."""
        return self._known.get(data)

    def add(self, data: bytes, known: Known) -> None:
        """Remember `data` as `known` (not past `MAX_BYTES`; the table starts again when full)."""
        if len(data) > MAX_BYTES:
            return
        if len(self._known) >= self.most:
            self._known.clear()
        self._known[data] = known

    def __len__(self) -> int:
        return len(self._known)
