"""Binance's websocket market streams: `/ws/<stream>` (raw messages), `/stream?streams=a/b`
(combined: `{"stream", "data"}`), live SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS.

One task reads the emulator's clock every `tick_s` of real time; at each tick every
connection sends what changed on the tape since its last message (trades as they happen;
state streams at their cadence of emulated time; the current state of a state stream as
soon as it is subscribed). The server pings every `ping_interval_s`; a connection is closed after
`max_lifetime_s` (Binance: 24 h); stream faults drop, stall or delay connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from marketcache.emulator import streams
from marketcache.emulator.faults import STREAM_FAULTS, Faults
from marketcache.emulator.feed import Feed, Tick
from marketcache.emulator.market import Market
from marketcache.emulator.routes import MARKET_KEY


@dataclass(frozen=True)
class StreamOptions:
    """Timing of the websocket side."""

    tick_s: float = 0.05
    ping_interval_s: float = 20.0
    max_lifetime_s: float = 24 * 3600.0


@dataclass
class StreamState:
    """The streams' settings and counters (`/_emulator/stats` shows them)."""

    options: StreamOptions
    faults: Faults
    messages: int = 0
    opened: int = 0
    live: set[Feed] = field(default_factory=set)
    tick: Tick = field(default_factory=lambda: Tick(0))
    ticked: asyncio.Event = field(default_factory=asyncio.Event)
    ticker: asyncio.Task[None] | None = None

    def stats(self) -> dict[str, object]:
        """Open connections, their subscriptions by stream, connections opened, messages sent."""
        by_stream: Counter[str] = Counter(name for c in self.live for name in c.subs)
        return {
            "connections": len(self.live),
            "subscriptions": dict(sorted(by_stream.items())),
            "opened": self.opened,
            "messages": self.messages,
        }


WS_KEY = web.AppKey("stream_state", StreamState)


def _reply(request_id: Any, result: Any = None, error: str | None = None) -> bytes:
    if error is not None:
        return orjson.dumps({"error": {"code": 2, "msg": error}, "id": request_id})
    return orjson.dumps({"result": result, "id": request_id})


def _control(conn: Feed, text: str, now: int) -> bytes:
    """Answer one client message (SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, ...)."""
    try:
        body = orjson.loads(text)
    except orjson.JSONDecodeError:
        return orjson.dumps({"error": {"code": 3, "msg": "Invalid JSON"}, "id": None})
    if not isinstance(body, dict) or "method" not in body:
        return _reply(None, error="Invalid request: missing field `method`")
    method, params, request_id = body.get("method"), body.get("params", []), body.get("id")
    if method == "LIST_SUBSCRIPTIONS":
        return _reply(request_id, list(conn.subs))
    if method in {"SET_PROPERTY", "GET_PROPERTY"}:
        return _reply(request_id, None if method == "SET_PROPERTY" else conn.combined)
    if method not in {"SUBSCRIBE", "UNSUBSCRIBE"}:
        return _reply(request_id, error=f"Invalid request: unknown variant `{method}`")
    if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
        return _reply(request_id, error="Invalid request: params must be a list of streams")
    if method == "UNSUBSCRIBE":
        for name in params:
            conn.subs.pop(name, None)
        return _reply(request_id)
    bad = [name for name in params if streams.parse(name, conn.market) is None]
    if bad:
        return _reply(request_id, error=f"Invalid request: unknown stream {bad[0]!r}")
    for name in params:
        conn.subscribe(name, now)
    return _reply(request_id)


async def _pump(ws: web.WebSocketResponse, conn: Feed, state: StreamState, path: str) -> None:
    """Send what is due, tick after tick, until the connection's lifetime is over."""
    deadline = time.monotonic() + state.options.max_lifetime_s
    stalled_until = 0.0
    while not ws.closed:
        await state.ticked.wait()
        if time.monotonic() >= deadline:  # asked after the wait: nothing goes out past it
            break
        tick = state.tick
        rule = state.faults.pick(path, kinds=STREAM_FAULTS)
        if rule is not None and rule.fault == "drop":
            await ws.close(code=1006, message=b"dropped by a fault")
            return
        if rule is not None and rule.fault == "stall":
            stalled_until = time.monotonic() + rule.retry_after
        if time.monotonic() >= stalled_until:
            if rule is not None and rule.fault == "delay":
                await asyncio.sleep(rule.retry_after)
            for text in conn.due(tick):
                await ws.send_str(text)
                state.messages += 1
    with contextlib.suppress(Exception):
        await ws.close(code=1000, message=b"connection lifetime reached")


async def handle(request: web.Request) -> web.WebSocketResponse:
    """GET /ws[/<streams>] and /stream?streams=...: one websocket connection."""
    state = request.app[WS_KEY]
    market = request.app[MARKET_KEY]
    combined = request.path.startswith("/stream")
    ws = web.WebSocketResponse(
        heartbeat=state.options.ping_interval_s, max_msg_size=2**20, compress=False
    )
    await ws.prepare(request)
    _start_ticking(request.app)
    conn = Feed(market, combined)
    now = market.clock.now_ms()
    names = request.query.get("streams", "") if combined else request.match_info.get("tail", "")
    for name in filter(None, names.split("/")):
        conn.subscribe(name, now)  # unknown names in the path are ignored, as on Binance
    state.live.add(conn)
    state.opened += 1
    pump = asyncio.create_task(_pump(ws, conn, state, request.path))
    try:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await ws.send_str(_control(conn, msg.data, market.clock.now_ms()).decode())
    finally:
        state.live.discard(conn)
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pump
    return ws


async def _ticks(state: StreamState, market: Market) -> None:
    """Read the clock once per tick for every connection, and wake them."""
    while True:
        state.tick = Tick(market.clock.now_ms())
        woken, state.ticked = state.ticked, asyncio.Event()
        woken.set()
        await asyncio.sleep(state.options.tick_s)


def _start_ticking(app: web.Application) -> None:
    state = app[WS_KEY]
    if state.ticker is None:
        state.ticker = asyncio.create_task(_ticks(state, app[MARKET_KEY]))


async def _stop_ticking(app: web.Application) -> None:
    task = app[WS_KEY].ticker
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def add_stream_routes(app: web.Application, options: StreamOptions, faults: Faults) -> None:
    """Register the websocket endpoints on `app`."""
    app[WS_KEY] = StreamState(options, faults)
    app.on_cleanup.append(_stop_ticking)
    app.router.add_get("/ws", handle)
    app.router.add_get("/ws/{tail:.*}", handle)
    app.router.add_get("/stream", handle)
