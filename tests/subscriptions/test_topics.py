"""Topics: what means the same answer shares one key; bad parameters fail as HTTP's do."""

from __future__ import annotations

import orjson
import pytest

from marketcache.clock import ManualClock
from marketcache.endpoints import ANALYSIS, CVD, PRICE, VOLUME_SPIKE
from marketcache.errors import (
    BodyValidationError,
    NotSubscribable,
    UnknownSymbol,
    UnsupportedTimeframe,
)
from marketcache.subscriptions.topics import Topics, body_params, endpoint_named
from tests.fakes import FakeSource
from tests.service.test_market_data import market_data


@pytest.fixture
def topics() -> Topics:
    clock = ManualClock()
    return Topics(market_data(FakeSource(clock), clock))


async def test_spellings_and_defaults_share_one_key(topics: Topics) -> None:
    keys = {
        (await topics.resolve(VOLUME_SPIKE, body_params(VOLUME_SPIKE, params))).key
        for params in (
            {"symbol": "btcusdt"},
            {"symbol": "BTC-USDT", "timeframe": "15m"},
            {"symbol": "BTC/USDT", "lookback": 20, "threshold": 2},
        )
    }
    assert keys == {"answer:volume_spike:binance:BTC/USDT:15m:20:2.0"}


async def test_the_key_is_the_answer_the_service_caches(topics: Topics) -> None:
    topic = await topics.resolve(CVD, body_params(CVD, {"symbol": "ethusdt", "limit": 50}))
    answer = await topics.read(topic)
    assert orjson.loads(answer.data)["symbol"] == "ETH/USDT"
    assert topics.market.cached(topic.key) is not None  # the same entry HTTP reads


async def test_bad_parameters_fail_as_the_post_body_does(topics: Topics) -> None:
    with pytest.raises(BodyValidationError, match="timefrane: unknown field; did you mean"):
        body_params(ANALYSIS, {"symbol": "BTC/USDT", "timefrane": "1h"})
    with pytest.raises(BodyValidationError, match="symbol"):
        body_params(PRICE, {})
    with pytest.raises(UnknownSymbol):
        await topics.resolve(PRICE, body_params(PRICE, {"symbol": "NOPE/NOPE"}))
    with pytest.raises(UnsupportedTimeframe):
        await topics.resolve(
            ANALYSIS, body_params(ANALYSIS, {"symbol": "BTC/USDT", "timeframe": "7m"})
        )


def test_only_market_endpoints_are_subscribable() -> None:
    assert endpoint_named("cvd") is CVD
    with pytest.raises(NotSubscribable) as refused:
        endpoint_named("markets")
    assert refused.value.allowed == ["price", "comprehensive_analysis", "volume_spike", "cvd"]
