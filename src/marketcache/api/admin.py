"""Who may call the admin endpoints.

With ADMIN_TOKEN set, every admin endpoint (`/cache/warm`, `/cache/clear`,
`/cache/invalidate`) needs `Authorization: Bearer <token>`, compared in constant
time (401 without it, 403 with a wrong one), from everyone.

Without a token, the destructive ones (`/cache/clear`, `/cache/invalidate`) answer
only a request that is plainly the operator's own, on this machine:
- a direct loopback peer (the TCP peer; proxy headers are trusted only from the
  addresses in TRUSTED_PROXIES, and even then such a request is not "direct");
- no proxy headers at all (`Forwarded`, `X-Forwarded-*`, `X-Real-IP`, `Via`), and
  not HTTP/1.0 (how nginx's plain `proxy_pass` forwards; curl and every client
  library speak 1.1): a same-host proxy (a migration split) makes every client
  look local. A proxy that speaks 1.1 and sends none of these cannot be told from
  a local client: behind any proxy, set ADMIN_TOKEN;
- a loopback `Host` (a DNS-rebinding page names its own host) and no foreign
  `Origin` (a page of another site in the operator's browser);
- `Content-Type: application/json`, which a cross-site form or `fetch` cannot
  send without a CORS preflight (refused unless CORS_ORIGINS allows it).
`/cache/warm` stays open without a token (the checklist calls it so), bounded
like any client's requests by the per-client cold-load budget.
"""

from __future__ import annotations

import hmac
import ipaddress
from urllib.parse import urlsplit

from fastapi import Request

from marketcache.api.runtime import runtime
from marketcache.errors import Forbidden, Unauthorized

PROXY_HEADERS = frozenset(("forwarded", "x-real-ip", "via"))
SET_TOKEN = "set ADMIN_TOKEN and send 'Authorization: Bearer <token>'"


def is_loopback(host: str | None) -> bool:
    """Whether `host` (an address or a name) is this machine's loopback."""
    if not host:
        return False
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.lower() in ("localhost", "localhost.")


def _check_token(request: Request, token: str) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or not presented:
        raise Unauthorized("this endpoint needs 'Authorization: Bearer <ADMIN_TOKEN>'")
    if not hmac.compare_digest(presented.strip().encode(), token.encode()):
        raise Forbidden("the admin token is wrong")


def require_admin(request: Request) -> None:
    """A FastAPI dependency: the token when there is one, else the operator's own request."""
    token = runtime(request).settings.admin_token
    if token:
        _check_token(request, token)
        return
    peer = request.client.host if request.client else None
    if not is_loopback(peer):
        raise Forbidden(
            f"admin endpoints answer only clients on loopback while ADMIN_TOKEN is not set; "
            f"{SET_TOKEN}"
        )
    names = {name.lower() for name in request.headers}
    proxied = names & PROXY_HEADERS or any(name.startswith("x-forwarded-") for name in names)
    if proxied or request.scope.get("http_version") == "1.0":
        raise Forbidden(f"this request came through a proxy; {SET_TOKEN}")
    host = urlsplit(f"//{request.headers.get('host', '')}").hostname
    if not is_loopback(host):
        raise Forbidden(f"without ADMIN_TOKEN the Host must be localhost; {SET_TOKEN}")
    origin = request.headers.get("origin")
    if origin is not None and not is_loopback(urlsplit(origin).hostname):
        raise Forbidden(f"cross-site request refused; {SET_TOKEN}")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise Forbidden("send 'Content-Type: application/json' (cross-site requests cannot)")


def require_token(request: Request) -> None:
    """A FastAPI dependency: the token when there is one; open otherwise (`/cache/warm`)."""
    token = runtime(request).settings.admin_token
    if token:
        _check_token(request, token)
