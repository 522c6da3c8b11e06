"""Every bad input gets its status and our error body; none reaches the exchange."""

from __future__ import annotations

import httpx
import pytest

from marketcache.errors import ExchangeUnavailable, RateLimited, UpstreamTimeout
from tests.api.conftest import Harness


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    error: dict[str, object] = body["error"]
    return error


async def test_malformed_json_is_400(harness: Harness) -> None:
    response = await harness.client.post("/price", content=b'{"symbol": "BTC/USDT"')
    error = error_of(response, 400, "malformed_json")
    assert "JSON" in str(error["message"])


async def test_empty_body_is_400(harness: Harness) -> None:
    response = await harness.client.post("/price", content=b"")
    error = error_of(response, 400, "malformed_json")
    assert "empty" in str(error["message"])


async def test_body_not_an_object_is_422(harness: Harness) -> None:
    response = await harness.client.post("/price", json=["BTC/USDT"])
    error_of(response, 422, "validation_error")


async def test_missing_field_is_422_naming_it(harness: Harness) -> None:
    response = await harness.client.post("/comprehensive_analysis", json={"timeframe": "15m"})
    error = error_of(response, 422, "validation_error")
    assert error["fields"] == ["symbol"]
    assert "symbol" in str(error["message"])


async def test_ill_typed_field_is_422_naming_it(harness: Harness) -> None:
    response = await harness.client.post("/price", json={"symbol": 42})
    error = error_of(response, 422, "validation_error")
    assert error["fields"] == ["symbol"]


async def test_unknown_symbol_is_404_with_close_matches(harness: Harness) -> None:
    response = await harness.client.post("/price", json={"symbol": "BTCUSTD"})
    error = error_of(response, 404, "unknown_symbol")
    assert "BTC/USDT" in error["suggestions"]  # type: ignore[operator]
    assert harness.source.calls["ticker"] == 0


async def test_unsupported_timeframe_is_400_listing_the_allowed(harness: Harness) -> None:
    response = await harness.client.post(
        "/comprehensive_analysis", json={"symbol": "BTC/USDT", "timeframe": "7m"}
    )
    error = error_of(response, 400, "unsupported_timeframe")
    assert "15m" in error["allowed"]  # type: ignore[operator]
    assert harness.source.calls["ohlcv"] == 0


@pytest.mark.parametrize(
    ("path", "field", "value"),
    [
        ("/volume_spike", "lookback", 1),
        ("/volume_spike", "lookback", 10_000),
        ("/volume_spike", "threshold", 0),
        ("/volume_spike", "threshold", -1.5),
        ("/volume_spike", "threshold", 1000),
        ("/cvd", "limit", 5),
        ("/cvd", "limit", 5000),
        ("/volume_spike", "lookback", "many"),
    ],
)
async def test_parameters_out_of_range_are_422(
    harness: Harness, path: str, field: str, value: object
) -> None:
    response = await harness.client.post(path, json={"symbol": "BTC/USDT", field: value})
    error = error_of(response, 422, "validation_error")
    assert error["fields"] == [field]
    assert harness.source.calls["ohlcv"] == 0


async def test_body_over_16_kib_is_413(harness: Harness) -> None:
    body = b'{"symbol": "BTC/USDT", "pad": "' + b"x" * 17_000 + b'"}'
    response = await harness.client.post("/price", content=body)
    error_of(response, 413, "payload_too_large")


async def test_chunked_body_over_16_kib_is_413(harness: Harness) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        yield b'{"symbol": "BTC/USDT", "pad": "'
        for _ in range(20):
            yield b"x" * 1024
        yield b'"}'

    response = await harness.client.post("/price", content=chunks())
    error_of(response, 413, "payload_too_large")


async def test_body_just_under_the_limit_is_served(harness: Harness) -> None:
    pad = 16 * 1024 - 100
    body = b'{"symbol": "BTC/USDT"' + b" " * pad + b"}"
    assert len(body) <= 16 * 1024
    response = await harness.client.post("/price", content=body)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("failure", "status", "code"),
    [
        (ExchangeUnavailable("exchange down", retry_after=7), 503, "exchange_unavailable"),
        (UpstreamTimeout("no answer"), 503, "upstream_timeout"),
        (RateLimited("slow down", retry_after=12), 429, "rate_limited"),
    ],
)
async def test_exchange_failure_without_stale_copy(
    harness: Harness, failure: Exception, status: int, code: str
) -> None:
    harness.source.fail_with = failure  # type: ignore[assignment]
    response = await harness.client.post("/price", json={"symbol": "BTC/USDT"})
    error_of(response, status, code)
    retry_after = int(response.headers["Retry-After"])
    assert retry_after >= 1
    if getattr(failure, "retry_after", None):
        assert retry_after == failure.retry_after  # type: ignore[attr-defined]


async def test_unknown_path_is_404(harness: Harness) -> None:
    error_of(await harness.client.get("/nope"), 404, "not_found")


async def test_wrong_method_is_405_with_allow(harness: Harness) -> None:
    response = await harness.client.put("/price", json={"symbol": "BTC/USDT"})
    error_of(response, 405, "method_not_allowed")
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    response = await harness.client.post("/health")
    error_of(response, 405, "method_not_allowed")
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}


async def test_get_without_symbol_is_422(harness: Harness) -> None:
    body = error_of(await harness.client.get("/price"), 422, "validation_error")
    assert body["fields"] == ["symbol"]


@pytest.mark.parametrize(
    ("path", "body", "field", "hint"),
    [
        (
            "/comprehensive_analysis",
            {"symbol": "BTC/USDT", "timefrane": "1h"},
            "timefrane",
            "did you mean 'timeframe'?",
        ),
        (
            "/price",
            {"symbol": "BTC/USDT", "exchange": "kraken"},
            "exchange",
            "the fields are symbol",
        ),
        (
            "/volume_spike",
            {"symbol": "BTC/USDT", "look_back": 10},
            "look_back",
            "did you mean 'lookback'?",
        ),
        ("/cvd", {"symbol": "BTC/USDT", "limits": 10}, "limits", "did you mean 'limit'?"),
    ],
)
async def test_an_unknown_field_is_422_naming_it(
    harness: Harness, path: str, body: dict[str, object], field: str, hint: str
) -> None:
    error = error_of(await harness.client.post(path, json=body), 422, "validation_error")
    assert error["fields"] == [field]
    assert f"{field}: unknown field" in str(error["message"])
    assert hint in str(error["message"])
    query = "&".join(f"{k}={v}" for k, v in body.items())
    error = error_of(await harness.client.get(f"{path}?{query}"), 422, "validation_error")
    assert error["fields"] == [field]


async def test_trailing_slash_is_404_not_a_redirect(harness: Harness) -> None:
    error_of(await harness.client.post("/cvd/", json={"symbol": "BTC/USDT"}), 404, "not_found")


async def test_head_health_for_uptime_checks(harness: Harness) -> None:
    response = await harness.client.head("/health")
    assert response.status_code == 200
    assert response.content == b""
