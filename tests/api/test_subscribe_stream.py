"""The event stream's own paths, in process: a reader whose buffers are full is dropped."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from marketcache.api.observe import ABORT, STREAM_ENDING
from marketcache.api.routes.subscribe import EventStream, sse_event
from marketcache.clock import ManualClock, settle
from marketcache.subscriptions.hub import Hub
from marketcache.subscriptions.limits import Limits
from marketcache.subscriptions.session import Session
from tests.api.conftest import Harness
from tests.subscriptions.fakes import Answers, topic
from tests.subscriptions.test_session import FakeTopics

INTERVAL = 0.5


async def stream(backlog: int = 2) -> tuple[ManualClock, Answers, Hub, EventStream]:
    clock = ManualClock()
    answers = Answers(clock)
    hub = Hub(answers.read, clock, interval_s=INTERVAL, limits=Limits(backlog=backlog))
    session = Session(hub, FakeTopics(answers), hub.connect("10.0.0.9"))
    await session.subscribe("price", {"symbol": "a"})
    await settle()
    return clock, answers, hub, EventStream(hub, session, "10.0.0.9", heartbeat_s=3600)


async def test_a_reader_that_takes_nothing_is_cut_off_and_aborted() -> None:
    clock, answers, hub, response = await stream()
    aborted: list[bool] = []
    sent: list[dict[str, Any]] = []
    full = asyncio.Event()  # never set: the peer's buffers are full

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body":
            await full.wait()

    async def receive() -> dict[str, Any]:
        await asyncio.Event().wait()
        return {}

    scope = {"type": "http", "extensions": {ABORT: lambda: aborted.append(True)}}
    running = asyncio.ensure_future(response(scope, receive, send))
    await settle()
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    key = topic(symbol="A").key
    for n in range(4):  # the first answer blocks in send; one waits, then 3 superseded > 2
        answers.data[key] = {"n": n}
        await clock.advance(INTERVAL)
    await asyncio.wait_for(running, 1)
    assert aborted == [True]
    figures = hub.stats()
    assert (figures.slow_disconnects, figures.connections, figures.keys) == (1, 0, 0)
    await hub.stop()


async def test_a_shutdown_ends_the_stream_with_its_last_chunk() -> None:
    _, _, hub, response = await stream()
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        await asyncio.Event().wait()
        return {}

    extensions: dict[str, Any] = {}
    running = asyncio.ensure_future(
        response({"type": "http", "extensions": extensions}, receive, send)
    )
    await settle()
    extensions[STREAM_ENDING].set()  # what GuardedHttpTools.shutdown does
    await asyncio.wait_for(running, 1)
    assert sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
    assert b"event: subscribed" in sent[1]["body"]
    assert b"event: answer" in sent[1]["body"]
    assert hub.stats().connections == 0
    await hub.stop()


def test_frames_are_named_by_their_type_or_event() -> None:
    assert sse_event(b'{"type":"answer","id":"1"}').startswith(b"event: answer\ndata: {")
    event = b'{"type":"event","id":"1","event":"volume_spike_started","data":{}}'
    assert sse_event(event).startswith(b"event: volume_spike_started\n")
    assert sse_event(b'{"type":"error","id":null}').endswith(b"\n\n")


async def test_a_failure_of_ours_closes_the_websocket_with_1011(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: Session, raw: str | bytes) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(Session, "handle", broken)
    incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: list[dict[str, Any]] = []
    for message in ({"type": "websocket.connect"}, {"type": "websocket.receive", "text": "{}"}):
        incoming.put_nowait(message)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "path": "/ws",
        "raw_path": b"/ws",
        "query_string": b"",
        "headers": [],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8001),
        "scheme": "ws",
        "root_path": "",
        "subprotocols": [],
        "asgi": {"version": "3.0"},
    }
    await asyncio.wait_for(harness.app(scope, incoming.get, send), 5)
    assert sent[0]["type"] == "websocket.accept"
    assert sent[-1] == {"type": "websocket.close", "code": 1011, "reason": "internal error"}
