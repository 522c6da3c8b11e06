"""Re-pointing an exchange's REST URLs at another host (the emulator, a proxy).

ccxt deep-merges constructor config into its own `urls`, so overriding one entry
leaves the others aimed at the real exchange. `rewrite_urls` walks the whole tree
instead and moves every http(s) URL to the new scheme and host, keeping its path.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from marketcache.errors import InvalidParameter


def check_base_url(base_url: str) -> str:
    """`base_url` without a trailing slash; raises `InvalidParameter` if it is not http(s)."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidParameter("exchange_url", f"not an http(s) URL: {base_url!r}")
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def rewrite_url(url: str, base_url: str) -> str:
    """`url` with the scheme and host of `base_url`; a path of `base_url` is prefixed."""
    if not url.startswith(("http://", "https://")):
        return url
    target = urlsplit(check_base_url(base_url))
    parts = urlsplit(url)
    return urlunsplit(
        (target.scheme, target.netloc, target.path + parts.path, parts.query, parts.fragment)
    )


def rewrite_urls(tree: Any, base_url: str) -> Any:
    """A copy of `tree` (nested dicts/lists of strings) with every http(s) URL rewritten."""
    if isinstance(tree, str):
        return rewrite_url(tree, base_url)
    if isinstance(tree, dict):
        return {key: rewrite_urls(value, base_url) for key, value in tree.items()}
    if isinstance(tree, list | tuple):
        return type(tree)(rewrite_urls(value, base_url) for value in tree)
    return tree


def rewrite_ws_urls(tree: Any, base_url: str) -> Any:
    """A copy of `tree` with every ws(s) URL moved to `base_url`'s host (http → ws,
    https → wss), keeping its path: an exchange's streams re-pointed with its REST API."""
    if isinstance(tree, str):
        if not tree.startswith(("ws://", "wss://")):
            return tree
        target = urlsplit(check_base_url(base_url))
        scheme = "wss" if target.scheme == "https" else "ws"
        parts = urlsplit(tree)
        return urlunsplit((scheme, target.netloc, target.path + parts.path, parts.query, ""))
    if isinstance(tree, dict):
        return {key: rewrite_ws_urls(value, base_url) for key, value in tree.items()}
    if isinstance(tree, list | tuple):
        return type(tree)(rewrite_ws_urls(value, base_url) for value in tree)
    return tree
