"""Every error becomes `{"success": false, "error": {...}}` with the right status."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from marketcache.api import responses
from marketcache.errors import MarketCacheError

log = logging.getLogger("marketcache.api")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


async def _ours(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, MarketCacheError)
    return responses.error_from(exc)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    if exc.status_code == 404:
        message = f"no such endpoint: {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    response = responses.error(exc.status_code, code, message)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    if exc.status_code == 405:
        response.headers["Allow"] = ", ".join(allowed_methods(request))
    return response


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves on the request's path (a path may have several)."""
    path = request.url.path
    return sorted(
        method
        for route in app_routes(request.app.router.routes)
        if route.path_regex.match(path)
        for method in (getattr(route, "methods", None) or ())
    )


def app_routes(routes: Iterable[Any]) -> Iterator[Any]:
    """The app's routes, included routers unfolded (no prefixes are used on inclusion)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from app_routes(included.routes)
        elif hasattr(route, "path_regex"):
            yield route


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    fields = [".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()]
    message = "; ".join(f"{f}: {e.get('msg')}" for f, e in zip(fields, exc.errors(), strict=True))
    return responses.error(422, "validation_error", message, fields=fields)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return responses.error(500, "internal_error", "internal error; it has been logged")


def install(app: FastAPI) -> None:
    """Register the handlers on `app`."""
    app.add_exception_handler(MarketCacheError, _ours)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(Exception, _unexpected)
