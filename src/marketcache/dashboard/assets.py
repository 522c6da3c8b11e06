"""The dashboard's files, shipped inside the package and read once at import.

uPlot (MIT, see `static/vendor/uPlot.LICENSE`) is built by npm at build time
(`npm ci && npm run build` copies it here); nothing is fetched at run time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

STATIC = resources.files("marketcache.dashboard") / "static"
JS = "text/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"
HTML = "text/html; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Asset:
    """A file's bytes, its media type and an ETag of its content."""

    body: bytes
    media_type: str
    etag: str


def _load(*parts: str, media_type: str) -> Asset:
    body = STATIC.joinpath(*parts).read_bytes()
    return Asset(body, media_type, '"' + hashlib.sha256(body).hexdigest()[:16] + '"')


PAGE = _load("dashboard.html", media_type=HTML)
ASSETS: dict[str, Asset] = {
    "dashboard.js": _load("dashboard.js", media_type=JS),
    "charts.js": _load("charts.js", media_type=JS),
    "admin.js": _load("admin.js", media_type=JS),
    "dashboard.css": _load("dashboard.css", media_type=CSS),
    "uPlot.iife.min.js": _load("vendor", "uPlot.iife.min.js", media_type=JS),
    "uPlot.min.css": _load("vendor", "uPlot.min.css", media_type=CSS),
}
