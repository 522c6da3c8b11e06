"""What one subscribes to: an endpoint and its parameters, validated as the POST body is.

A topic's key is the answer's cache key, so every subscription that means the same
answer (`btcusdt` and `BTC/USDT`, a default given or left out) shares one watcher.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from marketcache.answer import Answer
from marketcache.endpoints import MARKET_ENDPOINTS, MarketEndpoint
from marketcache.errors import NotSubscribable
from marketcache.params import Params, parse_body
from marketcache.service import MarketData

SUBSCRIBABLE: dict[str, MarketEndpoint] = {e.name: e for e in MARKET_ENDPOINTS}


def endpoint_named(name: str) -> MarketEndpoint:
    """The subscribable endpoint called `name`; NotSubscribable (404) if there is none."""
    endpoint = SUBSCRIBABLE.get(name)
    if endpoint is None:
        raise NotSubscribable(name, list(SUBSCRIBABLE))
    return endpoint


def body_params(endpoint: MarketEndpoint, params: Mapping[str, Any]) -> Params:
    """`params` validated exactly as the endpoint's POST body (the same 400 and 422)."""
    return parse_body(endpoint.params, orjson.dumps(params))


@dataclass(frozen=True, slots=True)
class Topic:
    """An endpoint, its normalized parameters and the key of its answer."""

    endpoint: MarketEndpoint
    params: Mapping[str, Any]
    key: str


Reader = Callable[[Topic], Awaitable[Answer]]


class Topics:
    """Topics of one service: resolved against its markets, read through its operations."""

    def __init__(self, market: MarketData) -> None:
        self.market = market

    async def resolve(self, endpoint: MarketEndpoint, params: Params) -> Topic:
        """The topic of validated `params`: UnknownSymbol, UnsupportedTimeframe as HTTP has."""
        await self.market.ensure_markets()
        values = params.model_dump()
        values["symbol"] = self.market.source.normalize_symbol(values["symbol"])
        if "timeframe" in values:
            values["timeframe"] = self.market.source.check_timeframe(values["timeframe"])
        rest = {name: values[name] for name in endpoint.key_fields}
        return Topic(endpoint, values, endpoint.key(self.market.exchange, values["symbol"], **rest))

    async def read(self, topic: Topic) -> Answer:
        """The topic's answer through the service (a cache hit while fresh)."""
        operation: Callable[..., Awaitable[Answer]] = getattr(self.market, topic.endpoint.name)
        return await operation(**topic.params)
