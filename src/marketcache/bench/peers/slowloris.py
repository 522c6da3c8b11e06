"""The slowloris probe: many connections that never finish their headers or their body.

Each contender gets `headers` connections that stop inside the request headers and `body`
connections that send whole headers but only part of the declared body; the probe holds
them up to `hold_s` seconds and records, per connection, when the server answered or
closed it. Halfway through, one ordinary request checks the contender still serves.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from marketcache.bench.peers.contenders import Contender
from marketcache.bench.stats import percentile

KINDS = ("partial_headers", "partial_body")


@dataclass(frozen=True)
class Outcome:
    """What became of one slow connection: `open`, `closed`, `answered` or `refused`."""

    kind: str
    state: str
    after_s: float


def _requests(contender: Contender) -> dict[str, bytes]:
    shape = contender.shape("/price")
    host = urlsplit(contender.url).netloc
    head = f"{shape.method} {shape.path} HTTP/1.1\r\nHost: {host}\r\n".encode()
    whole = head + b"Connection: close\r\n"
    if shape.body is not None:
        whole += b"Content-Type: application/json\r\n"
        whole += b"Content-Length: %d\r\n\r\n%b" % (len(shape.body), shape.body)
    else:
        whole += b"\r\n"
    return {
        "whole": whole,
        "partial_headers": head + b"Content-Type: application/json\r\nX-Slow: ",
        "partial_body": head
        + b"Content-Type: application/json\r\nContent-Length: 64\r\n\r\n"
        + b'{"symbol": "BTC',
    }


async def _hold(host: str, port: int, kind: str, payload: bytes, hold_s: float) -> Outcome:
    started = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 10.0)
    except (OSError, TimeoutError):
        return Outcome(kind, "refused", time.monotonic() - started)
    try:
        writer.write(payload)
        await writer.drain()
        sent = time.monotonic()
        try:
            data = await asyncio.wait_for(reader.read(4096), hold_s)
        except TimeoutError:
            return Outcome(kind, "open", hold_s)
        except OSError:
            return Outcome(kind, "closed", time.monotonic() - sent)
        return Outcome(kind, "answered" if data else "closed", time.monotonic() - sent)
    except OSError:
        return Outcome(kind, "closed", time.monotonic() - started)
    finally:
        writer.close()


async def _meanwhile(
    host: str, port: int, request: bytes, delay_s: float, timeout_s: float = 10.0
) -> dict[str, Any]:
    """One ordinary request, on a new connection, halfway through: is the contender serving?"""
    await asyncio.sleep(delay_s)
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeout_s):
            reader, writer = await asyncio.open_connection(host, port)
            try:
                writer.write(request)
                await writer.drain()
                status_line = await reader.readline()
                await reader.read()  # `Connection: close`: the whole answer, then EOF
            finally:
                writer.close()
    except (OSError, TimeoutError) as exc:
        return {"ok": False, "error": type(exc).__name__, "after_ms": _ms(started)}
    parts = status_line.split()
    ok = len(parts) >= 2 and parts[1].startswith(b"2")
    return {
        "ok": ok,
        "status": status_line.decode(errors="replace").strip(),
        "latency_ms": _ms(started),
    }


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 2)


def summarize(outcomes: Sequence[Outcome], hold_s: float) -> dict[str, Any]:
    """Per kind: how many were opened, cut by the server, still open at the end, and when."""
    out: dict[str, Any] = {}
    for kind in KINDS:
        mine = [o for o in outcomes if o.kind == kind]
        cut = sorted(o.after_s for o in mine if o.state in ("closed", "answered"))
        out[kind] = {
            "connections": len(mine),
            "refused": sum(1 for o in mine if o.state == "refused"),
            "closed_by_server": sum(1 for o in mine if o.state == "closed"),
            "answered": sum(1 for o in mine if o.state == "answered"),
            "still_open_at_end": sum(1 for o in mine if o.state == "open"),
            "cut_after_s": {
                "min": round(cut[0], 2) if cut else None,
                "p50": round(percentile(cut, 50), 2) if cut else None,
                "max": round(cut[-1], 2) if cut else None,
            },
            "held_s": hold_s,
        }
    return out


async def _probe_one(
    contender: Contender, headers: int, body: int, hold_s: float
) -> dict[str, Any]:
    parts = urlsplit(contender.url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    payloads = _requests(contender)
    tasks = [
        _hold(host, port, kind, payloads[kind], hold_s)
        for kind, count in (("partial_headers", headers), ("partial_body", body))
        for _ in range(count)
    ]
    meanwhile = asyncio.create_task(_meanwhile(host, port, payloads["whole"], hold_s / 2))
    outcomes = await asyncio.gather(*tasks)
    return {**summarize(outcomes, hold_s), "request_meanwhile": await meanwhile}


async def probe(
    contenders: Sequence[Contender], *, headers: int, body: int, hold_s: float
) -> dict[str, dict[str, Any]]:
    """Every contender probed at once (the slow connections cost no CPU); results by name."""
    results = await asyncio.gather(*(_probe_one(c, headers, body, hold_s) for c in contenders))
    return {c.name: r for c, r in zip(contenders, results, strict=True)}
