"""One connection's subscriptions, and the messages a WebSocket client sends.

    {"op": "subscribe", "id": "p1", "endpoint": "price", "params": {"symbol": "BTC/USDT"}}
    {"op": "unsubscribe", "id": "p1"}

`params` is the endpoint's POST body, validated by the same model with the same
errors; `id` names the subscription on this connection (given by the server when
left out). Replies: `subscribed` then the current `answer` at once, `unsubscribed`,
or an `error` frame carrying the HTTP error body. The connection stays open after
an error; only the limits of the connection itself close it.
"""

from __future__ import annotations

import itertools
from typing import Annotated, Any, Literal

import orjson
from pydantic import Field, StringConstraints

from marketcache.errors import (
    BodyValidationError,
    DuplicateSubscription,
    MalformedJson,
    MarketCacheError,
    TooManySubscriptions,
    UnknownSubscription,
)
from marketcache.params import Params, parse_values
from marketcache.subscriptions import frames
from marketcache.subscriptions.hub import Hub, Subscription
from marketcache.subscriptions.outbox import Outbox
from marketcache.subscriptions.topics import Topics, body_params, endpoint_named

MESSAGE_MAX_BYTES = 16 * 1024
SubscriptionId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class SubscribeMessage(Params):
    """`{"op": "subscribe", ...}`."""

    op: Literal["subscribe"]
    id: SubscriptionId | None = None
    endpoint: str = Field(max_length=64)
    params: dict[str, Any] = Field(default_factory=dict)


class UnsubscribeMessage(Params):
    """`{"op": "unsubscribe", "id": ...}`."""

    op: Literal["unsubscribe"]
    id: SubscriptionId


OPS: dict[str, type[Params]] = {"subscribe": SubscribeMessage, "unsubscribe": UnsubscribeMessage}


def parse_message(raw: str | bytes) -> Params:
    """A client message: MalformedJson (400) or BodyValidationError (422) as HTTP has."""
    if len(raw) > MESSAGE_MAX_BYTES:
        raise BodyValidationError(f"message: over {MESSAGE_MAX_BYTES} bytes", ["message"])
    try:
        message = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedJson(f"malformed JSON: {exc}; expected a JSON object") from None
    if not isinstance(message, dict):
        raise MalformedJson("malformed JSON: expected a JSON object")
    model = OPS.get(message.get("op"))  # type: ignore[arg-type]
    if model is None:
        raise BodyValidationError("op: must be 'subscribe' or 'unsubscribe'", ["op"])
    return parse_values(model, message)


class Session:
    """The subscriptions of one connection, all feeding its one outbox."""

    def __init__(self, hub: Hub, topics: Topics, outbox: Outbox) -> None:
        self.hub = hub
        self.topics = topics
        self.outbox = outbox
        self.subscriptions: dict[str, Subscription] = {}
        self._ids = itertools.count(1)

    async def handle(self, raw: str | bytes) -> None:
        """Act on one client message; a bad one is answered with an error frame."""
        subscription: str | None = None
        try:
            message = parse_message(raw)
            if isinstance(message, SubscribeMessage):
                subscription = message.id
                await self.subscribe(message.endpoint, message.params, message.id)
            elif isinstance(message, UnsubscribeMessage):
                subscription = message.id
                self.unsubscribe(message.id)
        except MarketCacheError as exc:
            self.outbox.put(frames.error(subscription, exc))

    async def subscribe(
        self, endpoint_name: str, params: dict[str, Any], subscription: str | None = None
    ) -> Subscription:
        """Validate, subscribe, queue `subscribed` and the current answer; raise our errors."""
        endpoint = endpoint_named(endpoint_name)
        if subscription is None:
            subscription = next(i for i in map(str, self._ids) if i not in self.subscriptions)
        if subscription in self.subscriptions:
            raise DuplicateSubscription(subscription)
        if len(self.subscriptions) >= self.hub.limits.per_connection:
            self.hub.counts.refused += 1
            raise TooManySubscriptions(
                f"this connection holds {self.hub.limits.per_connection} subscriptions, "
                "the most it may; unsubscribe first"
            )
        topic = await self.topics.resolve(endpoint, body_params(endpoint, params))
        made = Subscription(subscription, topic, self.outbox)
        self.subscriptions[subscription] = made  # held while its first answer is read
        try:
            await self.hub.subscribe(made)
        except BaseException:
            self.subscriptions.pop(subscription, None)
            raise
        # replies go out before answers: the client reads `subscribed`, then the answer
        self.outbox.put(
            frames.reply("subscribed", subscription, endpoint=endpoint.name, key=topic.key)
        )
        return made

    def unsubscribe(self, subscription: str) -> None:
        """End one subscription; UnknownSubscription (404) if there is no such one."""
        made = self.subscriptions.pop(subscription, None)
        if made is None:
            raise UnknownSubscription(subscription)
        self.hub.unsubscribe(made)
        self.outbox.put(frames.reply("unsubscribed", subscription))

    def close(self) -> None:
        """End every subscription (the connection is closing)."""
        for made in self.subscriptions.values():
            self.hub.unsubscribe(made)
        self.subscriptions.clear()
