#!/usr/bin/env python3
"""Container healthcheck: exit 0 when GET URL answers 200, else 1 (standard library only).

`marketcache-healthcheck [URL]`; the default URL is the service's own /health on
127.0.0.1:$PORT. /health answers 200 for "healthy" and "degraded" (the exchange is down but
the cache serves) and 503 for "unhealthy" (it cannot serve at all), so only a service that
can serve passes. The emulator is checked with its ping URL.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main(argv: list[str]) -> int:
    """Ask the URL once and report."""
    port = os.environ.get("PORT", "8001")
    url = argv[1] if len(argv) > 1 else f"http://127.0.0.1:{port}/health"
    try:
        with urllib.request.urlopen(url, timeout=4) as reply:
            status = reply.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError as error:
        print(f"{url}: {error}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"{url}: HTTP {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
