"""The `/_emulator/*` control endpoints that tests and benchmarks script against."""

from __future__ import annotations

import json

from aiohttp import web

from marketcache.emulator.faults import FaultSpecError
from marketcache.emulator.middleware import STATE_KEY
from marketcache.emulator.routes import MARKET_KEY, json_response
from marketcache.emulator.ws import WS_KEY


def _error(message: str) -> web.Response:
    return json_response({"error": message}, status=400)


async def _json_body(request: web.Request) -> object:
    text = await request.text()
    try:
        return json.loads(text) if text.strip() else None
    except ValueError as exc:
        raise FaultSpecError(f"the body is not valid JSON: {exc}") from exc


async def info(request: web.Request) -> web.Response:
    """GET /_emulator/info."""
    market = request.app[MARKET_KEY]
    return json_response(
        {
            "emulator": "marketcache",
            "symbols": len(market.symbols),
            "now": market.clock.now_ms(),
            "frozen": market.clock.frozen,
            "ws_url": f"ws://{request.host}/ws",
        }
    )


async def stats(request: web.Request) -> web.Response:
    """GET /_emulator/stats: requests and weight per path since the last reset."""
    streams = request.app[WS_KEY]
    return json_response(
        {
            **request.app[STATE_KEY].meter.stats(),
            "streams": streams.stats(),
        }
    )


async def reset(request: web.Request) -> web.Response:
    """POST /_emulator/reset: zero the counters and remove latency and faults."""
    state = request.app[STATE_KEY]
    state.meter.reset()
    state.faults.clear()
    return json_response({"ok": True})


async def get_faults(request: web.Request) -> web.Response:
    """GET /_emulator/faults: the active latency and rules."""
    return json_response(request.app[STATE_KEY].faults.describe())


async def set_faults(request: web.Request) -> web.Response:
    """POST /_emulator/faults: add latency settings and/or a fault rule."""
    faults = request.app[STATE_KEY].faults
    try:
        faults.configure(await _json_body(request))
    except FaultSpecError as exc:
        return _error(str(exc))
    return json_response({"ok": True, **faults.describe()})


async def clear_faults(request: web.Request) -> web.Response:
    """DELETE /_emulator/faults: remove latency and every rule."""
    request.app[STATE_KEY].faults.clear()
    return json_response({"ok": True})


async def clock(request: web.Request) -> web.Response:
    """POST /_emulator/clock {"advance_ms": N} or {"set_ms": T}; GET returns the time."""
    market = request.app[MARKET_KEY]
    if request.method == "POST":
        try:
            body = await _json_body(request)
        except FaultSpecError as exc:
            return _error(str(exc))
        if (
            not isinstance(body, dict)
            or len(body) != 1
            or not set(body) <= {"advance_ms", "set_ms"}
        ):
            return _error('send exactly one of {"advance_ms": N} or {"set_ms": T}')
        ((key, value),) = body.items()
        if isinstance(value, bool) or not isinstance(value, int):
            return _error(f"{key!r} must be an integer number of milliseconds")
        if key == "advance_ms":
            if value < 0:
                return _error("'advance_ms' must not be negative")
            market.clock.advance(value)
        else:
            market.clock.set(value)
    return json_response({"now": market.clock.now_ms(), "frozen": market.clock.frozen})


def add_control_routes(app: web.Application) -> None:
    """Register every `/_emulator` endpoint on `app`."""
    app.router.add_get("/_emulator/info", info)
    app.router.add_get("/_emulator/stats", stats)
    app.router.add_post("/_emulator/reset", reset)
    app.router.add_get("/_emulator/faults", get_faults)
    app.router.add_post("/_emulator/faults", set_faults)
    app.router.add_delete("/_emulator/faults", clear_faults)
    app.router.add_get("/_emulator/clock", clock)
    app.router.add_post("/_emulator/clock", clock)
