"""Subscriptions against the real server and its emulator: WebSocket and Server-Sent Events."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from marketcache.commands.service_process import ServiceProcess

pytestmark = pytest.mark.e2e

LIMITS = {
    "TICKER_FRESH_S": "0.3",  # a price changes about this often
    "SUBSCRIBE_INTERVAL_S": "0.05",
    "SUBSCRIBE_MAX_PER_CONNECTION": "3",
    "SUBSCRIBE_MAX_CONNECTIONS_PER_CLIENT": "4",
    "HTTP_READ_TIMEOUT_S": "1",  # a WebSocket outlives it
    "CORS_ORIGINS": "*",  # every pure ASGI layer is in front: websocket scopes pass them all
    "LOG_LEVEL": "warning",
}
DEADLINE_S = 20.0


@pytest.fixture(scope="module")
def service() -> Iterator[ServiceProcess]:
    with ServiceProcess(("--offline",), env=LIMITS) as process:
        yield process


def ws_url(service: ServiceProcess) -> str:
    return service.url.replace("http://", "ws://") + "/ws"


@pytest.fixture
async def ws(service: ServiceProcess) -> AsyncIterator[ClientConnection]:
    async with connect(ws_url(service)) as client:
        yield client


async def receive(client: ClientConnection) -> dict[str, Any]:
    frame = await client.recv(decode=True)
    assert isinstance(frame, str)
    parsed: dict[str, Any] = json.loads(frame)
    return parsed


async def subscribe(client: ClientConnection, endpoint: str, **params: Any) -> dict[str, Any]:
    """Subscribe; the first answer (after `subscribed`)."""
    await client.send(json.dumps({"op": "subscribe", "endpoint": endpoint, "params": params}))
    subscribed = await receive(client)
    while subscribed["type"] != "subscribed":  # frames of the connection's other subscriptions
        assert subscribed["type"] in ("answer", "unsubscribed"), subscribed
        subscribed = await receive(client)
    answer = await receive(client)
    while answer["id"] != subscribed["id"]:
        answer = await receive(client)
    assert answer["type"] == "answer"
    return answer


def stats(service: ServiceProcess) -> dict[str, Any]:
    figures: dict[str, Any] = httpx.get(f"{service.url}/cache/stats").json()["data"][
        "subscriptions"
    ]
    return figures


async def test_the_current_answer_at_once_then_a_changed_one(ws: ClientConnection) -> None:
    first = await subscribe(ws, "price", symbol="btcusdt")
    assert first["success"] is True
    assert first["data"]["symbol"] == "BTC/USDT"
    assert set(first["meta"]) == {"cache", "age_ms", "source", "exchange", "fetched_at"}
    changed = await receive(ws)
    assert changed["type"] == "answer"
    assert changed["id"] == first["id"]
    assert changed["data"] != first["data"]
    assert changed["meta"]["fetched_at"] > first["meta"]["fetched_at"]


async def test_same_answer_as_http(ws: ClientConnection, service: ServiceProcess) -> None:
    answer = await subscribe(ws, "volume_spike", symbol="ETH/USDT", lookback=10)
    async with httpx.AsyncClient() as http:
        over_http = (
            await http.get(f"{service.url}/volume_spike?symbol=ETH/USDT&lookback=10")
        ).json()
    assert set(answer["data"]) == set(over_http["data"])
    assert answer["data"]["lookback"] == 10
    assert answer["data"]["symbol"] == "ETH/USDT"


async def test_a_websocket_outlives_the_http_read_timeout(ws: ClientConnection) -> None:
    await subscribe(ws, "price", symbol="BTC/USDT")
    started = time.monotonic()
    while time.monotonic() - started < 2.5:  # HTTP_READ_TIMEOUT_S is 1
        assert (await receive(ws))["type"] == "answer"


@pytest.mark.parametrize(
    ("message", "status", "code"),
    [
        ("not json", 400, "malformed_json"),
        (
            {"op": "subscribe", "endpoint": "price", "params": {"symbol": "NOPE/NOPE"}},
            404,
            "unknown_symbol",
        ),
        (
            {"op": "subscribe", "endpoint": "cvd", "params": {"symbol": "BTC/USDT", "limit": 1}},
            422,
            "validation_error",
        ),
        (
            {
                "op": "subscribe",
                "endpoint": "cvd",
                "params": {"symbol": "BTC/USDT", "timeframe": "7m"},
            },
            400,
            "unsupported_timeframe",
        ),
        ({"op": "subscribe", "endpoint": "warm", "params": {}}, 404, "not_subscribable"),
        ({"op": "unsubscribe", "id": "nothing"}, 404, "unknown_subscription"),
    ],
)
async def test_bad_subscriptions_get_the_http_error_bodies(
    ws: ClientConnection, service: ServiceProcess, message: Any, status: int, code: str
) -> None:
    await ws.send(message if isinstance(message, str) else json.dumps(message))
    error = await receive(ws)
    assert (error["type"], error["status"], error["success"]) == ("error", status, False)
    assert error["error"]["code"] == code
    if code in ("unknown_symbol", "validation_error", "unsupported_timeframe"):  # as HTTP says
        body = message["params"]
        async with httpx.AsyncClient() as client:
            http = await client.post(f"{service.url}/{message['endpoint']}", json=body)
        assert http.status_code == status
        assert http.json()["error"] == error["error"]
    await subscribe(ws, "price", symbol="BTC/USDT")  # the connection is still usable


async def test_a_binary_frame_closes_with_1003(ws: ClientConnection) -> None:
    await ws.send(b"\x00\x01")
    with pytest.raises(ConnectionClosed) as closed:
        await receive(ws)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1003


async def test_subscriptions_per_connection(ws: ClientConnection) -> None:
    for symbol in ("BTC/USDT", "ETH/USDT", "BNB/USDT"):
        await subscribe(ws, "price", symbol=symbol)
    await ws.send(
        json.dumps({"op": "subscribe", "endpoint": "price", "params": {"symbol": "SOL/USDT"}})
    )
    error = await _next_error(ws)
    assert (error["status"], error["error"]["code"]) == (429, "too_many_subscriptions")
    await ws.send(json.dumps({"op": "unsubscribe", "id": "1"}))
    await subscribe(ws, "price", symbol="SOL/USDT")  # room again


async def test_connections_per_address_websocket_and_sse(service: ServiceProcess) -> None:
    async with connect(ws_url(service)) as a, connect(ws_url(service)) as b:
        await subscribe(a, "price", symbol="BTC/USDT")
        await subscribe(b, "price", symbol="BTC/USDT")
        with httpx.stream("GET", f"{service.url}/subscribe/price?symbol=BTC/USDT") as sse:
            assert sse.status_code == 200
            async with connect(ws_url(service)) as d:  # the fourth: at the limit
                await subscribe(d, "price", symbol="BTC/USDT")
                async with httpx.AsyncClient() as http:
                    refused = await http.get(f"{service.url}/subscribe/price?symbol=BTC/USDT")
                assert refused.status_code == 429
                assert refused.json()["error"]["code"] == "too_many_subscriptions"
                assert refused.headers["retry-after"] == "1"
                async with connect(ws_url(service)) as e:
                    error = await receive(e)
                    assert error["error"]["code"] == "too_many_subscriptions"
                    with pytest.raises(ConnectionClosed) as closed:
                        await receive(e)
                    assert closed.value.rcvd is not None
                    assert closed.value.rcvd.code == 1008
                    assert "4 at most" in closed.value.rcvd.reason
    _poll(lambda: stats(service)["connections"] == 0)
    assert stats(service)["refused"] >= 2


def test_sse_the_current_answer_then_changes(service: ServiceProcess) -> None:
    url = f"{service.url}/subscribe/comprehensive_analysis?symbol=ethusdt&timeframe=1m"
    with httpx.stream("GET", url, timeout=DEADLINE_S) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = _sse_events(stream.iter_lines())
        assert next(events)[0] == "subscribed"
        name, first = next(events)
        assert name == "answer"
        assert first["data"]["symbol"] == "ETH/USDT"
        assert first["data"]["timeframe"] == "1m"
    price = f"{service.url}/subscribe/price?symbol=BTC/USDT"
    origin = {"Origin": "http://dashboard.example"}
    with httpx.stream("GET", price, timeout=DEADLINE_S, headers=origin) as stream:
        assert stream.headers["access-control-allow-origin"] == "*"  # browsers may listen
        events = _sse_events(stream.iter_lines())
        next(events)
        _, first = next(events)
        name, changed = next(events)
        assert name == "answer"
        assert changed["data"] != first["data"]


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("/subscribe/price", 422, "validation_error"),
        ("/subscribe/price?symbol=BTC/USDT&symbol=ETH/USDT", 422, "validation_error"),
        ("/subscribe/cvd?symbol=BTC/USDT&limit=abc", 422, "validation_error"),
        ("/subscribe/price?symbol=NOPE/NOPE", 404, "unknown_symbol"),
        ("/subscribe/volume_spike?symbol=BTC/USDT&timeframe=7m", 400, "unsupported_timeframe"),
        ("/subscribe/markets", 404, "not_found"),
    ],
)
def test_sse_bad_subscriptions_are_the_get_routes_errors(
    service: ServiceProcess, query: str, status: int, code: str
) -> None:
    answer = httpx.get(service.url + query)
    assert answer.status_code == status
    assert answer.json()["success"] is False
    assert answer.json()["error"]["code"] == code
    plain = httpx.get(service.url + query.removeprefix("/subscribe"))
    if code != "not_found":
        assert plain.json()["error"] == answer.json()["error"]


def test_stats_and_metrics_show_subscribers(service: ServiceProcess) -> None:
    with httpx.stream("GET", f"{service.url}/subscribe/price?symbol=BTC/USDT") as stream:
        events = _sse_events(stream.iter_lines())
        next(events), next(events)
        figures = stats(service)
        assert figures["enabled"] is True
        assert figures["connections"] >= 1
        assert figures["subscriptions"] >= 1
        assert figures["keys"] >= 1
        assert figures["deliveries"] >= 1
        metrics = httpx.get(f"{service.url}/metrics").text
        assert "marketcache_subscriptions_subscriptions " in metrics
        assert "marketcache_subscriptions_changes_total " in metrics


def test_subscriptions_off(tmp_path: Any) -> None:
    with ServiceProcess(("--offline",), env={"SUBSCRIPTIONS": "false"}) as off:
        answer = httpx.get(f"{off.url}/subscribe/price?symbol=BTC/USDT")
        assert answer.status_code == 503
        assert answer.json()["error"]["code"] == "subscriptions_off"
        assert (
            httpx.get(f"{off.url}/cache/stats").json()["data"]["subscriptions"]["enabled"] is False
        )


async def _next_error(client: ClientConnection) -> dict[str, Any]:
    while True:
        frame = await receive(client)
        if frame["type"] == "error":
            return frame


def _sse_events(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    name = ""
    for line in lines:
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            yield name, json.loads(line.removeprefix("data: "))


def _poll(condition: Any, timeout_s: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_a_shutdown_ends_open_event_streams_at_once() -> None:
    with ServiceProcess(("--offline",), env={"LOG_LEVEL": "info"}) as server:
        url = f"{server.url}/subscribe/price?symbol=BTC/USDT"
        with httpx.stream("GET", url, timeout=DEADLINE_S) as stream:
            events = _sse_events(stream.iter_lines())
            next(events), next(events)
            server.stop()  # SIGTERM
            rest = list(events)  # the stream ends (no read error, no timeout)
        assert all(name == "answer" for name, _ in rest)
        assert "timeout graceful shutdown exceeded" not in server.log()  # it did not wait 5 s
