"""A connection's messages: validated as the POST bodies are, errors as the HTTP bodies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from marketcache.clock import ManualClock
from marketcache.endpoints import MarketEndpoint
from marketcache.errors import UnknownSymbol
from marketcache.params import Params
from marketcache.subscriptions.hub import Hub
from marketcache.subscriptions.limits import Limits
from marketcache.subscriptions.session import Session
from marketcache.subscriptions.topics import Topic, Topics
from tests.subscriptions.fakes import Answers, topic


class FakeTopics(Topics):
    """Symbols are upper-cased; `NOPE` is not a market."""

    def __init__(self, answers: Answers) -> None:
        self.answers = answers

    async def resolve(self, endpoint: MarketEndpoint, params: Params) -> Topic:
        values = params.model_dump()
        if values["symbol"] == "NOPE":
            raise UnknownSymbol("NOPE", ["NEO/USDT"])
        made = topic(endpoint, values.pop("symbol").upper(), **values)
        self.answers.set(made, {"key": made.key})
        return made


@pytest.fixture
async def session() -> AsyncIterator[Session]:
    clock = ManualClock()
    answers = Answers(clock)
    hub = Hub(answers.read, clock, interval_s=1, limits=Limits(per_connection=2))
    made = Session(hub, FakeTopics(answers), hub.connect("a"))
    yield made
    made.close()
    await hub.stop()


async def exchange(session: Session, message: Any) -> list[dict[str, Any]]:
    """Send one message; what the connection would send back."""
    await session.handle(message if isinstance(message, str) else orjson.dumps(message).decode())
    return [orjson.loads(f) for f in await session.outbox.take()]


async def test_subscribed_then_the_answer(session: Session) -> None:
    message = {"op": "subscribe", "id": "x", "endpoint": "volume_spike", "params": {"symbol": "b"}}
    subscribed, answer = await exchange(session, message)
    assert subscribed == {
        "type": "subscribed",
        "id": "x",
        "endpoint": "volume_spike",
        "key": "answer:volume_spike:binance:B:15m:20:2.0",
    }
    assert answer["type"] == "answer"
    assert answer["data"] == {"key": subscribed["key"]}


async def test_ids_are_given_when_left_out_and_unsubscribe_ends_one(session: Session) -> None:
    first, _ = await exchange(
        session, {"op": "subscribe", "endpoint": "price", "params": {"symbol": "a"}}
    )
    assert first["id"] == "1"
    assert await exchange(session, {"op": "unsubscribe", "id": "1"}) == [
        {"type": "unsubscribed", "id": "1"}
    ]
    assert session.subscriptions == {}


BAD = [
    ("{", 400, "malformed_json"),
    ("[1]", 400, "malformed_json"),
    ({"op": "watch"}, 422, "validation_error"),
    ({"op": "subscribe", "endpoint": "price"}, 422, "validation_error"),  # no symbol
    (
        {"op": "subscribe", "endpoint": "price", "params": {"symbol": "a", "x": 1}},
        422,
        "validation_error",
    ),
    (
        {"op": "subscribe", "endpoint": "cvd", "params": {"symbol": "a", "limit": "20"}},
        422,
        "validation_error",
    ),
    (
        {"op": "subscribe", "endpoint": "cvd", "params": {"symbol": "a", "limit": 5}},
        422,
        "validation_error",
    ),
    ({"op": "subscribe", "endpoint": "markets", "params": {}}, 404, "not_subscribable"),
    ({"op": "subscribe", "endpoint": "price", "params": {"symbol": "NOPE"}}, 404, "unknown_symbol"),
    ({"op": "subscribe", "endpoint": "price", "extra": 1}, 422, "validation_error"),
    ({"op": "unsubscribe", "id": "never"}, 404, "unknown_subscription"),
    ({"op": "unsubscribe"}, 422, "validation_error"),
]


@pytest.mark.parametrize(("message", "status", "code"), BAD)
async def test_bad_messages_get_the_http_error_body(
    session: Session, message: Any, status: int, code: str
) -> None:
    [error] = await exchange(session, message)
    assert error["type"] == "error"
    assert error["status"] == status
    assert error["success"] is False
    assert error["error"]["code"] == code
    assert error["error"]["message"]
    assert session.subscriptions == {}


async def test_the_error_body_is_the_one_http_gives(session: Session) -> None:
    [error] = await exchange(
        session, {"op": "subscribe", "endpoint": "cvd", "params": {"symbol": "a", "limt": 5}}
    )
    assert error["error"] == {
        "code": "validation_error",
        "message": "limt: unknown field; did you mean 'limit'?",
        "fields": ["limt"],
    }
    [unknown] = await exchange(
        session, {"op": "subscribe", "id": "u", "endpoint": "price", "params": {"symbol": "NOPE"}}
    )
    assert unknown["id"] == "u"
    assert unknown["error"]["suggestions"] == ["NEO/USDT"]


async def test_subscriptions_per_connection_and_duplicates(session: Session) -> None:
    for name in ("a", "b"):
        await exchange(
            session,
            {"op": "subscribe", "id": name, "endpoint": "price", "params": {"symbol": name}},
        )
    [dup] = await exchange(
        session, {"op": "subscribe", "id": "a", "endpoint": "price", "params": {"symbol": "c"}}
    )
    assert (dup["status"], dup["error"]["code"]) == (409, "duplicate_subscription")
    [full] = await exchange(
        session, {"op": "subscribe", "id": "c", "endpoint": "price", "params": {"symbol": "c"}}
    )
    assert (full["status"], full["error"]["code"]) == (429, "too_many_subscriptions")
    assert full["error"]["retry_after"] == 1.0
    assert set(session.subscriptions) == {"a", "b"}
