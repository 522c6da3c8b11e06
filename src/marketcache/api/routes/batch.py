"""`/prices`: the prices of several markets in one request (`batch.py`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from marketcache import batch
from marketcache.api import responses
from marketcache.api.openapi import MARKET_ERRORS, error_responses, request_body
from marketcache.api.runtime import runtime
from marketcache.api.schemas import OkResponse, PricesRequest
from marketcache.errors import BodyValidationError
from marketcache.params import parse_body, parse_values

router = APIRouter(tags=["market"])

RESPONSES = {200: {"model": OkResponse}, **error_responses(*MARKET_ERRORS)}
SUMMARY = "the prices of several markets, each from its own cache entry"
DESCRIPTION = (
    "Each symbol is answered as /price answers it (the same cache entry); the cold ones "
    "are fetched upstream in one bulk request; a symbol that fails is an error in its "
    "place and the others are answered."
)


async def _answer(request: Request, symbols: list[str]) -> Response:
    rt = runtime(request)
    limit = rt.settings.batch_max_symbols
    if len(symbols) > limit:
        raise BodyValidationError(
            f"symbols: at most {limit} in one request (BATCH_MAX_SYMBOLS), got {len(symbols)}",
            ["symbols"],
        )
    items = await batch.prices(rt.market, symbols)
    status = batch.cache_status(items)
    request.state.cache_status = status
    content = batch.body(items, rt.clock.now(), rt.source.source_name, rt.market.exchange)
    return responses.json_bytes(content, headers={"X-Cache": status})


@router.post(
    "/prices",
    summary=SUMMARY,
    description=DESCRIPTION,
    openapi_extra=request_body(PricesRequest),
    responses=RESPONSES,
)
async def prices(request: Request) -> Response:
    """`{"symbols": ["BTC/USDT", "ETH/USDT"]}`."""
    body = parse_body(PricesRequest, await request.body())
    return await _answer(request, body.symbols)


@router.get(
    "/prices",
    summary=f"{SUMMARY} (query string)",
    description=f"{DESCRIPTION} `?symbols=BTC/USDT,ETH/USDT` (or `symbols` repeated).",
    openapi_extra={
        "parameters": [
            {
                "name": "symbols",
                "in": "query",
                "required": True,
                "schema": {"type": "string", "minLength": 1},
                "description": "comma-separated markets",
            }
        ]
    },
    responses=RESPONSES,
)
async def prices_get(request: Request) -> Response:
    """`?symbols=BTC/USDT,ETH/USDT`."""
    names = [
        part
        for value in request.query_params.getlist("symbols")
        for part in value.split(",")
        if part.strip()
    ]
    unknown = sorted(set(request.query_params) - {"symbols"})
    if unknown:
        raise BodyValidationError(f"{unknown[0]}: unknown parameter; it takes symbols", unknown)
    if not names:
        raise BodyValidationError("symbols: give at least one symbol", ["symbols"])
    return await _answer(request, parse_values(PricesRequest, {"symbols": names}).symbols)
