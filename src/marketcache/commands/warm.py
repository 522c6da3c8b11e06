"""`marketcache warm`: ask a running service to warm its cache (`POST /cache/warm`)."""

from __future__ import annotations

import argparse
import os
import sys

import httpx

from marketcache.check.client import no_service_message
from marketcache.config import SERVICE_URL


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `marketcache warm`."""
    parser.add_argument("--url", default=SERVICE_URL, help="the service (default %(default)s)")
    parser.add_argument(
        "--symbols",
        default="BTC/USDT,ETH/USDT,SOL/USDT",
        help="comma-separated symbols (default %(default)s)",
    )
    parser.add_argument("--timeframes", default="15m", help="comma-separated (default %(default)s)")
    parser.add_argument(
        "--admin-token",
        default=os.environ.get("ADMIN_TOKEN"),
        help="sent as 'Authorization: Bearer ...' (default: $ADMIN_TOKEN)",
    )
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds (default %(default)s)"
    )


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def run(args: argparse.Namespace) -> int:
    """0 when every symbol warmed, 1 when some did not, 2 when the service refused or failed."""
    headers = {"Authorization": f"Bearer {args.admin_token}"} if args.admin_token else {}
    body = {"symbols": _split(args.symbols), "timeframes": _split(args.timeframes)}
    try:
        response = httpx.post(
            f"{args.url.rstrip('/')}/cache/warm", json=body, headers=headers, timeout=args.timeout
        )
    except httpx.ConnectError:
        print(no_service_message(args.url), file=sys.stderr)
        return 2
    except httpx.HTTPError as exc:
        print(f"marketcache warm: cannot reach {args.url}: {exc}", file=sys.stderr)
        return 2
    document = (
        response.json()
        if response.headers.get("content-type", "").startswith("application/json")
        else {}
    )
    if response.status_code != 200 or not document.get("success"):
        error = document.get("error", {})
        message = error.get("message", response.text[:200])
        print(f"marketcache warm: HTTP {response.status_code}: {message}", file=sys.stderr)
        return 2
    data = document["data"]
    for symbol, result in data["results"].items():
        if result["status"] == "warmed":
            print(f"{symbol:<14} warmed")
        else:
            print(f"{symbol:<14} {result['error']['code']}: {result['error']['message']}")
    print(
        f"entries {data['entries_before']} -> {data['entries_after']} "
        f"(+{data['entries_added']}) in {data['duration_ms']:.0f} ms"
    )
    return 0 if data["failed"] == 0 else 1
