"""The kernel's bound on how long bytes waited unread: never above the truth, a tick below."""

from __future__ import annotations

import gc
import socket
import sys
import time
from collections.abc import Iterator

import pytest

from marketcache.commands.kernel_wait import borrow, measure_tick_s, smallest_step, waited_s

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="TCP_INFO is Linux's")


@pytest.fixture(scope="module")
def tick_s() -> float:
    tick = measure_tick_s()
    assert tick is not None, "TCP_INFO unreadable on Linux"
    return tick


def test_the_tick_is_one_of_the_kernels(tick_s: float) -> None:
    assert round(tick_s * 1000) in {1, 2, 3, 4, 10}  # HZ 1000, 500, 300, 250, 100


def test_a_step_missed_by_a_descheduled_watcher_is_not_the_tick() -> None:
    # the first reading came two ticks late (0 -> 8), the next ones on time
    readings = iter([0, 0, 8, 8, *range(12, 400, 4)])
    assert smallest_step(lambda: next(readings), most_s=10.0) == 0.004


def test_the_count_restarting_when_the_byte_lands_is_no_step() -> None:
    readings = iter([40, *range(0, 400, 4)])  # read once before the byte arrived
    assert smallest_step(lambda: next(readings), most_s=10.0) == 0.004


def test_a_count_that_never_moves_has_no_tick() -> None:
    assert smallest_step(lambda: 0, most_s=0.01) is None


@pytest.fixture
def connected() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A loopback TCP connection: the client's end and the accepted one."""
    with (
        socket.create_server(("127.0.0.1", 0)) as server,
        socket.create_connection(server.getsockname()[:2]) as client,
    ):
        accepted, _ = server.accept()
        with accepted:
            yield client, accepted


def test_bytes_held_unread_are_bounded_from_below(
    tick_s: float, connected: tuple[socket.socket, socket.socket]
) -> None:
    client, accepted = connected
    sent = time.perf_counter()
    client.sendall(b"GET / HTTP/1.1\r\n\r\n")
    time.sleep(0.1)  # the bytes wait unread this long
    before = time.perf_counter()
    bound = waited_s(accepted, tick_s)
    after = time.perf_counter()
    assert bound <= after - sent  # never more than they waited
    assert bound >= before - sent - 2 * tick_s  # at most a tick (and a tick's rounding) less


def test_a_socket_that_is_not_tcp_says_nothing(tick_s: float) -> None:
    left, right = socket.socketpair()
    with left, right:
        left.sendall(b"x")
        assert waited_s(right, tick_s) == 0.0


def test_a_borrowed_socket_never_closes_the_descriptor(
    tick_s: float, connected: tuple[socket.socket, socket.socket]
) -> None:
    client, accepted = connected
    borrowed = borrow(accepted)
    assert borrowed is not None
    client.sendall(b"x")
    assert waited_s(borrowed, tick_s) >= 0.0
    del borrowed  # its finalizer lets go without closing
    gc.collect()
    again = borrow(accepted)
    assert again is not None
    again.close()
    assert again.fileno() == -1
    assert accepted.recv(1) == b"x"  # still open, and ours


def test_what_has_no_descriptor_is_not_borrowed() -> None:
    assert borrow(object()) is None
