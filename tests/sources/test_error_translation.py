"""ccxt's errors (and aiohttp's, asyncio's) translated into ours: one test per class mapped."""

from __future__ import annotations

import aiohttp
import ccxt
import pytest

from marketcache.errors import (
    BadResponse,
    ExchangeUnavailable,
    InvalidParameter,
    RateLimited,
    UnknownSymbol,
    UpstreamTimeout,
)
from marketcache.sources.errors import RegionRefused, public, retry_after, translate

BINANCE_429 = "binance 429 Too Many Requests {'code':-1003,'msg':'Too many requests'}"


def test_ddos_protection_429_is_rate_limited_with_retry_after_header() -> None:
    error = translate(ccxt.DDoSProtection(BINANCE_429), {"Retry-After": "7"})
    assert type(error) is RateLimited
    assert error.retry_after == 7.0
    assert error.status == 429


def test_ddos_protection_418_ban_is_rate_limited() -> None:
    error = translate(ccxt.DDoSProtection("binance 418 I'm a teapot"), {"retry-after": "120"})
    assert type(error) is RateLimited
    assert error.retry_after == 120.0


def test_rate_limit_exceeded_is_rate_limited_without_retry_after_when_unknown() -> None:
    error = translate(ccxt.RateLimitExceeded("throttle queue is over maxCapacity"), {})
    assert type(error) is RateLimited
    assert error.retry_after is None


def test_request_timeout_is_upstream_timeout() -> None:
    error = translate(ccxt.RequestTimeout("binance GET https://api.binance.com/api/v3/time"))
    assert type(error) is UpstreamTimeout
    assert error.status == 503


def test_exchange_not_available_is_exchange_unavailable() -> None:
    error = translate(ccxt.ExchangeNotAvailable("binance GET ... 503 Service Unavailable"), None)
    assert type(error) is ExchangeUnavailable
    assert error.retry_after is None


def test_on_maintenance_is_exchange_unavailable_with_retry_after() -> None:
    error = translate(ccxt.OnMaintenance("system maintenance"), {"Retry-After": "300"})
    assert type(error) is ExchangeUnavailable
    assert error.retry_after == 300.0


BINANCE_451 = (
    "binance GET https://api.binance.com/api/v3/exchangeInfo 451 Unavailable For Legal Reasons "
    '{"code":0,"msg":"Service unavailable from a restricted location"}'
)


def test_451_is_region_refused_and_says_what_to_do() -> None:
    error = translate(ccxt.ExchangeNotAvailable(BINANCE_451))
    assert type(error) is RegionRefused
    assert isinstance(error, ExchangeUnavailable)
    assert public(error, "binance", "markets").message == (
        "binance refuses requests from this region (HTTP 451); "
        "set EXCHANGE=binanceus or run with --offline"
    )
    assert public(error, "kraken", "ticker").message == (
        "kraken refuses requests from this region (HTTP 451); "
        "set EXCHANGE to another exchange or run with --offline"
    )


def test_451_elsewhere_in_the_text_is_not_a_region_refusal() -> None:
    text = "binance GET https://api.binance.com/api/v3/klines?limit=451 503 Service Unavailable"
    assert type(translate(ccxt.ExchangeNotAvailable(text))) is ExchangeUnavailable


def test_network_error_is_exchange_unavailable() -> None:
    error = translate(ccxt.NetworkError("connection reset"))
    assert type(error) is ExchangeUnavailable


def test_invalid_nonce_a_network_error_subclass_is_exchange_unavailable() -> None:
    assert type(translate(ccxt.InvalidNonce("nonce"))) is ExchangeUnavailable


def test_bad_symbol_is_unknown_symbol_of_the_requested_symbol() -> None:
    error = translate(
        ccxt.BadSymbol("binance does not have market symbol XYZ/USDT"), symbol="XYZ/USDT"
    )
    assert type(error) is UnknownSymbol
    assert error.symbol == "XYZ/USDT"
    assert error.status == 404


def test_bad_request_is_invalid_parameter() -> None:
    error = translate(ccxt.BadRequest('binance {"code":-1120,"msg":"Invalid interval."}'))
    assert type(error) is InvalidParameter
    assert "Invalid interval" in error.message


def test_ccxt_bad_response_is_bad_response() -> None:
    assert type(translate(ccxt.BadResponse("unexpected body"))) is BadResponse


def test_null_response_is_bad_response() -> None:
    error = translate(ccxt.NullResponse("binance fetchTicker() returned empty response"))
    assert type(error) is BadResponse


def test_authentication_error_is_exchange_unavailable() -> None:
    assert type(translate(ccxt.AuthenticationError("401"))) is ExchangeUnavailable


def test_permission_denied_is_exchange_unavailable() -> None:
    assert type(translate(ccxt.PermissionDenied("403 WAF"))) is ExchangeUnavailable


def test_not_supported_is_exchange_unavailable() -> None:
    assert (
        type(translate(ccxt.NotSupported("fetchOHLCV() is not supported"))) is ExchangeUnavailable
    )


def test_exchange_error_is_bad_response() -> None:
    # ccxt raises a bare ExchangeError for aiohttp payload errors (a truncated body)
    # and for error codes it does not know.
    error = translate(ccxt.ExchangeError('binance {"code":-1000,"msg":"unknown"}'))
    assert type(error) is BadResponse


def test_base_error_fallback_is_exchange_unavailable() -> None:
    assert type(translate(ccxt.BaseError("something else"))) is ExchangeUnavailable


def test_operation_failed_is_exchange_unavailable() -> None:
    assert type(translate(ccxt.OperationFailed("failed"))) is ExchangeUnavailable


def test_asyncio_timeout_is_upstream_timeout() -> None:
    assert type(translate(TimeoutError())) is UpstreamTimeout


def test_aiohttp_server_timeout_is_upstream_timeout() -> None:
    assert type(translate(aiohttp.ServerTimeoutError("read timeout"))) is UpstreamTimeout


def test_aiohttp_client_error_is_exchange_unavailable() -> None:
    assert type(translate(aiohttp.ClientPayloadError("truncated"))) is ExchangeUnavailable
    assert type(translate(ConnectionRefusedError(111, "refused"))) is ExchangeUnavailable


def test_parse_crash_inside_ccxt_is_bad_response() -> None:
    error = translate(TypeError("'NoneType' object is not subscriptable"))
    assert type(error) is BadResponse
    assert "TypeError" in error.message


def test_our_own_error_passes_through_unchanged() -> None:
    mine = BadResponse("rows of None")
    assert translate(mine) is mine


def test_long_messages_are_cut() -> None:
    error = translate(ccxt.ExchangeError("x" * 10_000))
    assert len(error.message) < 400


def test_retry_after_from_message_when_no_header() -> None:
    assert retry_after({}, "banned; Retry-After: 30") == 30.0
    assert retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, "") is None
    assert retry_after({"Retry-After": "-1"}, "") is None
    assert retry_after(None, "") is None


@pytest.mark.parametrize("name", ["Retry-After", "retry-after", "RETRY-AFTER"])
def test_retry_after_header_in_any_case(name: str) -> None:
    assert retry_after({name: " 2.5 "}) == 2.5
