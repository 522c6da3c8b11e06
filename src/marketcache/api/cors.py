"""CORS for browser dashboards: the origins of `CORS_ORIGINS` only (none by default).

Starlette's middleware, with a refused preflight answered in our error envelope
(`cors_refused`, naming what was refused) instead of plain text.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp

from marketcache.api import responses

METHODS = ("GET", "HEAD", "POST", "OPTIONS")
HEADERS = ("Content-Type", "Authorization", "If-None-Match")
EXPOSED = ("X-Cache", "ETag", "Age", "Cache-Control", "Retry-After")


class Cors(CORSMiddleware):
    """CORS for `origins` (`*` for any), with our error body on a refused preflight."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        super().__init__(
            app,
            allow_origins=origins,
            allow_methods=METHODS,
            allow_headers=HEADERS,
            expose_headers=EXPOSED,
            max_age=600,
        )

    def preflight_response(self, request_headers: Headers) -> Response:
        """Starlette's answer; when it refuses, the reason in our envelope."""
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        reason = bytes(response.body).decode(errors="replace").strip() or "CORS preflight refused"
        refused = responses.error(
            response.status_code, "cors_refused", f"{reason}; see CORS_ORIGINS"
        )
        refused.headers["Vary"] = "Origin"
        return refused
