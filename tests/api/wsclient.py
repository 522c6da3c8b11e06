"""Test clients of `/ws`: a WebSocket that never reads, and a crowd subscribed to one answer."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect


def masked_text_frame(text: str) -> bytes:
    """One client-to-server text frame (clients must mask)."""
    payload = text.encode()
    mask = os.urandom(4)
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x81, 0x80 | size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", 0x81, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", 0x81, 0x80 | 127, size)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def stalled_subscriber(host: str, port: int, messages: list[dict[str, Any]]) -> socket.socket:
    """A WebSocket that subscribes and then never reads (a small receive buffer)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect((host, port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)  # one byte at a time: nothing past the handshake is read
    assert head.startswith(b"HTTP/1.1 101"), head
    for message in messages:
        sock.sendall(masked_text_frame(json.dumps(message)))
    return sock


@dataclass
class Subscriber:
    """One WebSocket subscribed to one answer, noting each answer and when it came."""

    client: ClientConnection
    received: list[tuple[str, float]] = field(default_factory=list)  # (fetched_at, wall time)

    async def read(self) -> None:
        while True:
            frame = json.loads(await self.client.recv())
            if frame["type"] == "answer":
                self.received.append((frame["meta"]["fetched_at"], time.time()))

    def seen(self) -> set[str]:
        return {fetched for fetched, _ in self.received}


async def crowd(
    url: str, count: int, message: dict[str, Any], *, batch: int = 50, **options: Any
) -> list[Subscriber]:
    """`count` WebSockets, each subscribed to `message`'s answer and past its first answer."""

    async def one() -> Subscriber:
        client = await connect(url, open_timeout=30, **options)
        await client.send(json.dumps(message))
        subscriber = Subscriber(client)
        while True:
            frame = json.loads(await client.recv())
            if frame["type"] == "answer":
                subscriber.received.append((frame["meta"]["fetched_at"], time.time()))
                return subscriber

    made: list[Subscriber] = []
    for start in range(0, count, batch):
        made += await asyncio.gather(*(one() for _ in range(min(batch, count - start))))
    return made
