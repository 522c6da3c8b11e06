"""The ceiling: a bare ASGI app on the same server, answering each path with fixed bytes.

It reads the request body (as any POST endpoint must) and sends the stored answer with
the headers a hit of ours carries; no framework, no routing, no logging.
Run: `python -m uvicorn marketcache.bench.peers.apps.raw:app --http httptools --loop uvloop`.
"""

from __future__ import annotations

from typing import Any

from marketcache.bench.peers.apps import payloads

_ANSWERS = {
    path: (
        body,
        [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-cache", b"hit"),
        ],
    )
    for path, body in payloads.load().items()
}
_NOT_FOUND = b'{"success":false}'


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answer every HTTP request from the stored bytes (lifespan accepted)."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    more = scope["method"] not in ("GET", "HEAD")
    while more:
        message = await receive()
        more = message["type"] == "http.request" and message.get("more_body", False)
    answer = _ANSWERS.get(scope["path"])
    if answer is None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"17")]
        await send({"type": "http.response.start", "status": 404, "headers": headers})
        await send({"type": "http.response.body", "body": _NOT_FOUND})
        return
    body, headers = answer
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
