"""The market endpoints, made from their declarations in `endpoints.py`.

Each is served as `POST` with a JSON body and as `GET` with the same parameters
in the query string: the same validation, the same answer, the same cache entry.
GET answers carry HTTP caching headers (`api/http_cache.py`) and honour
`If-None-Match`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from starlette.responses import Response

from marketcache.answer import Answer
from marketcache.api import http_cache, responses
from marketcache.api.openapi import (
    MARKET_ERRORS,
    error_responses,
    query_parameters,
    request_body,
)
from marketcache.api.runtime import runtime
from marketcache.api.schemas import MarketResponse
from marketcache.endpoints import MARKET_ENDPOINTS, MarketEndpoint
from marketcache.params import Params, parse_body, parse_query

router = APIRouter(tags=["market"])

Handler = Callable[[Request], Awaitable[Response]]


def respond(request: Request, answer: Answer) -> Response:
    """The answer as the response, its cache status noted for the request log."""
    request.state.cache_status = answer.cache
    request.state.symbol = answer.symbol
    rt = runtime(request)
    now = rt.clock.now()
    headers: dict[str, str] = {"X-Cache": answer.cache}
    if request.method == "GET":
        headers.update(http_cache.headers(answer, now, rt.settings.cache_stale_grace))
        if http_cache.matches(request.headers.get("if-none-match"), headers["ETag"]):
            return Response(status_code=304, headers=headers)
    return responses.json_bytes(answer.body(now), headers=headers)


async def answer(request: Request, endpoint: MarketEndpoint, params: Params) -> Response:
    """Call the endpoint's operation with the validated parameters."""
    operation: Callable[..., Awaitable[Answer]] = getattr(runtime(request).market, endpoint.name)
    return respond(request, await operation(**params.model_dump()))


def post_handler(endpoint: MarketEndpoint) -> Handler:
    """The body's parameters."""

    async def handle(request: Request) -> Response:
        return await answer(request, endpoint, parse_body(endpoint.params, await request.body()))

    handle.__name__ = endpoint.name
    return handle


def get_handler(endpoint: MarketEndpoint) -> Handler:
    """The query string's parameters."""

    async def handle(request: Request) -> Response:
        params = parse_query(endpoint.params, request.query_params.multi_items())
        return await answer(request, endpoint, params)

    handle.__name__ = f"{endpoint.name}_get"
    return handle


for _endpoint in MARKET_ENDPOINTS:
    _responses = {200: {"model": MarketResponse}, **error_responses(*MARKET_ERRORS)}
    router.add_api_route(
        _endpoint.path,
        post_handler(_endpoint),
        methods=["POST"],
        summary=_endpoint.summary,
        description=_endpoint.description,
        openapi_extra=request_body(_endpoint.params),
        responses=_responses,
    )
    router.add_api_route(
        _endpoint.path,
        get_handler(_endpoint),
        methods=["GET"],
        summary=f"{_endpoint.summary} (query string)",
        description=f"{_endpoint.description} The parameters of the POST body, as a query "
        "string; the same answer and cache entry, with Cache-Control, Age and ETag.",
        openapi_extra=query_parameters(_endpoint.params),
        responses={**_responses, 304: {"description": "If-None-Match matched the ETag"}},
    )
