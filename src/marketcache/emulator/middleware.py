"""What wraps every answer: weight accounting, limits, injected faults and headers."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler

from marketcache.emulator.faults import FaultRule, Faults
from marketcache.emulator.params import BinanceError
from marketcache.emulator.routes import json_response
from marketcache.emulator.weights import WeightMeter, request_weight

CONTROL_PREFIX = "/_emulator/"
STREAM_PREFIXES = ("/ws", "/stream")
HANG_LIMIT_SECONDS = 600.0


@dataclass
class EmulatorState:
    """The mutable parts of a running emulator that the control endpoints act on."""

    meter: WeightMeter
    faults: Faults


STATE_KEY = web.AppKey("emulator_state", EmulatorState)


def _too_much_weight(limit: int) -> dict[str, object]:
    return {
        "code": -1003,
        "msg": f"Too much request weight used; current limit is {limit} request weight per "
        "1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.",
    }


async def _hang(request: web.Request) -> web.Response:
    """Answer nothing until the client hangs up (or a long time has passed)."""
    deadline = time.monotonic() + HANG_LIMIT_SECONDS
    while time.monotonic() < deadline:
        transport = request.transport
        if transport is None or transport.is_closing():
            break
        await asyncio.sleep(0.05)
    # the client is gone (or waited very long): whatever we send now is not read
    return web.Response(status=504, text="hang fault ended")


async def _inject(
    rule: FaultRule, state: EmulatorState, request: web.Request, handler: Handler
) -> web.StreamResponse:
    kind = rule.fault
    if kind == "429":
        response = json_response(_too_much_weight(state.meter.limit), status=429)
        response.headers["Retry-After"] = str(rule.retry_after)
        return response
    if kind == "418":
        until = int(time.time() * 1000) + rule.retry_after * 1000
        body = {
            "code": -1003,
            "msg": f"Way too much request weight used; IP banned until {until}. "
            "Please use WebSocket Streams for live updates to avoid bans.",
        }
        response = json_response(body, status=418)
        response.headers["Retry-After"] = str(rule.retry_after)
        return response
    if kind in {"500", "503"}:
        # what Binance's gateway sends: an HTML page, not a JSON error
        reason = "Internal Server Error" if kind == "500" else "Service Unavailable"
        page = f"<html><body><h1>{kind} {reason}</h1></body></html>"
        return web.Response(text=page, status=int(kind), content_type="text/html")
    if kind == "hang":
        return await _hang(request)
    # "malformed": a 200 whose JSON body is cut short
    full = await _answer(request, handler)
    raw = full.body if isinstance(full, web.Response) and isinstance(full.body, bytes) else b"{}"
    return web.Response(
        body=raw[: max(1, len(raw) // 2)], status=200, content_type="application/json"
    )


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The handler's answer, with Binance errors turned into Binance bodies."""
    try:
        return await handler(request)
    except BinanceError as error:
        return json_response(error.body(), status=error.status)
    except web.HTTPNotFound:
        return json_response({"code": -1000, "msg": f"Unknown path {request.path}."}, status=404)
    except web.HTTPMethodNotAllowed:
        return json_response({"code": -1000, "msg": "Method not allowed."}, status=405)


@web.middleware
async def emulator_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count, limit, delay and break requests as configured; mark every answer."""
    if request.path.startswith(STREAM_PREFIXES):
        return await handler(request)  # websockets: stream faults act inside (`ws`)
    if request.path.startswith(CONTROL_PREFIX):
        response = await _answer(request, handler)
        response.headers["X-Emulator"] = "marketcache"
        return response
    state = request.app[STATE_KEY]
    state.meter.charge(request.path, request_weight(request.path, request.query))
    delay = state.faults.delay_seconds()
    if delay > 0:
        await asyncio.sleep(delay)
    rule = state.faults.pick(request.path)
    if rule is not None:
        response = await _inject(rule, state, request, handler)
    elif state.meter.over_limit():
        response = json_response(_too_much_weight(state.meter.limit), status=429)
        response.headers["Retry-After"] = str(state.meter.seconds_to_next_minute())
    else:
        response = await _answer(request, handler)
    used = str(state.meter.used_this_minute())
    response.headers["X-Emulator"] = "marketcache"
    response.headers["x-mbx-used-weight"] = used
    response.headers["x-mbx-used-weight-1m"] = used
    return response
