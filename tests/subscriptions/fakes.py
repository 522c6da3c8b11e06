"""A reader of answers the test sets by hand, counting its reads per key."""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson

from marketcache.answer import Answer, Stamps
from marketcache.clock import ManualClock
from marketcache.endpoints import PRICE, VOLUME_SPIKE, MarketEndpoint
from marketcache.errors import MarketCacheError
from marketcache.subscriptions.topics import Topic


def topic(endpoint: MarketEndpoint = PRICE, symbol: str = "BTC/USDT", **params: Any) -> Topic:
    """A topic as `Topics.resolve` makes it (defaults filled in)."""
    values = {"symbol": symbol, **endpoint.defaults(), **params}
    rest = {name: values[name] for name in endpoint.key_fields}
    return Topic(endpoint, values, endpoint.key("binance", symbol, **rest))


def spike_topic(symbol: str = "BTC/USDT") -> Topic:
    """A volume_spike topic."""
    return topic(VOLUME_SPIKE, symbol)


class Answers:
    """`read` answers what `set` last put under the topic's key (or raises what `fail` put)."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.data: dict[str, Any] = {}
        self.errors: dict[str, MarketCacheError] = {}
        self.reads: Counter[str] = Counter()

    def set(self, topic: Topic, data: Any) -> None:
        self.data[topic.key] = data
        self.errors.pop(topic.key, None)

    def fail(self, topic: Topic, exc: MarketCacheError) -> None:
        self.errors[topic.key] = exc

    async def read(self, topic: Topic) -> Answer:
        self.reads[topic.key] += 1
        if topic.key in self.errors:
            raise self.errors[topic.key]
        now = self.clock.now()
        stamps = Stamps(now, now + 2, now + 30)
        return Answer(orjson.dumps(self.data[topic.key]), "hit", stamps, "test", "binance")
