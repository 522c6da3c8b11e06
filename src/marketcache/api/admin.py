"""Who may call the admin endpoints (`/cache/warm`, `/cache/clear`, `/cache/invalidate`).

With ADMIN_TOKEN set: `Authorization: Bearer <token>`, compared in constant time
(401 without it, 403 with a wrong one). Without ADMIN_TOKEN: clients on loopback
only, and the 403 for others says so.
"""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import Request

from marketcache.api.runtime import runtime
from marketcache.errors import Forbidden, Unauthorized


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def require_admin(request: Request) -> None:
    """A FastAPI dependency that lets only administrators through."""
    token = runtime(request).settings.admin_token
    if token:
        header = request.headers.get("authorization", "")
        scheme, _, presented = header.partition(" ")
        if scheme.lower() != "bearer" or not presented:
            raise Unauthorized("this endpoint needs 'Authorization: Bearer <ADMIN_TOKEN>'")
        if not hmac.compare_digest(presented.strip().encode(), token.encode()):
            raise Forbidden("the admin token is wrong")
        return
    client = request.client.host if request.client else None
    if not _is_loopback(client):
        raise Forbidden(
            "admin endpoints answer only clients on loopback while ADMIN_TOKEN is not set; "
            "set ADMIN_TOKEN and send 'Authorization: Bearer <token>'"
        )
