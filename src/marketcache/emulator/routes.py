"""The Binance spot REST endpoints (`/api/v3/...`) the emulator answers."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web

from marketcache.emulator import params, quotes, tape
from marketcache.emulator.intervals import INTERVAL_MS
from marketcache.emulator.market import Market
from marketcache.emulator.params import BinanceError

MARKET_KEY = web.AppKey("market", Market)
WEIGHT_LIMIT_KEY = web.AppKey("weight_limit", int)
HOUR = 3_600_000
_SYMBOL = re.compile(r"^[A-Z0-9\-_.]{1,20}$")


def json_response(body: Any, status: int = 200) -> web.Response:
    """A JSON answer, serialized with orjson."""
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


def _market(request: web.Request) -> Market:
    return request.app[MARKET_KEY]


def _query(request: web.Request) -> dict[str, str]:
    params.reject_duplicates(list(request.query.keys()))
    return dict(request.query)


def _symbol(market: Market, query: dict[str, str]) -> str:
    symbol = params.mandatory(query, "symbol")
    if not _SYMBOL.match(symbol):
        raise BinanceError(
            -1100,
            "Illegal characters found in parameter 'symbol'; legal range is '^[A-Z0-9-_.]{1,20}$'.",
        )
    if symbol not in market.symbols:
        raise params.invalid_symbol()
    return symbol


async def ping(request: web.Request) -> web.Response:
    """GET /api/v3/ping."""
    return json_response({})


async def server_time(request: web.Request) -> web.Response:
    """GET /api/v3/time."""
    return json_response({"serverTime": _market(request).clock.now_ms()})


async def exchange_info(request: web.Request) -> web.Response:
    """GET /api/v3/exchangeInfo: the recorded file, serverTime set to the emulator's now."""
    market = _market(request)
    query = _query(request)
    info = market.exchange_info
    if "symbol" in query or "symbols" in query:
        wanted = (
            [_symbol(market, query)] if "symbol" in query else params.symbol_list(query["symbols"])
        )
        if any(s not in market.symbols for s in wanted):
            raise params.invalid_symbol()
        info = copy.copy(info)
        info["symbols"] = [s for s in info["symbols"] if s["symbol"] in wanted]
    else:
        info = copy.copy(info)
    info["rateLimits"] = [
        {**limit, "limit": request.app[WEIGHT_LIMIT_KEY]}
        if limit["rateLimitType"] == "REQUEST_WEIGHT"
        else limit
        for limit in info["rateLimits"]
    ]
    info["serverTime"] = market.clock.now_ms()
    return json_response(info)


async def klines(request: web.Request) -> web.Response:
    """GET /api/v3/klines (and uiKlines)."""
    market = _market(request)
    query = _query(request)
    symbol = _symbol(market, query)
    interval = params.mandatory(query, "interval")
    if interval not in INTERVAL_MS:
        raise BinanceError(-1120, "Invalid interval.")
    start = params.optional_int(query, "startTime")
    end = params.optional_int(query, "endTime")
    limit = params.limit(query, 500, 1000)
    if start is not None and end is not None and start > end:
        raise BinanceError(-1023, "Start time is greater than end time.")
    return json_response(market.klines(symbol, interval, start, end, limit))


async def agg_trades(request: web.Request) -> web.Response:
    """GET /api/v3/aggTrades."""
    market = _market(request)
    query = _query(request)
    symbol = _symbol(market, query)
    limit = params.limit(query, 500, 1000)
    from_id = params.optional_int(query, "fromId")
    start = params.optional_int(query, "startTime")
    end = params.optional_int(query, "endTime")
    if from_id is not None:
        if start is not None or end is not None:
            raise BinanceError(-1128, "Combination of optional parameters invalid.")
        return json_response(tape.from_id(market, symbol, from_id, limit))
    if start is None and end is None:
        return json_response(tape.recent(market, symbol, limit))
    start = end - HOUR if start is None and end is not None else start
    end = start + HOUR if end is None and start is not None else end
    assert start is not None
    assert end is not None
    if start > end:
        raise BinanceError(-1023, "Start time is greater than end time.")
    if end - start > HOUR:
        raise BinanceError(-1127, "More than 1 hours between startTime and endTime.")
    return json_response(tape.window(market, symbol, start, end, limit))


async def trades(request: web.Request) -> web.Response:
    """GET /api/v3/trades: recent trades (one per aggregate trade)."""
    market = _market(request)
    query = _query(request)
    symbol = _symbol(market, query)
    rows = tape.recent(market, symbol, params.limit(query, 500, 1000))
    return json_response(
        [
            {
                "id": r["l"],
                "price": r["p"],
                "qty": r["q"],
                "quoteQty": f"{float(r['p']) * float(r['q']):.8f}",
                "time": r["T"],
                "isBuyerMaker": r["m"],
                "isBestMatch": True,
            }
            for r in rows
        ]
    )


async def depth(request: web.Request) -> web.Response:
    """GET /api/v3/depth."""
    market = _market(request)
    query = _query(request)
    symbol = _symbol(market, query)
    return json_response(quotes.depth(market, symbol, params.limit(query, 100, 5000)))


def _symbols_asked(market: Market, query: dict[str, str]) -> list[str] | None:
    """One symbol, a JSON list of symbols, or None for all; -1121 for unknown ones."""
    if "symbol" in query and "symbols" in query:
        raise BinanceError(-1128, "Combination of optional parameters invalid.")
    if "symbol" in query:
        return [_symbol(market, query)]
    if "symbols" in query:
        wanted = params.symbol_list(query["symbols"])
        if any(s not in market.symbols for s in wanted):
            raise params.invalid_symbol()
        return wanted
    return None


def _per_symbol(request: web.Request, answer: Callable[[Market, str], Any]) -> web.Response:
    """One object for `symbol`, a list for `symbols` or for every symbol."""
    market = _market(request)
    query = _query(request)
    asked = _symbols_asked(market, query)
    if "symbol" in query and asked:
        return json_response(answer(market, asked[0]))
    names = asked if asked is not None else list(market.symbols)
    return json_response([answer(market, s) for s in names])


async def ticker_24hr(request: web.Request) -> web.Response:
    """GET /api/v3/ticker/24hr."""
    return _per_symbol(request, quotes.ticker_24hr)


async def ticker_price(request: web.Request) -> web.Response:
    """GET /api/v3/ticker/price."""
    return _per_symbol(
        request, lambda market, s: {"symbol": s, "price": quotes.last_price(market, s)}
    )


async def avg_price(request: web.Request) -> web.Response:
    """GET /api/v3/avgPrice: the mean of the last five 1m closes."""
    market = _market(request)
    symbol = _symbol(market, _query(request))
    rows = market.klines(symbol, "1m", None, None, 5)
    mean = sum(float(r[4]) for r in rows) / len(rows)
    return json_response({"mins": 5, "price": f"{mean:.8f}", "closeTime": rows[-1][6]})


async def book_ticker(request: web.Request) -> web.Response:
    """GET /api/v3/ticker/bookTicker."""
    return _per_symbol(request, quotes.book_ticker)


async def system_status(request: web.Request) -> web.Response:
    """GET /sapi/v1/system/status: always normal (faults break it like any endpoint)."""
    return json_response({"status": 0, "msg": "normal"})


def add_market_routes(app: web.Application) -> None:
    """Register every `/api/v3` endpoint on `app`."""
    get = app.router.add_get
    get("/api/v3/ping", ping)
    get("/api/v3/time", server_time)
    get("/api/v3/exchangeInfo", exchange_info)
    get("/api/v3/klines", klines)
    get("/api/v3/uiKlines", klines)
    get("/api/v3/aggTrades", agg_trades)
    get("/api/v3/trades", trades)
    get("/api/v3/depth", depth)
    get("/api/v3/ticker/24hr", ticker_24hr)
    get("/api/v3/ticker/price", ticker_price)
    get("/api/v3/avgPrice", avg_price)
    get("/api/v3/ticker/bookTicker", book_ticker)
    get("/sapi/v1/system/status", system_status)
