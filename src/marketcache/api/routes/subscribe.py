"""Subscriptions: a WebSocket at `/ws`, and Server-Sent Events at `/subscribe/<endpoint>`.

The WebSocket takes `subscribe`/`unsubscribe` messages (`subscriptions/session.py`);
the event stream is one subscription, its parameters the GET route's query string.
Both get the current answer at once, then every changed answer, events, and errors
in the HTTP error body. Limits close a WebSocket with a code and a reason:
1008 (policy) for too many connections from an address or a reader too slow to keep
up, 1013 (try again later) when subscriptions are off, 1003 for a binary frame, 1011
for a failure of ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from marketcache.api.observe import ABORT, STREAM_ENDING
from marketcache.api.openapi import ERRORS, error_responses, query_parameters
from marketcache.api.runtime import Runtime, runtime
from marketcache.cache.requester import acting_for
from marketcache.endpoints import MARKET_ENDPOINTS, MarketEndpoint
from marketcache.errors import MarketCacheError, SubscriptionsOff
from marketcache.params import parse_query
from marketcache.subscriptions import events, frames
from marketcache.subscriptions.hub import Hub
from marketcache.subscriptions.outbox import Outbox
from marketcache.subscriptions.session import Session
from marketcache.subscriptions.topics import Topics

router = APIRouter(tags=["subscriptions"])
log = logging.getLogger("marketcache.subscriptions")

STREAM_PREFIX = "/subscribe/"
CLOSE_TIMEOUT_S = 1.0  # a close frame that cannot be written in this long: the socket is dropped
POLICY, TRY_LATER, UNSUPPORTED, INTERNAL = 1008, 1013, 1003, 1011
TOO_SLOW = "too slow: fell more than SUBSCRIBE_MAX_BACKLOG updates behind"


def _served(rt: Runtime) -> tuple[Hub, Topics]:
    if rt.hub is None or rt.topics is None:
        raise SubscriptionsOff()
    return rt.hub, rt.topics


# -- WebSocket -------------------------------------------------------------------------


@router.websocket("/ws")
async def subscribe_ws(websocket: WebSocket) -> None:
    """Subscribe and unsubscribe by message; answers, events and errors as JSON frames."""
    rt: Runtime = websocket.app.state.runtime
    host = websocket.client.host if websocket.client else ""
    await websocket.accept()
    try:
        hub, topics = _served(rt)
        outbox = hub.connect(host)
    except MarketCacheError as exc:
        await websocket.send_text(frames.error(None, exc).decode())
        code = TRY_LATER if isinstance(exc, SubscriptionsOff) else POLICY
        await websocket.close(code, exc.message[:120])
        return
    session = Session(hub, topics, outbox)
    cut = asyncio.ensure_future(outbox.cut.wait())
    sender = asyncio.ensure_future(_send_ws(websocket, outbox))
    reader = asyncio.ensure_future(_read_ws(websocket, session, host))
    try:
        done, _ = await asyncio.wait({cut, sender, reader}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        await _cancel(cut, sender, reader)
        session.close()
        hub.disconnect(host, outbox)
    failed = next((t.exception() for t in (reader, sender) if t in done and t.exception()), None)
    refused = reader.result() if reader in done and reader.exception() is None else None
    if failed is not None and not isinstance(failed, (OSError, WebSocketDisconnect)):
        log.error("subscription connection failed", exc_info=failed)  # a bug: say so, and
        await _close_ws(websocket, INTERNAL, "internal error")  # close as one (1011)
    elif refused is not None:
        await _close_ws(websocket, UNSUPPORTED, refused)
    elif cut in done:
        await _close_ws(websocket, POLICY, TOO_SLOW)


async def _read_ws(websocket: WebSocket, session: Session, host: str) -> str | None:
    """Act on messages until the client goes; the close reason if it must be closed."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return None
        text = message.get("text")
        if text is None:
            return "binary frames are not understood; send JSON text"
        with acting_for(host):  # the client's cold loads count against its budget
            await session.handle(text)


async def _send_ws(websocket: WebSocket, outbox: Outbox) -> None:
    while True:
        for frame in await outbox.take():
            await websocket.send({"type": "websocket.send", "text": frame.decode()})


async def _close_ws(websocket: WebSocket, code: int, reason: str) -> None:
    """Close with `code`; a reader that reads nothing cannot take the frame: drop it."""
    try:
        await asyncio.wait_for(websocket.close(code, reason), CLOSE_TIMEOUT_S)
    except (TimeoutError, RuntimeError, OSError):
        _abort(websocket.scope)


def _abort(scope: Scope) -> None:
    """Drop the connection at once, if the server put the means in the scope."""
    abort: Callable[[], None] | None = (scope.get("extensions") or {}).get(ABORT)
    if abort is not None:
        abort()


async def _cancel(*tasks: asyncio.Future[Any]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


# -- Server-Sent Events ----------------------------------------------------------------


class EventStream(Response):
    """`text/event-stream` of one session's frames until the client goes or falls behind."""

    media_type = "text/event-stream"

    def __init__(self, hub: Hub, session: Session, host: str, heartbeat_s: float) -> None:
        super().__init__(status_code=200)
        self.hub = hub
        self.session = session
        self.host = host
        self.heartbeat_s = heartbeat_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        outbox = self.session.outbox
        headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-store"),
            (b"x-accel-buffering", b"no"),  # nginx: pass events on as they come
        ]
        ending = asyncio.Event()  # the server shutting down sets it (commands/protocol.py)
        extensions = scope.get("extensions")
        if extensions is not None:
            extensions[STREAM_ENDING] = ending
        cut = asyncio.ensure_future(outbox.cut.wait())
        sender = asyncio.ensure_future(self._send(send, headers))
        gone = asyncio.ensure_future(_disconnected(receive))
        end = asyncio.ensure_future(ending.wait())
        tasks = {cut, sender, gone, end}
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            await _cancel(*tasks)
            self.session.close()
            self.hub.disconnect(self.host, outbox)
        if cut in done:
            _abort(scope)  # its buffers are full: nothing more can be written to it
        elif end in done and sender not in done:
            with contextlib.suppress(OSError, RuntimeError):
                await asyncio.wait_for(
                    send({"type": "http.response.body", "body": b"", "more_body": False}),
                    CLOSE_TIMEOUT_S,
                )

    async def _send(self, send: Send, headers: list[tuple[bytes, bytes]]) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        outbox = self.session.outbox
        while True:
            try:
                batch = await asyncio.wait_for(outbox.take(), self.heartbeat_s)
            except TimeoutError:
                batch = []
            body = b"".join(map(sse_event, batch)) if batch else b": keep-alive\n\n"
            await send({"type": "http.response.body", "body": body, "more_body": True})


ANSWER_HEAD = b'{"type":"answer"'


def sse_event(frame: bytes) -> bytes:
    """One frame as an SSE event: its `type` (an event's own name) and the JSON as data."""
    if frame.startswith(ANSWER_HEAD):
        name = "answer"
    else:
        parsed = orjson.loads(frame)
        name = parsed.get("event") or parsed["type"]
    return b"event: " + name.encode() + b"\ndata: " + frame + b"\n\n"


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


STREAM_DESCRIPTION = (
    "A Server-Sent Events stream of one subscription, its parameters those of the GET "
    "route: `event: subscribed`, then `event: answer` with the current answer at once "
    "(the HTTP body, with `type` and `id` in front), then one `answer` event per changed "
    f"answer, events for bots ({', '.join(events.NAMES)}), and `error` events carrying "
    "the HTTP error body. A reader that falls more than SUBSCRIBE_MAX_BACKLOG updates "
    "behind is cut off; `: keep-alive` comments keep an idle stream open."
)
STREAM_ERRORS = {
    **error_responses(400, 404, 422, 503),
    429: {
        "model": error_responses(429)[429]["model"],
        "description": f"{ERRORS[429]}, or SUBSCRIBE_MAX_CONNECTIONS_PER_CLIENT reached",
    },
}


def stream_handler(endpoint: MarketEndpoint) -> Callable[[Request], Awaitable[Response]]:
    """`GET /subscribe/<endpoint>`: bad parameters are the GET route's errors, before any event."""

    async def handle(request: Request) -> Response:
        rt = runtime(request)
        hub, topics = _served(rt)
        params = parse_query(endpoint.params, request.query_params.multi_items())
        host = request.client.host if request.client else ""
        session = Session(hub, topics, hub.connect(host))
        try:
            await session.subscribe(endpoint.name, params.model_dump())
        except BaseException:
            session.close()
            hub.disconnect(host, session.outbox)
            raise
        return EventStream(hub, session, host, rt.settings.subscribe_heartbeat_s)

    handle.__name__ = f"subscribe_{endpoint.name}"
    return handle


for _endpoint in MARKET_ENDPOINTS:
    router.add_api_route(
        STREAM_PREFIX + _endpoint.name,
        stream_handler(_endpoint),
        methods=["GET"],
        summary=f"subscribe: {_endpoint.summary} (Server-Sent Events)",
        description=STREAM_DESCRIPTION,
        openapi_extra=query_parameters(_endpoint.params),
        responses={
            200: {
                "description": "the event stream",
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            },
            **STREAM_ERRORS,
        },
        response_class=Response,
    )
