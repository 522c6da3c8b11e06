"""Binance's websocket market streams: `/ws/<stream>` (raw messages), `/stream?streams=a/b`
(combined: `{"stream", "data"}`), live SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS.

Each connection polls the emulator's clock every `tick_s` of real time and sends what
changed on the tape since its last message (trades as they happen; state streams at
their cadence of emulated time; the current state of a state stream as soon as it is
subscribed). The server pings every `ping_interval_s`; a connection is closed after
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
from marketcache.emulator.intervals import align
from marketcache.emulator.market import Market
from marketcache.emulator.routes import MARKET_KEY
from marketcache.emulator.streams import Stream


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
    live: set[_Connection] = field(default_factory=set)

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


@dataclass
class _Sub:
    stream: Stream
    sent_at: int  # emulated time of the last message (trades: last time covered)
    candle: int | None = None  # kline: open time of the candle last sent
    fresh: bool = True


@dataclass(eq=False)
class _Connection:
    market: Market
    combined: bool
    subs: dict[str, _Sub] = field(default_factory=dict)

    def subscribe(self, name: str, now: int) -> bool:
        stream = streams.parse(name, self.market)
        if stream is None:
            return False
        self.subs.setdefault(name, _Sub(stream, now))
        return True

    def due(self, now: int) -> list[tuple[str, dict[str, Any]]]:
        """Every message due at `now`, in order."""
        out: list[tuple[str, dict[str, Any]]] = []
        for name, sub in list(self.subs.items()):
            out.extend((name, m) for m in self._messages(sub, now))
        return out

    def _messages(self, sub: _Sub, now: int) -> list[dict[str, Any]]:
        s, market = sub.stream, self.market
        if s.kind in {"trade", "aggTrade"}:
            if now <= sub.sent_at:
                return []
            messages = streams.trade_messages(market, s, sub.sent_at, now)
            sub.sent_at = now
            return messages
        if s.kind == "diff":
            if now // s.cadence_ms == sub.sent_at // s.cadence_ms or now <= sub.sent_at:
                return []
            message = streams.diff_depth_message(market, s, sub.sent_at, now)
            sub.sent_at = now
            return [message]
        changed = now != sub.sent_at and (
            s.cadence_ms == 0 or now // s.cadence_ms != sub.sent_at // s.cadence_ms
        )
        if not (sub.fresh or changed):
            return []
        sub.fresh = False
        sub.sent_at = now
        if s.kind == "kline":
            assert s.interval is not None
            live = align(s.interval, now)
            out = []
            if sub.candle is not None and sub.candle != live:
                out.append(streams.kline_message(market, s, sub.candle, now))  # its final state
            sub.candle = live
            out.append(streams.kline_message(market, s, live, now))
            return out
        if s.kind in {"ticker", "miniTicker"}:
            return [streams.ticker_message(market, s, now)]
        if s.kind == "bookTicker":
            return [streams.book_ticker_message(market, s, now)]
        return [streams.partial_depth_message(market, s, now)]


def _reply(request_id: Any, result: Any = None, error: str | None = None) -> bytes:
    if error is not None:
        return orjson.dumps({"error": {"code": 2, "msg": error}, "id": request_id})
    return orjson.dumps({"result": result, "id": request_id})


def _control(conn: _Connection, text: str, now: int) -> bytes:
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


async def _pump(
    ws: web.WebSocketResponse, conn: _Connection, state: StreamState, path: str
) -> None:
    """Send what is due, tick after tick, until the connection's lifetime is over."""
    clock = conn.market.clock
    deadline = time.monotonic() + state.options.max_lifetime_s
    stalled_until = 0.0
    while not ws.closed and time.monotonic() < deadline:
        rule = state.faults.pick(path, kinds=STREAM_FAULTS)
        if rule is not None and rule.fault == "drop":
            await ws.close(code=1006, message=b"dropped by a fault")
            return
        if rule is not None and rule.fault == "stall":
            stalled_until = time.monotonic() + rule.retry_after
        if time.monotonic() >= stalled_until:
            if rule is not None and rule.fault == "delay":
                await asyncio.sleep(rule.retry_after)
            for name, message in conn.due(clock.now_ms()):
                payload = {"stream": name, "data": message} if conn.combined else message
                await ws.send_str(orjson.dumps(payload).decode())
                state.messages += 1
        await asyncio.sleep(state.options.tick_s)
    with contextlib.suppress(Exception):
        await ws.close(code=1000, message=b"connection lifetime reached")


async def handle(request: web.Request) -> web.WebSocketResponse:
    """GET /ws[/<streams>] and /stream?streams=...: one websocket connection."""
    state = request.app[WS_KEY]
    market = request.app[MARKET_KEY]
    combined = request.path.startswith("/stream")
    ws = web.WebSocketResponse(heartbeat=state.options.ping_interval_s, max_msg_size=2**20)
    await ws.prepare(request)
    conn = _Connection(market, combined)
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


def add_stream_routes(app: web.Application, options: StreamOptions, faults: Faults) -> None:
    """Register the websocket endpoints on `app`."""
    app[WS_KEY] = StreamState(options, faults)
    app.router.add_get("/ws", handle)
    app.router.add_get("/ws/{tail:.*}", handle)
    app.router.add_get("/stream", handle)
