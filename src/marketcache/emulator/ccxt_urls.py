"""Point an unmodified ccxt (or ccxt.pro) binance client at a running emulator."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


def ws_url(base_url: str) -> str:
    """The emulator's raw-stream websocket base (`ws://host:port/ws`) from its HTTP URL."""
    parts = urlsplit(base_url)
    return f"ws://{parts.netloc}/ws"


def repoint(exchange: Any, base_url: str) -> Any:
    """Aim every REST URL of `exchange` at `base_url` (keeping each path) and its spot
    websocket streams at the emulator's `/ws`; returns the exchange."""
    api = exchange.urls["api"]
    for key, value in list(api.items()):
        if isinstance(value, str) and value.startswith("http"):
            api[key] = base_url.rstrip("/") + urlsplit(value).path
    streams = api.get("ws")
    if isinstance(streams, dict):
        for key in ("spot", "margin"):
            if key in streams:
                streams[key] = ws_url(base_url)
    return exchange
