"""Clients get a one-line reason for an upstream failure, never the exchange's own text."""

from __future__ import annotations

import pytest

from marketcache.errors import (
    BadResponse,
    ExchangeUnavailable,
    InvalidParameter,
    MarketCacheError,
    RateLimited,
    UnknownSymbol,
    UpstreamTimeout,
)
from marketcache.sources.errors import public

RAW = "binance GET http://127.0.0.1:9/api/v3/klines?symbol=BTCUSDT 503 <html><body>gateway</body>"


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (ExchangeUnavailable(RAW, retry_after=3), "binance ohlcv: unavailable; retry after 3s"),
        (RateLimited(RAW, retry_after=60), "binance ohlcv: rate limit reached; retry after 60s"),
        (UpstreamTimeout(RAW), "binance ohlcv: no answer in time"),
        (BadResponse(RAW), "binance ohlcv: an answer that could not be used"),
    ],
)
def test_upstream_errors_lose_the_exchange_text(error: MarketCacheError, reason: str) -> None:
    shown = public(error, "binance", "ohlcv")
    assert type(shown) is type(error)
    assert shown.message == reason
    assert shown.retry_after == error.retry_after
    assert shown.status == error.status


@pytest.mark.parametrize(
    "error", [UnknownSymbol("XXX/YYY", ["XRP/USDT"]), InvalidParameter("limit", "too big")]
)
def test_errors_about_the_request_keep_their_message(error: MarketCacheError) -> None:
    assert public(error, "binance", "ohlcv") is error
