"""How long a request's bytes waited in the kernel before the server read them.

Under load a request waits in its socket's receive buffer (or, on a new connection,
in the listen queue) until the event loop comes round to it: at 1,000 connections
that is most of what a client waits, and nothing the server times once it has read
the bytes can see it. The kernel can: `TCP_INFO`'s `tcpi_last_data_recv` is the time
since the connection last received data, counted in the kernel's ticks (jiffies: 4 ms
at HZ=250, 1 ms at HZ=1000) and reported in milliseconds. One tick less than that is
a time the newest bytes surely waited, so `waited_s` is a lower bound, never more
than the truth; it misses at most a tick. The tick is measured once, on loopback, by
`measure_tick_s` (`marketcache serve` does, at start).

A read that can only have waited less than a tick (the connection's last answer went
out less than a tick ago) need not ask: its bound would be 0. So under a load the
loop keeps up with, no request pays the system call (about 1 µs); past it, each does.

The socket a loop's transport gives (uvloop's stand-in) builds a `socket.socket` for
every `getsockopt`, which cost five times the call itself; a connection therefore
asks through a `Borrowed` socket made once (`borrow`), which never closes the
descriptor: the transport owns it.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable
from typing import Any

# struct tcp_info (linux/tcp.h): 8 bytes of u8 fields, then u32 rto, ato, snd_mss,
# rcv_mss, unacked, sacked, lost, retrans, fackets, last_data_sent, last_ack_sent,
# last_data_recv: the last is at byte 52.
_LAST_DATA_RECV = struct.Struct("=I")
_OFFSET = 52
_SIZE = _OFFSET + _LAST_DATA_RECV.size
_TCP_INFO: int | None = getattr(socket, "TCP_INFO", None)  # Linux only


STEPS = 12  # steps of the kernel's count watched (~50 ms at HZ=250); the smallest is a tick


def measure_tick_s(most_s: float = 0.5) -> float | None:
    """The kernel's tick as `tcpi_last_data_recv` counts it, or None where it cannot be read.

    The count since one byte arrived is watched for `STEPS` steps and the smallest step is
    the tick: a watcher descheduled past a step sees two ticks as one step (a loaded host
    once measured 8 ms at HZ=250), but not every time.
    """
    if _TCP_INFO is None:
        return None
    try:
        with (
            socket.create_server(("127.0.0.1", 0)) as server,
            socket.create_connection(server.getsockname()[:2]) as client,
        ):
            accepted, _ = server.accept()
            with accepted:
                client.sendall(b".")
                return smallest_step(lambda: last_data_ms(accepted), most_s)
    except OSError:
        return None


def smallest_step(read_ms: Callable[[], int], most_s: float) -> float | None:
    """The smallest step (s) of a growing millisecond count over `STEPS` steps (or `most_s`)."""
    deadline = time.perf_counter() + most_s
    last, smallest, steps = read_ms(), None, 0
    while steps < STEPS and time.perf_counter() < deadline:
        now = read_ms()
        if now > last:
            step, steps = now - last, steps + 1
            smallest = step if smallest is None else min(smallest, step)
        last = now  # (lower: the byte arrived after the first read; count from there)
    return smallest / 1000 if smallest is not None else None


class Borrowed(socket.socket):
    """A socket object over a descriptor someone else owns: it never closes it."""

    def close(self) -> None:
        """Let go of the descriptor (the owner closes it)."""
        if self.fileno() != -1:
            self.detach()

    def __del__(self) -> None:
        # instead of the socket's own finalizer, which would close the descriptor
        self.close()


def borrow(sock: Any) -> Borrowed | None:
    """A `Borrowed` socket over `sock`'s descriptor (a loop's stand-in), None if it has none."""
    try:
        return Borrowed(sock.family, sock.type, sock.proto, sock.fileno())
    except (OSError, AttributeError, ValueError):
        return None


def last_data_ms(sock: Any) -> int:
    """Milliseconds since `sock` (a TCP socket, or a loop's stand-in for one) last got data."""
    assert _TCP_INFO is not None
    info = sock.getsockopt(socket.IPPROTO_TCP, _TCP_INFO, _SIZE)
    since: int = _LAST_DATA_RECV.unpack_from(info, _OFFSET)[0]
    return since


def waited_s(sock: Any, tick_s: float) -> float:
    """Seconds the newest bytes on `sock` surely waited unread (0 when it cannot say)."""
    try:
        since_s = last_data_ms(sock) / 1000
    except (OSError, AttributeError):  # not TCP (a Unix socket), or closed meanwhile
        return 0.0
    return max(0.0, since_s - tick_s)
