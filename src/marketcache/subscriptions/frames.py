"""The messages a subscriber receives, as JSON bytes.

An answer is the HTTP body (`success`, `data`, `meta`) with `type` and `id` in
front; an error is the HTTP error body with `type`, `id` and the HTTP `status`.
One answer's body is framed once per change; each subscription adds only its prefix.
"""

from __future__ import annotations

from typing import Any

import orjson

from marketcache.errors import MarketCacheError


def answer_prefix(subscription: str) -> bytes:
    """`{"type":"answer","id":"…",` — what a subscription puts before an answer's body."""
    return b'{"type":"answer","id":' + orjson.dumps(subscription) + b","


def answer(prefix: bytes, body: bytes) -> bytes:
    """The answer `body` (`{"success":true,…}`) as the subscription's frame."""
    return prefix + body[1:]


def reply(kind: str, subscription: str | None, **fields: Any) -> bytes:
    """`{"type": kind, "id": subscription, …fields}`."""
    return orjson.dumps({"type": kind, "id": subscription, **fields})


def error(subscription: str | None, exc: MarketCacheError) -> bytes:
    """The HTTP error body of `exc`, with `type`, `id` and `status`."""
    return orjson.dumps(
        {
            "type": "error",
            "id": subscription,
            "status": exc.status,
            "success": False,
            "error": exc.to_body(),
        }
    )


def event(subscription: str, name: str, endpoint: str, data: bytes) -> bytes:
    """`{"type":"event","id":…,"event":name,"endpoint":…,"data":<the answer's data>}`."""
    head = orjson.dumps({"type": "event", "id": subscription, "event": name, "endpoint": endpoint})
    return head[:-1] + b',"data":' + data + b"}"
