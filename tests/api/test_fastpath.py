"""The hit fast path answers exactly what the routes would, and nothing else."""

from __future__ import annotations

import inspect
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketcache.answer import Answer, Stamps
from marketcache.api.fastpath import answer_key
from marketcache.api.runtime import Runtime
from marketcache.endpoints import MARKET_ENDPOINTS, MarketEndpoint
from marketcache.errors import MarketCacheError
from marketcache.params import parse_body
from marketcache.service import MarketData
from tests.api.conftest import Harness

ANALYSIS = {"symbol": "BTC/USDT", "timeframe": "15m"}


def runtime_of(harness: Harness) -> Runtime:
    transport = harness.client._transport
    rt: Runtime = transport.app.state.runtime  # type: ignore[attr-defined]
    return rt


def forbid_routes(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """After this, only the fast path can answer market requests."""

    async def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the route ran: the fast path did not serve this hit")

    market = runtime_of(harness).market
    for endpoint in MARKET_ENDPOINTS:
        monkeypatch.setattr(market, endpoint.name, refuse)


@pytest.mark.parametrize(
    ("path", "body", "hit_body"),
    [
        ("/price", {"symbol": "BTC/USDT"}, {"symbol": " btcusdt "}),
        ("/comprehensive_analysis", ANALYSIS, {"symbol": "BTC-USDT"}),
        ("/volume_spike", ANALYSIS, {"symbol": "BTC/USDT", "lookback": 20, "threshold": 2}),
        ("/cvd", {**ANALYSIS, "limit": 100}, {"symbol": "BTC_USDT", "timeframe": "15m"}),
    ],
)
async def test_hits_are_served_without_the_routes(
    harness: Harness,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    body: dict[str, Any],
    hit_body: dict[str, Any],
) -> None:
    first = await harness.client.post(path, json=body)
    assert first.headers["X-Cache"] == "miss"
    forbid_routes(harness, monkeypatch)
    second = await harness.client.post(path, json=hit_body)
    assert second.status_code == 200
    assert second.headers["X-Cache"] == "hit"
    assert second.headers["content-type"] == "application/json"
    assert second.json()["data"] == first.json()["data"]
    assert second.json()["meta"]["source"] == "emulator"


async def test_a_miss_falls_through_to_the_route(harness: Harness) -> None:
    response = await harness.client.post("/price", json={"symbol": "ETH/USDT"})
    assert response.headers["X-Cache"] == "miss"
    assert harness.source.calls["ticker"] == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "malformed_json"),
        (b'{"symbol": "NOPE/USDT"}', 404, "unknown_symbol"),
        (b'{"symbol": "BTC/USDT", "timeframe": "7m"}', 400, "unsupported_timeframe"),
        (b'{"symbol": "BTC/USDT", "lookback": 1}', 422, "validation_error"),
        (b'{"symbol": "BTC/USDT", "threshold": true}', 422, "validation_error"),
        (b'{"symbol": "BTC/USDT", "lookback": "20"}', 422, "validation_error"),
        (b'{"symbol": "BTC/USDT", "lookback": 20.0}', 422, "validation_error"),
        (b"[1, 2]", 422, "validation_error"),
    ],
)
async def test_bad_bodies_get_the_routes_errors_even_when_warm(
    harness: Harness, body: bytes, status: int, code: str
) -> None:
    await harness.client.post("/volume_spike", json={"symbol": "BTC/USDT"})
    response = await harness.client.post("/volume_spike", content=body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


async def test_a_stale_answer_is_served_and_refreshed(harness: Harness) -> None:
    await harness.client.post("/price", json={"symbol": "BTC/USDT"})
    await harness.clock.advance(harness.settings.ticker_fresh_s + 0.5)
    response = await harness.client.post("/price", json={"symbol": "BTC/USDT"})
    assert response.headers["X-Cache"] == "stale"
    assert response.json()["meta"]["age_ms"] >= harness.settings.ticker_fresh_s * 1000
    await harness.clock.advance(0)
    assert harness.source.calls["ticker"] == 2


async def test_uncached_service_has_no_fast_path(make_harness: Any) -> None:
    harness = await make_harness(no_cache=True)
    for _ in range(2):
        response = await harness.client.post("/price", json={"symbol": "BTC/USDT"})
        assert response.headers["X-Cache"] == "bypass"
    assert harness.source.calls["ticker"] == 2


# -- the fast path and the routes agree on which bodies are valid ----------------------

_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 2000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["BTC/USDT", " btcusdt ", "ETH-USDT", "NOPE/USDT", "", " ", "x" * 41]),
    st.sampled_from(["15m", "1h", " 1h ", "7m", "1H"]),
    st.text(max_size=5),
    st.lists(st.integers(-5, 5), max_size=2),
)
_FIELDS = st.sampled_from(
    ["symbol", "timeframe", "lookback", "threshold", "limit", "timefrane", "extra"]
)
_BODIES = st.one_of(
    st.dictionaries(_FIELDS, _VALUES, max_size=5).map(orjson.dumps),
    st.sampled_from([b"", b"{", b"[]", b"null", b'"BTC/USDT"', b"1"]),
)


def _route_key(rt: Runtime, endpoint: MarketEndpoint, raw: bytes) -> str | None:
    """The key the route would answer under, or None where it answers an error."""
    try:
        params = parse_body(endpoint.params, raw).model_dump()
        symbol = rt.source.normalize_symbol(params.pop("symbol"))
        if "timeframe" in params:
            rt.source.check_timeframe(params["timeframe"])
    except MarketCacheError:
        return None
    return endpoint.key(rt.market.exchange, symbol, **params)


@pytest.mark.parametrize("endpoint", MARKET_ENDPOINTS, ids=lambda e: e.name)
async def test_fast_path_and_routes_agree_on_every_body(
    harness: Harness, endpoint: MarketEndpoint
) -> None:
    await harness.client.post("/price", json={"symbol": "BTC/USDT"})  # markets loaded
    rt = runtime_of(harness)

    @given(raw=_BODIES)
    @settings(max_examples=300, deadline=None, database=None)
    def agree(raw: bytes) -> None:
        assert answer_key(rt, endpoint, raw) == _route_key(rt, endpoint, raw)

    agree()


def test_each_endpoint_operation_takes_its_parameters() -> None:
    for endpoint in MARKET_ENDPOINTS:
        operation = getattr(MarketData, endpoint.name)
        parameters = list(inspect.signature(operation).parameters)[1:]  # after self
        assert parameters == list(endpoint.params.model_fields), endpoint.name


@pytest.mark.parametrize("streamed", [False, True])
@pytest.mark.parametrize("cache", ["hit", "stale", "miss", "coalesced", "bypass"])
def test_the_spliced_body_is_what_orjson_makes(cache: str, streamed: bool) -> None:
    stamps = Stamps(1_764_000_000.123, 1_764_000_002.123, 1_764_000_032.123, streamed)
    answer = Answer(b'{"x":1}', cache, stamps, "emulator", "binance", "BTC/USDT")  # type: ignore[arg-type]
    now = 1_764_000_001.5
    expected = b'{"success":true,"data":{"x":1},"meta":%b}' % orjson.dumps(answer.meta(now))
    assert answer.body(now) == expected


@pytest.mark.parametrize("streamed", [False, True])
def test_an_answer_says_it_was_streamed_only_when_it_was(streamed: bool) -> None:
    from marketcache.answer import decode, encode, is_streamed

    stamps = Stamps(1_764_000_000.0, 1_764_000_002.0, 1_764_000_032.0, streamed)
    value = encode({"x": 1}, stamps)
    assert decode(value) == (stamps, b'{"x":1}')
    assert is_streamed(value) is streamed
    answer = Answer(b'{"x":1}', "hit", stamps, "emulator", "binance", "BTC/USDT")
    meta = answer.meta(1_764_000_000.5)
    assert meta.get("stream", False) is streamed
    assert list(meta)[:5] == ["cache", "age_ms", "source", "exchange", "fetched_at"]


async def test_remembered_framing_keeps_age_and_status_true_per_request(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hits share a framed body only within one millisecond of age and one cache status."""
    await harness.client.post("/price", json={"symbol": "BTC/USDT"})  # the miss fills it
    forbid_routes(harness, monkeypatch)
    seen = []
    for step in (0.0, 0.0, 0.0004, 0.0006, 0.25, 0.0, 2.0):
        await harness.clock.advance(step)
        response = await harness.client.post("/price", json={"symbol": "BTC/USDT"})
        meta = response.json()["meta"]
        assert response.headers["x-cache"] == meta["cache"]
        assert response.headers["content-length"] == str(len(response.content))
        seen.append((meta["age_ms"], meta["cache"]))
    assert seen == [
        (0, "hit"),
        (0, "hit"),
        (0, "hit"),
        (1, "hit"),
        (251, "hit"),
        (251, "hit"),
        (2251, "stale"),  # past the 2 s fresh window: served stale while it refreshes
    ]
