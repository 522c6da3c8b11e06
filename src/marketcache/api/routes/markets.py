"""`GET /markets`: the markets the exchange lists, cached like the rest."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from marketcache.api.openapi import error_responses, query_parameters
from marketcache.api.routes.market import respond
from marketcache.api.runtime import runtime
from marketcache.api.schemas import MarketResponse, MarketsQuery
from marketcache.params import parse_query

router = APIRouter(tags=["market"])


@router.get(
    "/markets",
    summary="the markets the exchange lists",
    description="Symbol, base, quote, active, precision and limits of every spot market, "
    "cached like the rest (fresh for MARKETS_FRESH_S); `?quote=USDT` keeps one quote asset.",
    openapi_extra=query_parameters(MarketsQuery),
    responses={200: {"model": MarketResponse}, **error_responses(422, 429, 503)},
)
async def markets(request: Request) -> Response:
    """`?quote=USDT`."""
    query = parse_query(MarketsQuery, request.query_params.multi_items())
    quote = query.quote.upper() if query.quote else None
    return respond(request, await runtime(request).market.markets(quote))
