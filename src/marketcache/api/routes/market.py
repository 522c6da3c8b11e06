"""The market endpoints, one route each, made from their declarations in `endpoints.py`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from starlette.responses import Response

from marketcache.answer import Answer
from marketcache.api import responses
from marketcache.api.openapi import MARKET_ERRORS, error_responses, request_body
from marketcache.api.runtime import runtime
from marketcache.api.schemas import MarketResponse
from marketcache.endpoints import MARKET_ENDPOINTS, MarketEndpoint
from marketcache.params import parse_body

router = APIRouter(tags=["market"])

Handler = Callable[[Request], Awaitable[Response]]


def respond(request: Request, answer: Answer) -> Response:
    """The answer as the response, its cache status noted for the request log."""
    request.state.cache_status = answer.cache
    request.state.symbol = answer.symbol
    now = runtime(request).clock.now()
    return responses.json_bytes(answer.body(now), headers={"X-Cache": answer.cache})


def handler(endpoint: MarketEndpoint) -> Handler:
    """Validate the body as the endpoint's parameters and call its operation."""

    async def handle(request: Request) -> Response:
        params = parse_body(endpoint.params, await request.body())
        operation: Callable[..., Awaitable[Answer]] = getattr(
            runtime(request).market, endpoint.name
        )
        return respond(request, await operation(**params.model_dump()))

    handle.__name__ = endpoint.name
    handle.__doc__ = endpoint.description
    return handle


for _endpoint in MARKET_ENDPOINTS:
    router.add_api_route(
        _endpoint.path,
        handler(_endpoint),
        methods=["POST"],
        summary=_endpoint.summary,
        description=_endpoint.description,
        openapi_extra=request_body(_endpoint.params),
        responses={200: {"model": MarketResponse}, **error_responses(*MARKET_ERRORS)},
    )
