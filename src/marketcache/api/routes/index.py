"""`GET /`: what this service is and what it answers, with links to the docs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from marketcache import __version__
from marketcache.api import responses
from marketcache.api.errors import app_routes
from marketcache.api.runtime import runtime

router = APIRouter(tags=["health"])


@router.get("/", summary="the service, its mode and its endpoints")
async def index(request: Request) -> Response:
    """Name, version, mode, exchange, and every endpoint with its summary."""
    rt = runtime(request)
    endpoints: list[dict[str, Any]] = []
    for route in app_routes(request.app.router.routes):
        if not getattr(route, "include_in_schema", False):
            continue
        for method in sorted(route.methods or ()):
            endpoints.append(
                {"method": method, "path": route.path, "summary": getattr(route, "summary", "")}
            )
    return responses.plain(
        {
            "service": "market-data" if rt.cache is None else "cached-market-data",
            "version": __version__,
            "mode": "uncached" if rt.cache is None else "cached",
            "exchange": {"id": rt.source.exchange_id, "source": rt.source.source_name},
            "docs": {"swagger": "/docs", "redoc": "/redoc", "openapi": "/openapi.json"},
            "dashboard": "/dashboard",
            "subscriptions": {  # None when off: SUBSCRIPTIONS=false, or no cache
                "websocket": "/ws",
                "events": "/subscribe/{endpoint}",
            }
            if rt.hub is not None
            else None,
            "endpoints": sorted(endpoints, key=lambda e: (e["path"], e["method"])),
        }
    )
