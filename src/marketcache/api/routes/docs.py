"""`/docs` (Swagger UI) and `/redoc`, from assets shipped in a package: no CDN at run time.

The assets are those of `fastapi-offline` (Swagger UI and ReDoc bundles), served
from its installed package directory under `/docs/assets/`.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

ASSETS = "/docs/assets"

router = APIRouter(include_in_schema=False)


def assets_directory() -> Path:
    """Where the Swagger UI and ReDoc bundles are installed."""
    return Path(str(resources.files("fastapi_offline") / "static"))


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    """Swagger UI over `/openapi.json`."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="marketcache — API",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon.png",
    )


@router.get("/redoc")
async def redoc() -> HTMLResponse:
    """ReDoc over `/openapi.json`, without web fonts."""
    return get_redoc_html(
        openapi_url="/openapi.json",
        title="marketcache — API",
        redoc_js_url=f"{ASSETS}/redoc.standalone.js",
        redoc_favicon_url=f"{ASSETS}/favicon.png",
        with_google_fonts=False,
    )


def install(app: FastAPI) -> None:
    """The two pages and their assets."""
    app.include_router(router)
    app.mount(ASSETS, StaticFiles(directory=assets_directory()), name="docs-assets")
